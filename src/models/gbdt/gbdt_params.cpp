// Parameters of histogram gradient boosting: scikit-learn's names, defaults and validation.
#include <cmath>
#include <string>

#include "models/linear/solve_params.hpp"
#include "tabula/core/error.hpp"
#include "tabula/models/gbdt/gbdt.hpp"

namespace tabula {
namespace {

constexpr const char* kModel = "gbdt";
// scikit-learn turns early_stopping='auto' on above this many rows.
constexpr std::int64_t kAutoEarlyStoppingRows = 10000;

bool is_none(const std::string& v) { return v == "None" || v == "none" || v == "null"; }

std::int64_t int_at_least(const std::string& key, const std::string& v, std::int64_t lo) {
  const long long n = models::parse_int_param(kModel, key, v);
  if (n < lo) throw models::bad_param(kModel, key, v, "an integer >= " + std::to_string(lo));
  return n;
}

std::optional<std::int64_t> int_or_none(const std::string& key, const std::string& v,
                                        std::int64_t lo) {
  if (is_none(v)) return std::nullopt;
  const long long n = models::parse_int_param(kModel, key, v);
  if (n < lo)
    throw models::bad_param(kModel, key, v, "an integer >= " + std::to_string(lo) + " or None");
  return n;
}

GbdtLoss parse_loss(const std::string& v, Task task) {
  const bool classifier = task == Task::kClassification;
  if (v == "log_loss") {
    if (!classifier)
      throw InputError(
          "model 'gbdt': parameter loss='log_loss' needs a classification target (class "
          "labels); this target is continuous: use loss=squared_error, or --task "
          "classification");
    return GbdtLoss::kLogLoss;
  }
  if (v == "squared_error" || v == "absolute_error") {
    if (classifier)
      throw InputError("model 'gbdt': parameter loss='" + v +
                       "' is for regression; a classifier "
                       "fits log_loss (or train a gbdt-regressor on a numeric target)");
    return v == "squared_error" ? GbdtLoss::kSquaredError : GbdtLoss::kAbsoluteError;
  }
  throw models::bad_param(kModel, "loss", v,
                          classifier ? "log_loss"
                                     : "squared_error or absolute_error (poisson, gamma "
                                       "and quantile are not supported yet)");
}

// Parameters of scikit-learn's estimators that tabula accepts at their defaults only.
void check_default_only(const std::string& key, const std::string& v) {
  if (key == "scoring" && v != "loss")
    throw models::bad_param(kModel, key, v, "loss (the only early-stopping score supported)");
  if ((key == "monotonic_cst" || key == "interaction_cst") && !is_none(v) && v != "from_dtype")
    throw models::bad_param(kModel, key, v, "None (not supported yet)");
  if (key == "warm_start" && models::parse_bool_param(kModel, key, v))
    throw models::bad_param(kModel, key, v, "false (not supported)");
}

}  // namespace

// long: one branch per scikit-learn parameter name, in its documented order.
GbdtParams GbdtParams::parse(const ParamMap& params, Task task) {
  models::check_known_params(kModel, params,
                             {"loss",
                              "learning_rate",
                              "max_iter",
                              "max_leaf_nodes",
                              "max_depth",
                              "min_samples_leaf",
                              "l2_regularization",
                              "max_features",
                              "max_bins",
                              "categorical_features",
                              "monotonic_cst",
                              "interaction_cst",
                              "warm_start",
                              "early_stopping",
                              "scoring",
                              "validation_fraction",
                              "n_iter_no_change",
                              "tol",
                              "verbose",
                              "random_state",
                              "class_weight"});
  GbdtParams p;
  p.loss = task == Task::kClassification ? GbdtLoss::kLogLoss : GbdtLoss::kSquaredError;
  for (const auto& [key, v] : params) {
    if (key == "loss") {
      p.loss = parse_loss(v, task);
    } else if (key == "learning_rate") {
      p.learning_rate = models::parse_double_param(kModel, key, v);
      if (!(p.learning_rate > 0)) throw models::bad_param(kModel, key, v, "a number > 0");
    } else if (key == "max_iter") {
      p.max_iter = int_at_least(key, v, 1);
    } else if (key == "max_leaf_nodes") {
      p.max_leaf_nodes = int_or_none(key, v, 2);
    } else if (key == "max_depth") {
      p.max_depth = int_or_none(key, v, 1);
    } else if (key == "min_samples_leaf") {
      p.min_samples_leaf = int_at_least(key, v, 1);
    } else if (key == "l2_regularization") {
      p.l2_regularization = models::parse_double_param(kModel, key, v);
      if (p.l2_regularization < 0) throw models::bad_param(kModel, key, v, "a number >= 0");
    } else if (key == "max_features") {
      p.max_features = models::parse_double_param(kModel, key, v);
      if (!(p.max_features > 0) || p.max_features > 1)
        throw models::bad_param(kModel, key, v, "a fraction in (0, 1]");
    } else if (key == "max_bins") {
      p.max_bins = static_cast<int>(int_at_least(key, v, 2));
      if (p.max_bins > 255)
        throw models::bad_param(kModel, key, v, "an integer in 2..255 (plus a missing-value bin)");
    } else if (key == "early_stopping") {
      p.early_stopping =
          v == "auto" ? "auto" : (models::parse_bool_param(kModel, key, v) ? "true" : "false");
    } else if (key == "validation_fraction") {
      if (is_none(v)) {
        p.validation_fraction.reset();
      } else {
        p.validation_fraction = models::parse_double_param(kModel, key, v);
        if (!(*p.validation_fraction > 0) || *p.validation_fraction >= 1)
          throw models::bad_param(kModel, key, v, "a fraction in (0, 1) or None");
      }
    } else if (key == "n_iter_no_change") {
      p.n_iter_no_change = int_at_least(key, v, 1);
    } else if (key == "tol") {
      p.tol = models::parse_double_param(kModel, key, v);
      if (p.tol < 0) throw models::bad_param(kModel, key, v, "a number >= 0");
    } else if (key == "random_state") {
      if (is_none(v))
        p.random_state.reset();
      else
        p.random_state = static_cast<std::uint64_t>(models::parse_int_param(kModel, key, v));
    } else if (key == "categorical_features") {
      p.categorical_features = CategoricalFeatures::parse(v);
    } else if (key == "class_weight") {
      if (task != Task::kClassification && !is_none(v))
        throw models::bad_param(kModel, key, v, "None: class_weight applies to classifiers only");
      p.class_weight = is_none(v) ? "" : v;
      // Class indices are checked at fit time; the shape now.
      if (!p.class_weight.empty() && p.class_weight != "balanced" &&
          p.class_weight.find(':') == std::string::npos)
        throw models::bad_param(kModel, key, v, "balanced or 'class:weight,...'");
    } else {
      check_default_only(key, v);  // verbose: accepted and ignored
    }
  }
  return p;
}

nlohmann::json GbdtParams::to_json() const {
  const auto optional = [](const auto& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  nlohmann::json j;
  j["loss"] = loss_name();
  j["learning_rate"] = learning_rate;
  j["max_iter"] = max_iter;
  j["max_leaf_nodes"] = optional(max_leaf_nodes);
  j["max_depth"] = optional(max_depth);
  j["min_samples_leaf"] = min_samples_leaf;
  j["l2_regularization"] = l2_regularization;
  j["max_features"] = max_features;
  j["max_bins"] = max_bins;
  j["categorical_features"] = categorical_features.to_json();
  j["early_stopping"] = early_stopping;
  j["validation_fraction"] = optional(validation_fraction);
  j["n_iter_no_change"] = n_iter_no_change;
  j["tol"] = tol;
  j["random_state"] = optional(random_state);
  if (loss == GbdtLoss::kLogLoss)  // the classifiers' loss
    j["class_weight"] =
        class_weight.empty() ? nlohmann::json(nullptr) : nlohmann::json(class_weight);
  return j;
}

std::string GbdtParams::loss_name() const {
  switch (loss) {
    case GbdtLoss::kSquaredError:
      return "squared_error";
    case GbdtLoss::kAbsoluteError:
      return "absolute_error";
    case GbdtLoss::kLogLoss:
      break;
  }
  return "log_loss";
}

bool GbdtParams::early_stopping_on(std::int64_t n_samples) const {
  if (early_stopping == "auto") return n_samples > kAutoEarlyStoppingRows;
  return early_stopping == "true";
}

}  // namespace tabula

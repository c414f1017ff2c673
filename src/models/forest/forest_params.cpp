// Parameters of the random forests: scikit-learn names, defaults and validation.
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include "tabula/core/error.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {
namespace {

[[noreturn]] void bad(std::string_view key, std::string_view value, std::string_view expected) {
  throw InputError("forest: parameter " + std::string(key) + "=" + std::string(value) +
                   ": expected " + std::string(expected));
}

bool is_none(std::string_view v) { return v == "None" || v == "none" || v == "null" || v.empty(); }

bool looks_integral(std::string_view v) { return v.find_first_of(".eE") == std::string_view::npos; }

std::int64_t parse_int(std::string_view key, std::string_view v, std::string_view expected) {
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size()) bad(key, v, expected);
  return out;
}

double parse_double(std::string_view key, std::string_view v, std::string_view expected) {
  try {
    std::size_t used = 0;
    const double out = std::stod(std::string(v), &used);
    if (used != v.size() || !std::isfinite(out)) bad(key, v, expected);
    return out;
  } catch (const std::logic_error&) {
    bad(key, v, expected);
  }
}

bool parse_bool(std::string_view key, std::string_view v) {
  if (v == "true" || v == "True" || v == "1") return true;
  if (v == "false" || v == "False" || v == "0") return false;
  bad(key, v, "true or false");
}

// scikit-learn's int-or-float amounts: an integer >= min_count, or a fraction in (0, max_frac].
ForestAmount parse_amount(std::string_view key, std::string_view v, std::int64_t min_count,
                          double max_fraction, bool fraction_open_top) {
  const std::string expected = "an integer >= " + std::to_string(min_count) +
                               " or a fraction in (0, " + (fraction_open_top ? "1)" : "1]");
  if (looks_integral(v)) {
    const std::int64_t n = parse_int(key, v, expected);
    if (n < min_count) bad(key, v, expected);
    return {static_cast<double>(n), false};
  }
  const double f = parse_double(key, v, expected);
  if (!(f > 0.0) || f > max_fraction || (fraction_open_top && f >= 1.0)) bad(key, v, expected);
  return {f, true};
}

}  // namespace

std::int64_t ForestAmount::resolve(std::int64_t rows) const {
  if (!is_fraction) return static_cast<std::int64_t>(value);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(value * rows)));
}

std::int64_t ForestMaxFeatures::resolve(std::int64_t d) const {
  std::int64_t m = d;
  switch (kind) {
    case Kind::kSqrt:
      m = static_cast<std::int64_t>(std::sqrt(static_cast<double>(d)));
      break;
    case Kind::kLog2:
      m = static_cast<std::int64_t>(std::log2(static_cast<double>(d)));
      break;
    case Kind::kAll:
      m = d;
      break;
    case Kind::kFraction:
      m = static_cast<std::int64_t>(value * static_cast<double>(d));
      break;
    case Kind::kCount:
      m = static_cast<std::int64_t>(value);
      if (m > d)
        throw InputError("forest: parameter max_features=" + std::to_string(m) +
                         " is larger than the number of features (" + std::to_string(d) + ")");
      break;
  }
  return std::clamp<std::int64_t>(m, 1, d);
}

std::string ForestMaxFeatures::to_string() const {
  switch (kind) {
    case Kind::kSqrt:
      return "sqrt";
    case Kind::kLog2:
      return "log2";
    case Kind::kAll:
      return "None";
    case Kind::kCount:
      return std::to_string(static_cast<std::int64_t>(value));
    case Kind::kFraction:
      return std::to_string(value);
  }
  return "";
}

// long: one branch per scikit-learn parameter name, in its documented order, then the checks
// across parameters; a table would need a parser per type for the same lines.
ForestParams ForestParams::parse(const ParamMap& params, Task task) {
  const bool classifier = task == Task::kClassification;
  ForestParams p;
  p.criterion = classifier ? ForestCriterion::kGini : ForestCriterion::kSquaredError;
  p.criterion_name = classifier ? "gini" : "squared_error";
  p.max_features.kind = classifier ? ForestMaxFeatures::Kind::kSqrt : ForestMaxFeatures::Kind::kAll;
  for (const auto& [key, v] : params) {
    if (key == "n_estimators") {
      p.n_estimators = parse_int(key, v, "an integer >= 1");
      if (p.n_estimators < 1) bad(key, v, "an integer >= 1");
    } else if (key == "max_depth") {
      if (is_none(v)) {
        p.max_depth.reset();
      } else {
        p.max_depth = parse_int(key, v, "an integer >= 1 or None");
        if (*p.max_depth < 1) bad(key, v, "an integer >= 1 or None");
      }
    } else if (key == "min_samples_split") {
      p.min_samples_split = parse_amount(key, v, 2, 1.0, false);
    } else if (key == "min_samples_leaf") {
      p.min_samples_leaf = parse_amount(key, v, 1, 1.0, true);
    } else if (key == "min_impurity_decrease") {
      p.min_impurity_decrease = parse_double(key, v, "a number >= 0");
      if (p.min_impurity_decrease < 0) bad(key, v, "a number >= 0");
    } else if (key == "max_features") {
      using Kind = ForestMaxFeatures::Kind;
      if (v == "sqrt" || v == "auto") {
        p.max_features = {Kind::kSqrt, 0};
      } else if (v == "log2") {
        p.max_features = {Kind::kLog2, 0};
      } else if (is_none(v)) {
        p.max_features = {Kind::kAll, 0};
      } else {
        const ForestAmount a = parse_amount(key, v, 1, 1.0, false);
        p.max_features = {a.is_fraction ? Kind::kFraction : Kind::kCount, a.value};
      }
    } else if (key == "max_leaf_nodes") {
      if (is_none(v)) {
        p.max_leaf_nodes.reset();
      } else {
        p.max_leaf_nodes = parse_int(key, v, "an integer >= 2 or None");
        if (*p.max_leaf_nodes < 2) bad(key, v, "an integer >= 2 or None");
      }
    } else if (key == "bootstrap") {
      p.bootstrap = parse_bool(key, v);
    } else if (key == "max_samples") {
      if (is_none(v))
        p.max_samples.reset();
      else
        p.max_samples = parse_amount(key, v, 1, 1.0, false);
    } else if (key == "criterion") {
      const bool ok_cls = v == "gini" || v == "entropy" || v == "log_loss";
      const bool ok_reg = v == "squared_error";
      if (classifier ? !ok_cls : !ok_reg)
        bad(key, v, classifier ? "gini, entropy or log_loss" : "squared_error");
      p.criterion_name = v;
      p.criterion = v == "gini"            ? ForestCriterion::kGini
                    : v == "squared_error" ? ForestCriterion::kSquaredError
                                           : ForestCriterion::kEntropy;
    } else if (key == "class_weight") {
      // None is accepted for regressors: earlier versions stored class_weight: null
      // for every forest, and None means "no class weights" for either task.
      if (!classifier && !is_none(v)) bad(key, v, "None: class_weight applies to classifiers only");
      p.class_weight = is_none(v) ? "" : v;
    } else if (key == "redraw_features") {
      p.redraw_features = parse_bool(key, v);
    } else if (key == "oob_score") {
      p.oob_score = parse_bool(key, v);
    } else if (key == "random_state") {
      if (is_none(v))
        p.random_state.reset();
      else
        p.random_state = static_cast<std::uint64_t>(parse_int(key, v, "an integer or None"));
    } else if (key == "max_bins") {
      const std::int64_t b = parse_int(key, v, "an integer in 2..256");
      if (b < 2 || b > 256) bad(key, v, "an integer in 2..256 (the missing-value bin included)");
      p.max_bins = static_cast<int>(b);
    } else if (key == "n_jobs" || key == "verbose" || key == "warm_start" || key == "ccp_alpha" ||
               key == "min_weight_fraction_leaf") {
      // Accepted for scikit-learn compatibility only at their defaults.
      if (key == "ccp_alpha" || key == "min_weight_fraction_leaf") {
        if (parse_double(key, v, "0") != 0.0) bad(key, v, "0 (not supported)");
      }
    } else {
      throw InputError(
          "forest: unknown parameter '" + key +
          "' (known: n_estimators, max_depth, min_samples_split, min_samples_leaf, "
          "min_impurity_decrease, max_features, max_leaf_nodes, bootstrap, max_samples, "
          "criterion, class_weight, oob_score, random_state, max_bins, redraw_features)");
    }
  }
  if (p.oob_score && !p.bootstrap)
    throw InputError(
        "forest: oob_score=true needs bootstrap=true (no row is out of bag otherwise)");
  if (!p.class_weight.empty() && p.class_weight != "balanced" &&
      p.class_weight != "balanced_subsample") {
    // Validated fully at fit time (class indices); check the shape now.
    if (p.class_weight.find(':') == std::string::npos)
      bad("class_weight", p.class_weight, "balanced, balanced_subsample or 'class:weight,...'");
  }
  return p;
}

nlohmann::json ForestParams::to_json() const {
  const auto amount = [](const ForestAmount& a) -> nlohmann::json {
    if (a.is_fraction) return a.value;
    return static_cast<std::int64_t>(a.value);
  };
  nlohmann::json j;
  j["n_estimators"] = n_estimators;
  j["max_depth"] = max_depth ? nlohmann::json(*max_depth) : nlohmann::json(nullptr);
  j["min_samples_split"] = amount(min_samples_split);
  j["min_samples_leaf"] = amount(min_samples_leaf);
  j["min_impurity_decrease"] = min_impurity_decrease;
  j["max_features"] = max_features.to_string();
  j["max_leaf_nodes"] = max_leaf_nodes ? nlohmann::json(*max_leaf_nodes) : nlohmann::json(nullptr);
  j["bootstrap"] = bootstrap;
  j["max_samples"] = max_samples ? amount(*max_samples) : nlohmann::json(nullptr);
  j["criterion"] = criterion_name;
  // Regressors (the only squared_error forests) have no class_weight, as in scikit-learn.
  if (criterion != ForestCriterion::kSquaredError)
    j["class_weight"] =
        class_weight.empty() ? nlohmann::json(nullptr) : nlohmann::json(class_weight);
  j["oob_score"] = oob_score;
  j["random_state"] = random_state ? nlohmann::json(*random_state) : nlohmann::json(nullptr);
  j["max_bins"] = max_bins;
  j["redraw_features"] = redraw_features;
  return j;
}

}  // namespace tabula

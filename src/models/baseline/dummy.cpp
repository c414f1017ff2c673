// Baselines with scikit-learn's semantics (DummyRegressor, DummyClassifier).
#include "tabula/models/baseline/dummy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>

#include "artifact/validate.hpp"
#include "distributed/reduce.hpp"
#include "distributed/select.hpp"
#include "metrics/pairwise_sum.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

void check_params(const ParamMap& params, std::initializer_list<std::string_view> known,
                  std::string_view which) {
  for (const auto& [key, value] : params) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    throw InputError("model 'dummy' (" + std::string(which) + "): unknown parameter '" + key +
                     "' (known: " + list + ")");
  }
}

void check_rows(const FitData& data) {
  const auto n = static_cast<std::size_t>(data.x.rows);
  if (data.y.size() != n || n == 0)
    throw InputError("model 'dummy': needs at least one row and one target value per row");
  if (!data.sample_weight.empty() && data.sample_weight.size() != n)
    throw InputError("model 'dummy': sample_weight needs one value per row");
}

/// A uniform draw in [0, 1) from 53 random bits, the same on every standard library.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

// ---- DummyRegressor -----------------------------------------------------------------------------

DummyRegressorParams DummyRegressorParams::parse(const ParamMap& params) {
  check_params(params, {"strategy", "quantile"}, "regressor");
  DummyRegressorParams p;
  if (auto it = params.find("strategy"); it != params.end()) p.strategy = it->second;
  if (p.strategy != "mean" && p.strategy != "median" && p.strategy != "quantile")
    throw InputError("model 'dummy': parameter strategy='" + p.strategy +
                     "': expected mean, median or quantile for a regression target");
  if (auto it = params.find("quantile"); it != params.end()) {
    double q = 0.0;
    const char* end = it->second.data() + it->second.size();
    const auto [ptr, ec] = std::from_chars(it->second.data(), end, q);
    if (ec != std::errc() || ptr != end || !(q >= 0.0 && q <= 1.0))
      throw InputError("model 'dummy': parameter quantile='" + it->second +
                       "': expected a number between 0 and 1");
    p.quantile = q;
  }
  if (p.strategy == "quantile" && p.quantile < 0.0)
    throw InputError("model 'dummy': strategy=quantile needs parameter quantile (0..1)");
  return p;
}

nlohmann::json DummyRegressorParams::to_json() const {
  return {{"strategy", strategy},
          {"quantile", quantile < 0.0 ? nlohmann::json(nullptr) : nlohmann::json(quantile)}};
}

// Over ranks (FitData::comm) the sums are all-reduced and the median and quantile are selected
// exactly from every rank's values (distributed::select_over_ranks), so the constant is the
// one-process constant (the mean to rounding: its sums are added in another order).
void DummyRegressor::fit(Backend&, const FitData& data) {
  check_rows(data);
  if (params_.strategy == "mean") {
    double sum = 0.0, total = 0.0;
    if (data.sample_weight.empty()) {
      sum = metrics::detail::pairwise_sum(data.y);
      total = static_cast<double>(data.y.size());
    } else {
      std::vector<double> weighted(data.y.size());
      for (std::size_t i = 0; i < weighted.size(); ++i)
        weighted[i] = data.y[i] * data.sample_weight[i];
      sum = metrics::detail::pairwise_sum(weighted);
      total = metrics::detail::pairwise_sum(data.sample_weight);
    }
    std::vector<double> sums{sum, total};
    distributed::sum_over_ranks(data.comm, sums);
    if (!(sums[1] > 0.0)) throw InputError("model 'dummy': sample weights sum to zero");
    constant_ = sums[0] / sums[1];
  } else {
    if (!data.sample_weight.empty())
      throw InputError("model 'dummy': strategy=" + params_.strategy +
                       " does not support sample weights");
    constant_ = params_.strategy == "median"
                    ? distributed::median_over_ranks(data.comm, data.y)
                    : distributed::quantile_over_ranks(data.comm, data.y, params_.quantile);
  }
  fitted_ = true;
}

std::vector<double> DummyRegressor::predict(Backend&, MatrixView<const float> x) const {
  if (!fitted_) throw Error("dummy regressor: predict before fit");
  return std::vector<double>(static_cast<std::size_t>(x.rows), constant_);
}

void DummyRegressor::save(ArtifactWriter& out) const {
  out.set("fitted", {{"estimator", "dummy"}, {"task", "regression"}, {"params", params()}});
  const double c[1] = {constant_};
  out.add("constant_", std::span<const double>(c), {1});
}

void DummyRegressor::load(const ArtifactReader& in) {
  const nlohmann::json& fitted = in.header().at("fitted");
  params_.strategy = fitted.at("params").at("strategy").get<std::string>();
  const auto& q = fitted.at("params").at("quantile");
  params_.quantile = q.is_null() ? -1.0 : q.get<double>();
  const std::vector<double> c = in.doubles("constant_");
  artifact::expect_size("constant_", static_cast<std::int64_t>(c.size()), 1,
                        "a regressor predicts one value");
  artifact::expect_finite("constant_", c);
  constant_ = c[0];
  fitted_ = true;
}

nlohmann::json DummyRegressor::summary() const {
  return {{"strategy", params_.strategy}, {"constant_", constant_}};
}

// ---- DummyClassifier ----------------------------------------------------------------------------

DummyClassifierParams DummyClassifierParams::parse(const ParamMap& params) {
  check_params(params, {"strategy", "random_state"}, "classifier");
  DummyClassifierParams p;
  if (auto it = params.find("strategy"); it != params.end()) p.strategy = it->second;
  if (p.strategy != "prior" && p.strategy != "most_frequent" && p.strategy != "stratified")
    throw InputError("model 'dummy': parameter strategy='" + p.strategy +
                     "': expected prior, most_frequent or stratified for a classification target");
  if (auto it = params.find("random_state"); it != params.end()) {
    const char* end = it->second.data() + it->second.size();
    const auto [ptr, ec] = std::from_chars(it->second.data(), end, p.random_state);
    if (ec != std::errc() || ptr != end || p.random_state < 0)
      throw InputError("model 'dummy': parameter random_state='" + it->second +
                       "': expected a non-negative integer");
  }
  return p;
}

nlohmann::json DummyClassifierParams::to_json() const {
  return {
      {"strategy", strategy},
      {"random_state", random_state < 0 ? nlohmann::json(nullptr) : nlohmann::json(random_state)}};
}

void DummyClassifier::fit(Backend&, const FitData& data) {
  check_rows(data);
  if (data.n_classes < 1) throw InputError("model 'dummy': a classifier needs n_classes >= 1");
  std::vector<double> counts(static_cast<std::size_t>(data.n_classes), 0.0);
  for (std::size_t i = 0; i < data.y.size(); ++i) {
    const double c = data.y[i];
    if (!(c >= 0 && c < data.n_classes) || c != std::floor(c))
      throw InputError("model 'dummy': target value " + std::to_string(c) +
                       " is not a class index below " + std::to_string(data.n_classes));
    counts[static_cast<std::size_t>(c)] += data.sample_weight.empty() ? 1.0 : data.sample_weight[i];
  }
  // Over ranks: unit weights count exactly; weighted counts are summed to rounding.
  distributed::sum_over_ranks(data.comm, counts);
  double total = 0.0;
  for (double c : counts) total += c;
  if (!(total > 0.0)) throw InputError("model 'dummy': sample weights sum to zero");
  prior_.resize(counts.size());
  for (std::size_t j = 0; j < counts.size(); ++j) prior_[j] = counts[j] / total;
  seed_ = params_.random_state >= 0 ? static_cast<std::uint64_t>(params_.random_state) : data.seed;
}

std::int64_t DummyClassifier::most_frequent() const {
  return std::max_element(prior_.begin(), prior_.end()) - prior_.begin();
}

std::vector<std::int64_t> DummyClassifier::draw(std::int64_t rows) const {
  // A fresh generator per call, so predict and predict_proba agree and repeat.
  std::mt19937_64 rng(seed_);
  std::vector<std::int64_t> out(static_cast<std::size_t>(rows));
  for (auto& c : out) {
    const double u = uniform(rng);
    double cumulative = 0.0;
    c = static_cast<std::int64_t>(prior_.size()) - 1;
    for (std::size_t j = 0; j < prior_.size(); ++j) {
      cumulative += prior_[j];
      if (u < cumulative && prior_[j] > 0.0) {
        c = static_cast<std::int64_t>(j);
        break;
      }
    }
    while (prior_[static_cast<std::size_t>(c)] == 0.0 && c > 0) --c;  // rounding at the top end
  }
  return out;
}

std::vector<double> DummyClassifier::predict(Backend&, MatrixView<const float> x) const {
  if (prior_.empty()) throw Error("dummy classifier: predict before fit");
  std::vector<double> out(static_cast<std::size_t>(x.rows));
  if (params_.strategy == "stratified") {
    const std::vector<std::int64_t> classes = draw(x.rows);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(classes[i]);
  } else {
    std::fill(out.begin(), out.end(), static_cast<double>(most_frequent()));
  }
  return out;
}

std::vector<double> DummyClassifier::predict_proba(Backend&, MatrixView<const float> x) const {
  if (prior_.empty()) throw Error("dummy classifier: predict_proba before fit");
  const std::size_t k = prior_.size();
  std::vector<double> out(static_cast<std::size_t>(x.rows) * k, 0.0);
  if (params_.strategy == "prior") {
    for (std::size_t i = 0; i < static_cast<std::size_t>(x.rows); ++i)
      std::copy(prior_.begin(), prior_.end(), out.begin() + static_cast<std::ptrdiff_t>(i * k));
  } else if (params_.strategy == "most_frequent") {
    const auto c = static_cast<std::size_t>(most_frequent());
    for (std::size_t i = 0; i < static_cast<std::size_t>(x.rows); ++i) out[i * k + c] = 1.0;
  } else {
    const std::vector<std::int64_t> classes = draw(x.rows);
    for (std::size_t i = 0; i < classes.size(); ++i)
      out[i * k + static_cast<std::size_t>(classes[i])] = 1.0;
  }
  return out;
}

void DummyClassifier::save(ArtifactWriter& out) const {
  out.set(
      "fitted",
      {{"estimator", "dummy"}, {"task", "classification"}, {"params", params()}, {"seed", seed_}});
  out.add("class_prior_", std::span<const double>(prior_),
          {static_cast<std::int64_t>(prior_.size())});
}

void DummyClassifier::load(const ArtifactReader& in) {
  const nlohmann::json& fitted = in.header().at("fitted");
  params_.strategy = fitted.at("params").at("strategy").get<std::string>();
  const auto& rs = fitted.at("params").at("random_state");
  params_.random_state = rs.is_null() ? -1 : artifact::integer(rs, "fitted.params.random_state");
  seed_ = static_cast<std::uint64_t>(artifact::integer(fitted.at("seed"), "fitted.seed"));
  prior_ = in.doubles("class_prior_");
  if (prior_.empty()) artifact::field_error("class_prior_", "no classes");
  artifact::expect_finite("class_prior_", prior_);
  for (double p : prior_)
    if (p < 0 || p > 1) artifact::field_error("class_prior_", "a prior outside 0..1");
}

nlohmann::json DummyClassifier::summary() const {
  return {{"strategy", params_.strategy}, {"class_prior_", prior_}, {"n_classes", prior_.size()}};
}

std::unique_ptr<Estimator> make_dummy(const ParamMap& params, Task task) {
  switch (task) {
    case Task::kClassification:
      return std::make_unique<DummyClassifier>(DummyClassifierParams::parse(params));
    case Task::kRegression:
      return std::make_unique<DummyRegressor>(DummyRegressorParams::parse(params));
    case Task::kTransform:
    case Task::kClustering:
      break;
  }
  throw InputError("model 'dummy' predicts a target; it has no " + std::string(to_string(task)));
}

}  // namespace tabula

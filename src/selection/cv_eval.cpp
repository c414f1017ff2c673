#include "selection/cv_eval.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <utility>

#include "selection/stopwatch.hpp"
#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula::selection {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// No targets (a clustering): none gathered.
std::vector<double> gather(std::span<const double> y, std::span<const std::int64_t> rows) {
  if (y.empty()) return {};
  std::vector<double> out(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) out[r] = y[static_cast<std::size_t>(rows[r])];
  return out;
}

bool any_needs_proba(const std::vector<std::string>& names) {
  for (const std::string& name : names)
    if (metrics::scorer(name).needs_proba) return true;
  return false;
}

/// A seeded, fold-specific subset of `fraction` of the rows (at least one), ascending.
std::vector<std::int64_t> subsample(const std::vector<std::int64_t>& rows, double fraction,
                                    std::uint64_t seed, std::size_t fold) {
  if (fraction >= 1.0) return rows;
  const auto keep = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(rows.size()))));
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(fold), 0x68616c76u};
  std::mt19937_64 rng(seq);
  std::vector<std::int64_t> order = rows;
  // Partial Fisher-Yates: the first `keep` slots are a uniform sample.
  for (std::size_t i = 0; i < keep; ++i) {
    const std::uint64_t span = order.size() - i;
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    std::uint64_t r;
    do r = rng();
    while (r >= limit);
    std::swap(order[i], order[i + r % span]);
  }
  order.resize(keep);
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace

metrics::Rows rows_of(MatrixView<const float> x) {
  TABULA_ASSERT(x.is_row_major() && x.contiguous(), "rows_of: a dense row-major matrix");
  return {std::span<const float>(x.data, static_cast<std::size_t>(x.rows * x.cols)), x.cols};
}

std::vector<float> gather_rows(MatrixView<const float> x, std::span<const std::int64_t> rows) {
  const std::int64_t d = x.cols;
  std::vector<float> out(rows.size() * static_cast<std::size_t>(d));
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::int64_t j = 0; j < d; ++j) out[r * d + j] = x(rows[r], j);
  return out;
}

std::vector<double> score_fold(const CvData& data, std::span<const double> y_true,
                               std::span<const double> pred, std::span<const double> proba,
                               metrics::Rows x) {
  std::vector<double> out;
  for (const std::string& name : data.metrics) {
    const metrics::Scorer& s = metrics::scorer(name);
    if (s.needs_proba && proba.empty()) {
      out.push_back(kNaN);
      continue;
    }
    try {
      out.push_back(metrics::score(name, y_true, pred, proba, data.n_classes, x));
    } catch (const InputError&) {
      out.push_back(kNaN);  // undefined on this fold (one class present, ...)
    }
  }
  return out;
}

namespace {

/// The fold's scores of a fitted estimator on its validation rows. Probabilities only when a
/// metric needs them, from the same walk as the classes where the model allows it (forests).
std::vector<double> score_estimator(Backend& backend, const CvData& data,
                                    const Estimator& estimator, MatrixView<const float> x_test,
                                    const std::vector<double>& y_test, bool want_proba) {
  const Predictor predictor(backend, estimator);
  std::vector<double> pred, proba;
  if (want_proba) {
    try {
      pred = predictor.predict_with_proba(x_test, proba);
    } catch (const Error&) {
      proba.clear();  // no probabilities (e.g. a hard-voting model): those metrics are NaN
    }
  }
  if (pred.empty()) pred = predictor.predict(x_test);
  return score_fold(data, y_test, pred, proba, rows_of(x_test));
}

}  // namespace

FoldScores cv_plain(Backend& backend, const CvData& data, const FoldEncoder& encoder,
                    const std::string& model, const ParamMap& params, Task hint, std::uint64_t seed,
                    double row_fraction) {
  const std::size_t n_folds = data.folds.size();
  FoldScores out;
  out.scores.assign(data.metrics.size(), std::vector<double>(n_folds, kNaN));
  const bool want_proba = data.task == Task::kClassification && any_needs_proba(data.metrics);
  for (std::size_t f = 0; f < n_folds; ++f) {
    const Fold& fold = data.folds[f];
    const std::vector<std::int64_t> train = subsample(fold.train, row_fraction, seed, f);
    const auto fit_start = Clock::now();
    FoldMatrices m;
    if (encoder) {
      m = encoder(train, fold.test);
    } else {
      m.train = gather_rows(data.x, train);
      m.test = gather_rows(data.x, fold.test);
      m.cols = data.x.cols;
    }
    const std::vector<double> y_train = gather(data.y, train);
    std::unique_ptr<Estimator> estimator = make_estimator(model, params, hint);
    FitData fit;
    fit.x = MatrixView<const float>::row_major(m.train.data(),
                                               static_cast<std::int64_t>(train.size()), m.cols);
    fit.y = y_train;
    fit.n_classes = data.n_classes;
    fit.seed = seed;
    fit.feature_names = m.names;
    fit.categorical = m.categorical;
    estimator->fit(backend, fit);
    out.fit_seconds += seconds_since(fit_start);

    const auto score_start = Clock::now();
    const auto test_view = MatrixView<const float>::row_major(
        m.test.data(), static_cast<std::int64_t>(fold.test.size()), m.cols);
    const std::vector<double> y_test = gather(data.y, fold.test);
    const std::vector<double> s =
        score_estimator(backend, data, *estimator, test_view, y_test, want_proba);
    for (std::size_t k = 0; k < s.size(); ++k) out.scores[k][f] = s[k];
    out.score_seconds += seconds_since(score_start);
  }
  out.fit_seconds /= static_cast<double>(n_folds);
  out.score_seconds /= static_cast<double>(n_folds);
  return out;
}

FoldScores cv_forest_shared(Backend& backend, const CvData& data, const SharedBins& shared,
                            const std::string& model, const ParamMap& params, Task hint,
                            std::uint64_t seed, double row_fraction) {
  const std::size_t n_folds = data.folds.size();
  FoldScores out;
  out.scores.assign(data.metrics.size(), std::vector<double>(n_folds, kNaN));
  const bool want_proba = data.task == Task::kClassification && any_needs_proba(data.metrics);
  for (std::size_t f = 0; f < n_folds; ++f) {
    const Fold& fold = data.folds[f];
    const std::vector<std::int64_t> train = subsample(fold.train, row_fraction, seed, f);
    const auto fit_start = Clock::now();
    std::vector<std::int64_t> positions(train.size());
    for (std::size_t i = 0; i < train.size(); ++i)
      positions[i] = shared.position[static_cast<std::size_t>(train[i])];
    std::sort(positions.begin(), positions.end());
    std::unique_ptr<Estimator> estimator = make_estimator(model, params, hint);
    auto* forest = dynamic_cast<RandomForest*>(estimator.get());
    if (!forest) throw Error("cv_forest_shared: model '" + model + "' is not a forest");
    forest->fit_binned(*shared.bins, positions, shared.x, shared.y, {}, data.n_classes, seed);
    out.fit_seconds += seconds_since(fit_start);

    const auto score_start = Clock::now();
    std::vector<std::int64_t> test_positions(fold.test.size());
    for (std::size_t i = 0; i < fold.test.size(); ++i)
      test_positions[i] = shared.position[static_cast<std::size_t>(fold.test[i])];
    const std::vector<float> x_test = gather_rows(shared.x, test_positions);
    const auto test_view = MatrixView<const float>::row_major(
        x_test.data(), static_cast<std::int64_t>(fold.test.size()), shared.x.cols);
    const std::vector<double> y_test = gather(data.y, fold.test);
    const std::vector<double> s =
        score_estimator(backend, data, *estimator, test_view, y_test, want_proba);
    for (std::size_t k = 0; k < s.size(); ++k) out.scores[k][f] = s[k];
    out.score_seconds += seconds_since(score_start);
  }
  out.fit_seconds /= static_cast<double>(n_folds);
  out.score_seconds /= static_cast<double>(n_folds);
  return out;
}

}  // namespace tabula::selection

#include "selection/cv_eval.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <utility>

#include "models/linear/solve.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula::selection {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<double> gather(std::span<const double> y, std::span<const std::int64_t> rows) {
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

/// Statistics of one block of rows (see cv_least_squares).
struct BlockStats {
  double n = 0.0;
  std::vector<double> gram;       // d x d
  std::vector<double> cross;      // d
  std::vector<double> mean, var;  // d
  double y_mean = 0.0;
};

}  // namespace

std::vector<float> gather_rows(MatrixView<const float> x, std::span<const std::int64_t> rows) {
  const std::int64_t d = x.cols;
  std::vector<float> out(rows.size() * static_cast<std::size_t>(d));
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::int64_t j = 0; j < d; ++j) out[r * d + j] = x(rows[r], j);
  return out;
}

std::vector<double> score_fold(const CvData& data, std::span<const double> y_true,
                               std::span<const double> pred, std::span<const double> proba) {
  std::vector<double> out;
  for (const std::string& name : data.metrics) {
    const metrics::Scorer& s = metrics::scorer(name);
    if (s.needs_proba && proba.empty()) {
      out.push_back(kNaN);
      continue;
    }
    try {
      out.push_back(metrics::score(name, y_true, pred, proba, data.n_classes));
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
  return score_fold(data, y_test, pred, proba);
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

std::vector<FoldScores> cv_least_squares(Backend& backend, const CvData& data,
                                         const std::vector<LeastSquaresTrial>& trials) {
  const std::int64_t n = data.x.rows, d = data.x.cols;
  const std::size_t n_folds = data.folds.size(), n_trials = trials.size();
  if (n_folds > 40) throw Error("cv_least_squares: at most 40 folds");
  const auto stats_start = Clock::now();

  // Blocks: rows with the same role (none / train / test) in every fold, coded base 3.
  std::vector<std::uint64_t> role(static_cast<std::size_t>(n), 0);
  std::uint64_t place = 1;
  for (const Fold& fold : data.folds) {
    for (std::int64_t r : fold.train) role[static_cast<std::size_t>(r)] += place;
    for (std::int64_t r : fold.test) role[static_cast<std::size_t>(r)] += 2 * place;
    place *= 3;
  }
  std::map<std::uint64_t, std::vector<std::int64_t>> block_rows;
  for (std::int64_t r = 0; r < n; ++r)
    if (role[static_cast<std::size_t>(r)] != 0)
      block_rows[role[static_cast<std::size_t>(r)]].push_back(r);

  // One pass over the data in all: each row belongs to one block.
  const ResidentMatrix<float> x_dev(backend, data.x);
  const MatrixView<const float> xv = x_dev.view();
  Buffer<double> y_dev = Buffer<double>::from_host(backend, data.y);
  const MatrixView<const double> yv = std::as_const(y_dev).matrix(n, 1, Layout::kRowMajor);
  std::vector<std::uint64_t> codes;
  std::vector<BlockStats> blocks;
  for (const auto& [code, rows] : block_rows) {
    Buffer<std::int64_t> idx = Buffer<std::int64_t>::from_host(backend, rows);
    const RowSubset subset{std::as_const(idx).view()};
    Buffer<double> gram(backend, d * d), cross(backend, d), mean(backend, d), var(backend, d),
        ymean(backend, 1), yvar(backend, 1);
    backend.gram(xv, {}, subset, gram.matrix(d, d, Layout::kColMajor));
    backend.cross_product(xv, yv, {}, subset, cross.matrix(d, 1, Layout::kColMajor));
    backend.column_moments(xv, {}, subset, mean.view(), var.view());
    backend.column_moments(yv, {}, subset, ymean.view(), yvar.view());
    BlockStats b;
    b.n = static_cast<double>(rows.size());
    b.gram = gram.to_host();
    b.cross = cross.to_host();
    b.mean = mean.to_host();
    b.var = var.to_host();
    b.y_mean = ymean.to_host()[0];
    codes.push_back(code);
    blocks.push_back(std::move(b));
  }
  const double stats_seconds = seconds_since(stats_start);

  std::vector<FoldScores> out(n_trials);
  for (FoldScores& s : out)
    s.scores.assign(data.metrics.size(), std::vector<double>(n_folds, kNaN));
  place = 1;
  for (std::size_t f = 0; f < n_folds; ++f, place *= 3) {
    const auto solve_start = Clock::now();
    std::vector<const BlockStats*> parts;
    for (std::size_t b = 0; b < blocks.size(); ++b)
      if ((codes[b] / place) % 3 == 1) parts.push_back(&blocks[b]);
    if (parts.empty()) throw InputError("fold " + std::to_string(f + 1) + " has no training rows");
    // Merged moments (Chan et al.'s pairwise update): what subtracting the test block from the
    // total gives, without the cancellation of raw sums when the means are large.
    double total = 0.0, y_mean = 0.0;
    std::vector<double> mean(static_cast<std::size_t>(d), 0.0);
    for (const BlockStats* b : parts) {
      total += b->n;
      y_mean += b->n * b->y_mean;
      for (std::int64_t j = 0; j < d; ++j) mean[j] += b->n * b->mean[j];
    }
    y_mean /= total;
    for (double& m : mean) m /= total;
    std::vector<double> raw_gram(static_cast<std::size_t>(d * d), 0.0), raw_cross(d, 0.0);
    std::vector<double> centred(static_cast<std::size_t>(d * d), 0.0), centred_cross(d, 0.0);
    for (const BlockStats* b : parts) {
      for (std::int64_t j = 0; j < d; ++j) {
        const double dj = b->mean[j] - mean[j];
        for (std::int64_t i = 0; i < d; ++i) {
          raw_gram[j * d + i] += b->gram[j * d + i];
          const double di = b->mean[i] - mean[i];
          const double within =
              i == j ? b->n * b->var[i] : b->gram[j * d + i] - b->n * b->mean[i] * b->mean[j];
          centred[j * d + i] += within + b->n * di * dj;
        }
        raw_cross[j] += b->cross[j];
        centred_cross[j] +=
            b->cross[j] - b->n * b->mean[j] * b->y_mean + b->n * dj * (b->y_mean - y_mean);
      }
    }
    std::vector<double> coef(n_trials * static_cast<std::size_t>(d)), intercept(n_trials, 0.0);
    // StandardScaler's scale from the same moments: population std, 1 for a constant column.
    std::vector<double> scale(static_cast<std::size_t>(d));
    for (std::int64_t j = 0; j < d; ++j) {
      const double sd = std::sqrt(centred[j * d + j] / total);
      scale[j] = sd < 10.0 * std::numeric_limits<double>::epsilon() ? 1.0 : sd;
    }
    for (std::size_t t = 0; t < n_trials; ++t) {
      const LeastSquaresTrial& trial = trials[t];
      const bool centre = trial.fit_intercept || trial.center;
      std::vector<double> a = centre ? centred : raw_gram;
      std::vector<double> rhs = centre ? centred_cross : raw_cross;
      if (trial.scale)
        for (std::int64_t j = 0; j < d; ++j) {
          for (std::int64_t i = 0; i < d; ++i) a[j * d + i] /= scale[i] * scale[j];
          rhs[j] /= scale[j];
        }
      for (std::int64_t j = 0; j < d; ++j) a[j * d + j] += trial.alpha;
      models::solve_symmetric(backend, a, rhs, d, 1);
      // Back to raw feature space: x -> (x - m) / s folded into the coefficients.
      double offset = trial.fit_intercept ? y_mean : 0.0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double w = trial.scale ? rhs[j] / scale[j] : rhs[j];
        coef[t * d + j] = w;
        if (centre) offset -= mean[j] * w;
      }
      intercept[t] = offset;
    }
    const double solve_seconds = seconds_since(solve_start);

    const auto score_start = Clock::now();
    const Fold& fold = data.folds[f];
    const std::vector<float> x_test = gather_rows(data.x, fold.test);
    const auto m = static_cast<std::int64_t>(fold.test.size());
    const std::vector<double> y_test = gather(data.y, fold.test);
    // All trials' predictions at once: one gemm (m x d) x (d x trials) in float64 on the
    // backend, then the intercepts.
    std::vector<double> x_test_d(x_test.begin(), x_test.end());
    const Buffer<double> x_dev_test = Buffer<double>::from_host(backend, x_test_d);
    const Buffer<double> coef_dev = Buffer<double>::from_host(backend, coef);
    Buffer<double> pred_dev(backend, m * static_cast<std::int64_t>(n_trials));
    const auto n_t = static_cast<std::int64_t>(n_trials);
    backend.gemm(Op::kNone, Op::kTranspose, 1.0, x_dev_test.matrix(m, d, Layout::kRowMajor),
                 coef_dev.matrix(n_t, d, Layout::kRowMajor), 0.0,
                 pred_dev.matrix(m, n_t, Layout::kRowMajor));
    std::vector<double> pred_all = pred_dev.to_host();
    for (std::int64_t i = 0; i < m; ++i)
      for (std::size_t t = 0; t < n_trials; ++t) pred_all[i * n_trials + t] += intercept[t];
    std::vector<double> pred(static_cast<std::size_t>(m));
    for (std::size_t t = 0; t < n_trials; ++t) {
      for (std::int64_t i = 0; i < m; ++i) pred[i] = pred_all[i * n_trials + t];
      const std::vector<double> s = score_fold(data, y_test, pred, {});
      for (std::size_t k = 0; k < s.size(); ++k) out[t].scores[k][f] = s[k];
    }
    const double score_seconds = seconds_since(score_start);
    for (FoldScores& s : out) {
      s.fit_seconds += (stats_seconds / static_cast<double>(n_folds) + solve_seconds) /
                       static_cast<double>(n_trials);
      s.score_seconds += score_seconds / static_cast<double>(n_trials);
    }
  }
  for (FoldScores& s : out) {
    s.fit_seconds /= static_cast<double>(n_folds);
    s.score_seconds /= static_cast<double>(n_folds);
  }
  (void)y_dev;
  return out;
}

}  // namespace tabula::selection

#include "selection/cv_least_squares.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "models/linear/solve.hpp"
#include "selection/stopwatch.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"

namespace tabula::selection {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
/// The StandardScaler a pipeline applies before a least-squares model, when the pipeline is
/// one the shared-statistics path reproduces exactly (numeric columns by type, imputer and/or
/// standard scaler, no missing values, no categorical columns): {center, scale}. Otherwise
/// nullopt and `why` says what prevents it.
std::optional<std::pair<bool, bool>> least_squares_scaling(const PipelineSpec& spec,
                                                           const std::string& table_note,
                                                           std::string* why) {
  if (!spec.after.empty()) {
    *why = "the pipeline has steps after the branches";
    return std::nullopt;
  }
  std::optional<std::pair<bool, bool>> out;
  bool numeric_branch = false;
  for (const BranchSpec& b : spec.branches) {
    if (!b.columns.names.empty() || !b.columns.type) {
      *why = "a pipeline branch selects columns by name";
      return std::nullopt;
    }
    if (*b.columns.type == ColumnType::kCategorical) continue;  // checked below: no such columns
    if (numeric_branch) {
      *why = "two numeric branches";
      return std::nullopt;
    }
    numeric_branch = true;
    std::pair<bool, bool> scaling{false, false};
    for (const StepSpec& step : b.steps) {
      if (step.kind == "SimpleImputer") continue;  // identity without missing values
      if (step.kind != "StandardScaler") {
        *why = "pipeline step " + step.kind + " is not covered by the shared statistics";
        return std::nullopt;
      }
      auto flag = [&](const char* key) {
        auto it = step.params.find(key);
        return it == step.params.end() ||
               (it->second != "false" && it->second != "False" && it->second != "0");
      };
      scaling = {flag("with_mean"), flag("with_std")};
    }
    out = scaling;
  }
  if (!table_note.empty()) {
    *why = table_note;
    return std::nullopt;
  }
  if (!numeric_branch) {
    *why = "no numeric branch";
    return std::nullopt;
  }
  return out;
}

/// What in the table itself rules the shared path out (checked once, not per candidate).
std::string table_note(const Dataset& data) {
  for (const Column& c : data.columns) {
    if (c.type == ColumnType::kCategorical)
      return "categorical column '" + c.name + "': plain per-fold fits";
    if (c.missing_count() > 0)
      return "missing values in column '" + c.name + "': plain per-fold fits (imputation)";
  }
  return {};
}

/// Statistics of one block of rows: rows with the same role (none / train / test) in every fold.
struct BlockStats {
  double n = 0.0;
  std::vector<double> gram;       // d x d
  std::vector<double> cross;      // d
  std::vector<double> mean, var;  // d
  double y_mean = 0.0;
};

/// Each block's rows, keyed by its roles coded base 3 (fold f's role is digit f).
std::map<std::uint64_t, std::vector<std::int64_t>> block_rows(const CvData& data) {
  std::vector<std::uint64_t> role(static_cast<std::size_t>(data.x.rows), 0);
  std::uint64_t place = 1;
  for (const Fold& fold : data.folds) {
    for (std::int64_t r : fold.train) role[static_cast<std::size_t>(r)] += place;
    for (std::int64_t r : fold.test) role[static_cast<std::size_t>(r)] += 2 * place;
    place *= 3;
  }
  std::map<std::uint64_t, std::vector<std::int64_t>> out;
  for (std::int64_t r = 0; r < data.x.rows; ++r)
    if (role[static_cast<std::size_t>(r)] != 0) out[role[static_cast<std::size_t>(r)]].push_back(r);
  return out;
}

/// Every block's statistics, on the backend: one pass over the data in all (each row belongs to
/// one block). `codes` receives each block's role code.
std::vector<BlockStats> block_statistics(Backend& backend, const CvData& data,
                                         std::vector<std::uint64_t>& codes) {
  const std::int64_t n = data.x.rows, d = data.x.cols;
  const ResidentMatrix<float> x_dev(backend, data.x);
  const MatrixView<const float> xv = x_dev.view();
  Buffer<double> y_dev = Buffer<double>::from_host(backend, data.y);
  const MatrixView<const double> yv = std::as_const(y_dev).matrix(n, 1, Layout::kRowMajor);
  std::vector<BlockStats> blocks;
  for (const auto& [code, rows] : block_rows(data)) {
    Buffer<std::int64_t> idx = Buffer<std::int64_t>::from_host(backend, rows);
    const RowSubset subset{std::as_const(idx).view()};
    Buffer<double> gram(backend, d * d), cross(backend, d), mean(backend, d), var(backend, d),
        ymean(backend, 1), yvar(backend, 1);
    backend.linalg().gram(xv, {}, subset, gram.matrix(d, d, Layout::kColMajor));
    backend.linalg().cross_product(xv, yv, {}, subset, cross.matrix(d, 1, Layout::kColMajor));
    backend.linalg().column_moments(xv, {}, subset, mean.view(), var.view());
    backend.linalg().column_moments(yv, {}, subset, ymean.view(), yvar.view());
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
  return blocks;
}

/// One fold's training statistics, merged from its blocks.
struct FoldStats {
  double total = 0.0, y_mean = 0.0;
  std::vector<double> mean;                    // d
  std::vector<double> raw_gram, raw_cross;     // XᵀX, Xᵀy
  std::vector<double> centred, centred_cross;  // about the fold's means
};

/// Merged moments (Chan et al.'s pairwise update): what subtracting the test block from the
/// total gives, without the cancellation of raw sums when the means are large.
FoldStats merge_blocks(const std::vector<const BlockStats*>& parts, std::int64_t d) {
  FoldStats s;
  s.mean.assign(static_cast<std::size_t>(d), 0.0);
  for (const BlockStats* b : parts) {
    s.total += b->n;
    s.y_mean += b->n * b->y_mean;
    for (std::int64_t j = 0; j < d; ++j) s.mean[j] += b->n * b->mean[j];
  }
  s.y_mean /= s.total;
  for (double& m : s.mean) m /= s.total;
  s.raw_gram.assign(static_cast<std::size_t>(d * d), 0.0);
  s.raw_cross.assign(static_cast<std::size_t>(d), 0.0);
  s.centred.assign(static_cast<std::size_t>(d * d), 0.0);
  s.centred_cross.assign(static_cast<std::size_t>(d), 0.0);
  for (const BlockStats* b : parts) {
    for (std::int64_t j = 0; j < d; ++j) {
      const double dj = b->mean[j] - s.mean[j];
      for (std::int64_t i = 0; i < d; ++i) {
        s.raw_gram[j * d + i] += b->gram[j * d + i];
        const double di = b->mean[i] - s.mean[i];
        const double within =
            i == j ? b->n * b->var[i] : b->gram[j * d + i] - b->n * b->mean[i] * b->mean[j];
        s.centred[j * d + i] += within + b->n * di * dj;
      }
      s.raw_cross[j] += b->cross[j];
      s.centred_cross[j] +=
          b->cross[j] - b->n * b->mean[j] * b->y_mean + b->n * dj * (b->y_mean - s.y_mean);
    }
  }
  return s;
}

/// Every trial's coefficients (trials x d, raw feature space) and intercepts on one fold.
void solve_trials(Backend& backend, const FoldStats& s, std::int64_t d,
                  const std::vector<LeastSquaresTrial>& trials, std::vector<double>& coef,
                  std::vector<double>& intercept) {
  // StandardScaler's scale from the same moments: population std, 1 for a constant column.
  std::vector<double> scale(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j) {
    const double sd = std::sqrt(s.centred[j * d + j] / s.total);
    scale[j] = sd < 10.0 * std::numeric_limits<double>::epsilon() ? 1.0 : sd;
  }
  for (std::size_t t = 0; t < trials.size(); ++t) {
    const LeastSquaresTrial& trial = trials[t];
    const bool centre = trial.fit_intercept || trial.center;
    std::vector<double> a = centre ? s.centred : s.raw_gram;
    std::vector<double> rhs = centre ? s.centred_cross : s.raw_cross;
    if (trial.scale)
      for (std::int64_t j = 0; j < d; ++j) {
        for (std::int64_t i = 0; i < d; ++i) a[j * d + i] /= scale[i] * scale[j];
        rhs[j] /= scale[j];
      }
    for (std::int64_t j = 0; j < d; ++j) a[j * d + j] += trial.alpha;
    models::solve_symmetric(backend, a, rhs, d, 1);
    // Back to raw feature space: x -> (x - m) / s folded into the coefficients.
    double offset = trial.fit_intercept ? s.y_mean : 0.0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double w = trial.scale ? rhs[j] / scale[j] : rhs[j];
      coef[t * d + j] = w;
      if (centre) offset -= s.mean[j] * w;
    }
    intercept[t] = offset;
  }
}

/// Every trial's scores on fold `f`'s test rows: all predictions at once, one gemm
/// (m x d) x (d x trials) in float64 on the backend, then the intercepts.
void score_trials(Backend& backend, const CvData& data, std::size_t f,
                  const std::vector<double>& coef, const std::vector<double>& intercept,
                  std::vector<FoldScores>& out) {
  const std::int64_t d = data.x.cols;
  const std::size_t n_trials = intercept.size();
  const Fold& fold = data.folds[f];
  const std::vector<float> x_test = gather_rows(data.x, fold.test);
  const auto m = static_cast<std::int64_t>(fold.test.size());
  std::vector<double> y_test(fold.test.size());
  for (std::size_t r = 0; r < fold.test.size(); ++r)
    y_test[r] = data.y[static_cast<std::size_t>(fold.test[r])];
  std::vector<double> x_test_d(x_test.begin(), x_test.end());
  const Buffer<double> x_dev_test = Buffer<double>::from_host(backend, x_test_d);
  const Buffer<double> coef_dev = Buffer<double>::from_host(backend, coef);
  Buffer<double> pred_dev(backend, m * static_cast<std::int64_t>(n_trials));
  const auto n_t = static_cast<std::int64_t>(n_trials);
  backend.linalg().gemm(Op::kNone, Op::kTranspose, 1.0, x_dev_test.matrix(m, d, Layout::kRowMajor),
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
}

}  // namespace

LeastSquaresTrial LeastSquaresPlan::trial(const std::string& model, const ParamMap& params,
                                          std::size_t candidate, Task task) const {
  const nlohmann::json p = make_estimator(model, params, task)->params();
  const auto [center, scale] = scaling[candidate];
  return {p.value("alpha", 0.0), p.at("fit_intercept").get<bool>(), center, scale};
}

LeastSquaresPlan plan_least_squares(const std::string& model, bool enabled, const Dataset& data,
                                    const std::vector<ParamMap>& model_params,
                                    const std::vector<PipelineSpec>& pipelines) {
  LeastSquaresPlan plan;
  plan.scaling.resize(model_params.size());
  plan.use = enabled && (model == "ridge" || model == "linear");
  if (!plan.use) return plan;
  const std::string table = table_note(data);
  for (std::size_t i = 0; plan.use && i < model_params.size(); ++i) {
    for (const auto& [k, v] : model_params[i])
      if (k != "alpha" && k != "fit_intercept") {
        plan.note = "parameter '" + k + "' is not covered by the shared statistics";
        plan.use = false;
      }
    if (!plan.use) break;
    const auto sc = least_squares_scaling(pipelines[i], table, &plan.note);
    if (!sc)
      plan.use = false;
    else
      plan.scaling[i] = *sc;
  }
  return plan;
}

std::vector<FoldScores> cv_least_squares(Backend& backend, const CvData& data,
                                         const std::vector<LeastSquaresTrial>& trials) {
  const std::int64_t d = data.x.cols;
  const std::size_t n_folds = data.folds.size(), n_trials = trials.size();
  if (n_folds > 40) throw Error("cv_least_squares: at most 40 folds");
  const auto stats_start = Clock::now();
  std::vector<std::uint64_t> codes;
  const std::vector<BlockStats> blocks = block_statistics(backend, data, codes);
  const double stats_seconds = seconds_since(stats_start);

  std::vector<FoldScores> out(n_trials);
  for (FoldScores& s : out)
    s.scores.assign(data.metrics.size(), std::vector<double>(n_folds, kNaN));
  std::uint64_t place = 1;
  for (std::size_t f = 0; f < n_folds; ++f, place *= 3) {
    const auto solve_start = Clock::now();
    std::vector<const BlockStats*> parts;
    for (std::size_t b = 0; b < blocks.size(); ++b)
      if ((codes[b] / place) % 3 == 1) parts.push_back(&blocks[b]);
    if (parts.empty()) throw InputError("fold " + std::to_string(f + 1) + " has no training rows");
    std::vector<double> coef(n_trials * static_cast<std::size_t>(d)), intercept(n_trials, 0.0);
    solve_trials(backend, merge_blocks(parts, d), d, trials, coef, intercept);
    const double solve_seconds = seconds_since(solve_start);

    const auto score_start = Clock::now();
    score_trials(backend, data, f, coef, intercept, out);
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
  return out;
}

}  // namespace tabula::selection

#include "tabula/models/cluster/minibatch_kmeans.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include "artifact/validate.hpp"
#include "distributed/gathered_row_passes.hpp"
#include "models/cluster/distances.hpp"
#include "models/cluster/seeding.hpp"
#include "models/linear/solve_lstsq.hpp"
#include "models/linear/solve_params.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"
#include "tabula/models/row_passes.hpp"

namespace tabula {
namespace {

constexpr const char* kModel = "minibatch-kmeans";

bool is_none(const std::string& v) { return v == "None" || v == "none" || v.empty(); }

std::int64_t int_at_least(const std::string& key, const std::string& value, long long low,
                          const char* what) {
  const long long parsed = models::parse_int_param(kModel, key, value);
  if (parsed < low) throw models::bad_param(kModel, key, value, what);
  return parsed;
}

double weight_of(std::span<const double> weights, std::int64_t i) {
  return weights.empty() ? 1.0 : weights[static_cast<std::size_t>(i)];
}

// Rows `rows` of `x` (row-major) gathered into `out` (rows.size() x d) and their weights.
void gather(MatrixView<const float> x, std::span<const double> weights,
            std::span<const std::int64_t> rows, std::vector<float>& out,
            std::vector<double>& out_weights) {
  const std::int64_t d = x.cols;
  out.resize(rows.size() * static_cast<std::size_t>(d));
  out_weights.clear();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::memcpy(out.data() + r * d, x.data + rows[r] * x.stride,
                static_cast<std::size_t>(d) * sizeof(float));
    if (!weights.empty()) out_weights.push_back(weights[static_cast<std::size_t>(rows[r])]);
  }
}

// A uniform index in [0, n) from one draw (the modulo's bias is below n / 2^64).
std::int64_t draw_index(std::mt19937_64& rng, std::int64_t n) {
  return static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
}

// `total` + Σ w_i ‖x_i - centre(label_i)‖² in float64, row by row in order: a pass cut into
// blocks sums exactly what one block sums.
double add_inertia(double total, MatrixView<const float> x, std::span<const double> weights,
                   std::span<const double> centres, const std::int32_t* labels) {
  for (std::int64_t i = 0; i < x.rows; ++i)
    total += weight_of(weights, i) *
             cluster::exact_sq_distance(x, i, centres.data() + labels[i] * x.cols);
  return total;
}

// The column means of x into `mean`; returns the sum of the columns' variances (the spread
// the distances' shift is judged against, and tol's scale once divided by the width).
double moments(MatrixView<const float> x, std::vector<double>& mean) {
  const std::int64_t n = x.rows, d = x.cols;
  mean.assign(static_cast<std::size_t>(d), 0.0);
  std::vector<double> var(static_cast<std::size_t>(d), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) mean[j] += x(i, j);
  for (double& v : mean) v /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) var[j] += (x(i, j) - mean[j]) * (x(i, j) - mean[j]);
  double spread = 0.0;
  for (double& v : var) spread += (v /= static_cast<double>(n));
  return spread;
}

// Rows the seeding draws from out of `available` (scikit-learn's _init_size): init_size, or
// 3 x batch_size; at least 3 x n_clusters; at most what there is.
std::int64_t seeding_rows(const MiniBatchKMeansParams& params, std::int64_t available) {
  std::int64_t rows = params.init_size.value_or(3 * params.batch_size);
  if (rows < params.n_clusters) rows = 3 * params.n_clusters;
  return std::min(rows, available);
}

// The first centres of a run: given, or seeded on init_size rows drawn from `rows` (with
// replacement, as scikit-learn draws them).
std::vector<double> seed_centres(Backend& backend, const MiniBatchKMeansParams& params,
                                 MatrixView<const float> rows, std::span<const double> weights,
                                 std::int64_t init_size, std::span<const double> shift,
                                 double spread, std::mt19937_64& rng) {
  if (params.init.kind == KMeansInit::kGiven) return params.init.centres;
  std::vector<std::int64_t> picked(static_cast<std::size_t>(init_size));
  for (std::int64_t& row : picked) row = draw_index(rng, rows.rows);
  std::vector<float> init_x;
  std::vector<double> init_w;
  gather(rows, weights, picked, init_x, init_w);
  const cluster::Points points(
      backend, MatrixView<const float>::row_major(init_x.data(), init_size, rows.cols), shift,
      spread);
  return params.init.kind == KMeansInit::kRandom
             ? cluster::random_rows(points, init_w, params.n_clusters, rng)
             : cluster::kmeans_plus_plus(points, init_w, params.n_clusters, rng);
}

}  // namespace

// The mini-batch iterations of scikit-learn's MiniBatchKMeans.fit after the seeding: one step
// per batch, the smoothed batch inertia that stops the fit, the reassignment of starved centres.
// It owns its generator (the windows' shuffles draw from it too) and is kept after a fit, so
// partial_fit goes on from the centres' seen weights.
class MiniBatchKMeans::Steps {
 public:
  Steps(const MiniBatchKMeansParams& params, std::vector<double> centres, std::int64_t n,
        std::int64_t d, std::span<const double> shift, double spread, double tol,
        std::mt19937_64 rng)
      : params_(params),
        k_(params.n_clusters),
        d_(d),
        n_(n),
        shift_(shift.begin(), shift.end()),
        spread_(spread),
        tol_(tol),
        rng_(std::move(rng)),
        centres_(std::move(centres)),
        weight_sums_(static_cast<std::size_t>(k_), 0.0) {}

  bool stopped() const { return stopped_; }
  std::int64_t steps() const { return steps_; }
  std::int64_t cols() const { return d_; }
  const std::vector<double>& centres() const { return centres_; }
  std::span<const double> shift() const { return shift_; }
  double spread() const { return spread_; }
  std::mt19937_64& rng() { return rng_; }

  /// One step on a batch (b x d, row-major; batch_size rows in a fit, any number in
  /// partial_fit).
  void step(Backend& backend, MatrixView<const float> batch, std::span<const double> weights) {
    const cluster::Points points(backend, batch, shift_, spread_);
    const std::vector<std::int32_t> labels = points.nearest(centres_, k_);
    const double batch_inertia = add_inertia(0.0, batch, weights, centres_, labels.data());
    const bool reassign = reassignment_due();
    std::vector<double> before;
    if (tol_ > 0.0) before = centres_;
    // Each centre moves to the weighted mean of everything it has seen (scikit-learn's
    // _mini_batch_update): old centre weighted by its seen weight, plus this batch's rows.
    std::vector<double> sums(static_cast<std::size_t>(k_ * d_), 0.0);
    std::vector<double> batch_weight(static_cast<std::size_t>(k_), 0.0);
    for (std::int64_t i = 0; i < batch.rows; ++i) {
      const double w = weight_of(weights, i);
      const std::int32_t c = labels[static_cast<std::size_t>(i)];
      const float* row = batch.data + i * batch.stride;
      for (std::int64_t j = 0; j < d_; ++j) sums[c * d_ + j] += w * static_cast<double>(row[j]);
      batch_weight[c] += w;
    }
    for (std::int64_t c = 0; c < k_; ++c) {
      if (!(batch_weight[c] > 0.0)) continue;
      const double total = weight_sums_[c] + batch_weight[c];
      for (std::int64_t j = 0; j < d_; ++j)
        centres_[c * d_ + j] = (centres_[c * d_ + j] * weight_sums_[c] + sums[c * d_ + j]) / total;
      weight_sums_[c] = total;
    }
    if (reassign && params_.reassignment_ratio > 0.0) reassign_starved(batch, weights);
    double moved = 0.0;
    if (tol_ > 0.0)
      for (std::size_t i = 0; i < centres_.size(); ++i)
        moved += (centres_[i] - before[i]) * (centres_[i] - before[i]);
    converged(batch_inertia / static_cast<double>(params_.batch_size), moved);
    ++steps_;
  }

 private:
  // scikit-learn's _random_reassign: after every 10 x n_clusters rows, or while a centre has
  // seen no weight at all.
  bool reassignment_due() {
    since_reassign_ += params_.batch_size;
    const bool starved =
        std::any_of(weight_sums_.begin(), weight_sums_.end(), [](double w) { return w == 0.0; });
    if (!starved && since_reassign_ < 10 * k_) return false;
    since_reassign_ = 0;
    return true;
  }

  // Centres that have seen less than reassignment_ratio x the most-seen centre's weight move
  // onto distinct batch rows drawn by weight (at most half the batch, the least-seen first);
  // their seen weight becomes the smallest among the others, so they are not moved again at once.
  void reassign_starved(MatrixView<const float> batch, std::span<const double> weights) {
    const double most = *std::max_element(weight_sums_.begin(), weight_sums_.end());
    std::vector<std::int64_t> starved;
    for (std::int64_t c = 0; c < k_; ++c)
      if (weight_sums_[c] < params_.reassignment_ratio * most) starved.push_back(c);
    const auto limit = static_cast<std::size_t>(batch.rows / 2);
    if (starved.size() > limit) {
      std::stable_sort(starved.begin(), starved.end(), [&](std::int64_t a, std::int64_t b) {
        return weight_sums_[a] < weight_sums_[b];
      });
      starved.resize(limit);
      std::sort(starved.begin(), starved.end());
    }
    if (starved.empty()) return;
    std::vector<double> left(static_cast<std::size_t>(batch.rows));
    for (std::int64_t i = 0; i < batch.rows; ++i) left[i] = weight_of(weights, i);
    double total = std::accumulate(left.begin(), left.end(), 0.0);
    for (std::int64_t c : starved) {
      if (!(total > 0.0)) break;  // fewer weighted rows than starved centres
      const double u = cluster::uniform01(rng_) * total;
      double running = 0.0;
      std::int64_t row = -1;
      for (std::int64_t i = 0; i < batch.rows; ++i) {
        if (!(left[i] > 0.0)) continue;
        row = i;  // past the end by rounding: the last row still weighted
        running += left[i];
        if (running > u) break;
      }
      const float* x = batch.data + row * batch.stride;
      for (std::int64_t j = 0; j < d_; ++j) centres_[c * d_ + j] = static_cast<double>(x[j]);
      total -= left[row];
      left[row] = 0.0;
    }
    double least_other = -1.0;
    for (std::int64_t c = 0; c < k_; ++c)
      if (!std::binary_search(starved.begin(), starved.end(), c) &&
          (least_other < 0.0 || weight_sums_[c] < least_other))
        least_other = weight_sums_[c];
    if (least_other >= 0.0)
      for (std::int64_t c : starved) weight_sums_[c] = least_other;
    spdlog::debug("model '{}': {} centre(s) moved onto batch rows", kModel, starved.size());
  }

  // scikit-learn's _mini_batch_convergence: an exponentially weighted average of the batch
  // inertia (per row), its minimum, and the steps since the minimum last fell.
  void converged(double batch_inertia, double moved) {
    if (steps_ == 0) return;  // the first batch's inertia measures the seeding
    const double alpha =
        std::min(1.0, static_cast<double>(params_.batch_size) * 2.0 / static_cast<double>(n_ + 1));
    ewa_ = steps_ == 1 ? batch_inertia : ewa_ * (1.0 - alpha) + batch_inertia * alpha;
    if (tol_ > 0.0 && moved <= tol_) {
      spdlog::debug("model '{}': converged (centres moved {} <= tol) at step {}", kModel, moved,
                    steps_);
      stopped_ = true;
      return;
    }
    if (steps_ == 1 || ewa_ < ewa_min_) {
      ewa_min_ = ewa_;
      no_improvement_ = 0;
    } else {
      ++no_improvement_;
    }
    if (params_.max_no_improvement && no_improvement_ >= *params_.max_no_improvement) {
      spdlog::debug("model '{}': no lower smoothed inertia in {} steps; stopped at step {}", kModel,
                    no_improvement_, steps_);
      stopped_ = true;
    }
  }

  MiniBatchKMeansParams params_;
  std::int64_t k_, d_, n_;
  std::vector<double> shift_;
  double spread_, tol_;
  std::mt19937_64 rng_;
  std::vector<double> centres_;
  std::vector<double> weight_sums_;
  std::int64_t steps_ = 0, since_reassign_ = 0, no_improvement_ = 0;
  double ewa_ = 0.0, ewa_min_ = 0.0;
  bool stopped_ = false;
};

MiniBatchKMeansParams MiniBatchKMeansParams::parse(const ParamMap& params) {
  models::check_known_params(
      kModel, params,
      {"n_clusters", "init", "max_iter", "batch_size", "tol", "max_no_improvement", "init_size",
       "n_init", "random_state", "reassignment_ratio"});
  MiniBatchKMeansParams out;
  if (const std::string* v = models::find_param(params, "n_clusters"))
    out.n_clusters = int_at_least("n_clusters", *v, 1, "an integer >= 1");
  if (const std::string* v = models::find_param(params, "init"))
    out.init = CentroidInit::parse(kModel, *v, out.n_clusters);
  if (const std::string* v = models::find_param(params, "max_iter"))
    out.max_iter = int_at_least("max_iter", *v, 1, "an integer >= 1");
  if (const std::string* v = models::find_param(params, "batch_size"))
    out.batch_size = int_at_least("batch_size", *v, 1, "an integer >= 1");
  if (const std::string* v = models::find_param(params, "tol")) {
    out.tol = models::parse_double_param(kModel, "tol", *v);
    if (out.tol < 0.0) throw models::bad_param(kModel, "tol", *v, "a number >= 0");
  }
  if (const std::string* v = models::find_param(params, "max_no_improvement"))
    out.max_no_improvement =
        is_none(*v)
            ? std::nullopt
            : std::optional(int_at_least("max_no_improvement", *v, 0, "None or an integer >= 0"));
  if (const std::string* v = models::find_param(params, "init_size"))
    out.init_size =
        is_none(*v) ? std::nullopt
                    : std::optional(int_at_least("init_size", *v, 1, "None or an integer >= 1"));
  if (const std::string* v = models::find_param(params, "n_init"))
    out.n_init = *v == "auto" ? 0 : int_at_least("n_init", *v, 1, "auto or an integer >= 1");
  if (const std::string* v = models::find_param(params, "random_state"); v && !is_none(*v))
    out.random_state =
        static_cast<std::uint64_t>(models::parse_int_param(kModel, "random_state", *v));
  if (const std::string* v = models::find_param(params, "reassignment_ratio")) {
    out.reassignment_ratio = models::parse_double_param(kModel, "reassignment_ratio", *v);
    if (out.reassignment_ratio < 0.0)
      throw models::bad_param(kModel, "reassignment_ratio", *v, "a number >= 0");
  }
  return out;
}

nlohmann::json MiniBatchKMeansParams::to_json() const {
  const auto optional_int = [](const std::optional<std::int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"n_clusters", n_clusters},
          {"init", init.to_json()},
          {"max_iter", max_iter},
          {"batch_size", batch_size},
          {"tol", tol},
          {"max_no_improvement", optional_int(max_no_improvement)},
          {"init_size", optional_int(init_size)},
          {"n_init", n_init == 0 ? nlohmann::json("auto") : nlohmann::json(n_init)},
          {"random_state", random_state ? nlohmann::json(*random_state) : nlohmann::json(nullptr)},
          {"reassignment_ratio", reassignment_ratio}};
}

std::int64_t MiniBatchKMeansParams::runs() const {
  if (init.kind == KMeansInit::kGiven) return 1;
  if (n_init > 0) return n_init;
  return init.kind == KMeansInit::kRandom ? 3 : 1;
}

void MiniBatchKMeans::fit(Backend& backend, const FitData& data) {
  models::check_sample_weights(data.sample_weight, data.x.rows, kModel);
  std::vector<std::int32_t> labels;
  if (data.comm == nullptr || data.comm->size() == 1) {
    MatrixRowPasses rows(data.x, data.sample_weight, data.seed);
    fit_rows(backend, rows, data.seed, &labels);
    return;
  }
  // Over ranks every rank runs the one-process fit on every row, gathered block by block;
  // it keeps its own rows' labels.
  distributed::GatheredRowPasses rows(data.x, data.sample_weight, *data.comm, data.seed);
  fit_rows(backend, rows, data.seed, &labels);
  const std::vector<std::int32_t>& all = this->labels();
  set_labels({all.begin() + rows.offset(), all.begin() + rows.offset() + data.x.rows});
}

void MiniBatchKMeans::fit_passes(Backend& backend, RowPasses& rows, std::uint64_t seed) {
  fit_rows(backend, rows, seed, nullptr);
}

// long: scikit-learn's MiniBatchKMeans.fit over passes: checks and the tolerance's scale from
// the sample, n_init seedings on init_size sampled rows judged on a sampled batch, then epochs
// of steps over windows of shuffled rows until the smoothed inertia stops falling, and a last
// pass for the labels and the inertia.
void MiniBatchKMeans::fit_rows(Backend& backend, RowPasses& rows, std::uint64_t seed,
                               std::vector<std::int32_t>* labels) {
  const std::int64_t n = rows.rows(), d = rows.cols(), k = params_.n_clusters;
  const std::int64_t batch_size = params_.batch_size;
  if (d == 0) throw InputError("model 'minibatch-kmeans': no feature columns");
  if (k > n)
    throw InputError("model 'minibatch-kmeans': n_samples=" + std::to_string(n) +
                     " should be >= n_clusters=" + std::to_string(k));
  params_.init.check_width(kModel, d);
  const MatrixView<const float> sample = rows.sample();
  const std::span<const double> sample_weight = rows.sample_weight();
  const std::int64_t m = sample.rows;
  if (k > m)
    throw InputError("model 'minibatch-kmeans': n_clusters=" + std::to_string(k) +
                     " is more than the " + std::to_string(m) +
                     " sampled rows the seeding draws from; use kmeans");
  // A missing or infinite value is refused naming its row, which only a pass knows: the
  // sample's rows are checked first (the seeding reads them), then each pass's rows.
  const auto finite = [](MatrixView<const float> x) {
    for (std::int64_t i = 0; i < x.rows; ++i)
      for (std::int64_t j = 0; j < x.cols; ++j)
        if (!std::isfinite(x(i, j))) return false;
    return true;
  };
  const auto check_block = [](const RowBlock& block) {
    models::check_finite_features(block.x, kModel, block.first_row);
    return true;
  };
  if (!finite(sample)) {
    rows.pass(check_block);
    throw Error("model 'minibatch-kmeans': a sampled row holds a missing value no pass found");
  }

  // The sample's moments: the tolerance's scale (mean variance, as scikit-learn) and the shift
  // the distances are computed in (Points).
  std::vector<double> mean;
  const double spread = moments(sample, mean);
  const double tol = params_.tol * spread / static_cast<double>(d);

  std::mt19937_64 rng(params_.random_state.value_or(seed));
  const std::int64_t init_size = seeding_rows(params_, m);
  std::vector<std::int64_t> picked(static_cast<std::size_t>(batch_size));
  for (std::int64_t& row : picked) row = draw_index(rng, m);
  std::vector<float> valid_x;
  std::vector<double> valid_w;
  gather(sample, sample_weight, picked, valid_x, valid_w);
  const auto valid = MatrixView<const float>::row_major(valid_x.data(), batch_size, d);
  std::vector<double> start;
  double best = 0.0;
  for (std::int64_t run = 0; run < params_.runs(); ++run) {
    std::vector<double> centres =
        seed_centres(backend, params_, sample, sample_weight, init_size, mean, spread, rng);
    const cluster::Points points(backend, valid, mean, spread);
    const std::vector<std::int32_t> nearest = points.nearest(centres, k);
    const double inertia = add_inertia(0.0, valid, valid_w, centres, nearest.data());
    spdlog::debug("model '{}': seeding run {}: inertia {} on {} sampled rows", kModel, run, inertia,
                  batch_size);
    if (run == 0 || inertia < best) {
      best = inertia;
      start = std::move(centres);
    }
  }

  auto state =
      std::make_shared<Steps>(params_, std::move(start), n, d, mean, spread, tol, std::move(rng));
  Steps& steps = *state;
  const std::int64_t window_rows = (kWindowRows + batch_size - 1) / batch_size * batch_size;
  std::vector<float> window;
  std::vector<double> window_w;
  std::int64_t held = 0;
  std::vector<std::int64_t> order;
  std::vector<float> batch_x;
  std::vector<double> batch_w;
  bool weighted = false;
  // The held rows in an order shuffled by the model's generator, one step per batch_size.
  const auto run_window = [&] {
    order.resize(static_cast<std::size_t>(held));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    for (std::int64_t i = held - 1; i > 0; --i)
      std::swap(order[i], order[draw_index(steps.rng(), i + 1)]);
    const auto x = MatrixView<const float>::row_major(window.data(), held, d);
    const std::span<const double> w =
        weighted ? std::span<const double>(window_w) : std::span<const double>{};
    for (std::int64_t begin = 0; begin < held && !steps.stopped(); begin += batch_size) {
      const std::int64_t end = std::min(held, begin + batch_size);
      gather(x, w, std::span(order).subspan(begin, end - begin), batch_x, batch_w);
      steps.step(backend, MatrixView<const float>::row_major(batch_x.data(), end - begin, d),
                 batch_w);
    }
    held = 0;
  };
  std::int64_t epoch = 0;
  for (; epoch < params_.max_iter && !steps.stopped(); ++epoch) {
    rows.pass([&](const RowBlock& block) {
      if (epoch == 0) check_block(block);
      weighted = !block.weight.empty();
      for (std::int64_t i = 0; i < block.x.rows && !steps.stopped(); ++i) {
        if (window.empty()) {
          window.resize(static_cast<std::size_t>(window_rows * d));
          if (weighted) window_w.resize(static_cast<std::size_t>(window_rows));
        }
        std::memcpy(window.data() + held * d, block.x.data + i * block.x.stride,
                    static_cast<std::size_t>(d) * sizeof(float));
        if (weighted) window_w[held] = block.weight[static_cast<std::size_t>(i)];
        if (++held == window_rows) run_window();
      }
      return !steps.stopped();
    });
    if (held > 0 && !steps.stopped()) run_window();
    held = 0;
  }
  const std::vector<double>& centres = steps.centres();

  // The last pass: every row's nearest centre and the inertia, summed in row order.
  double inertia = 0.0;
  if (labels) labels->clear();
  rows.pass([&](const RowBlock& block) {
    check_block(block);  // the epochs may have stopped before reading every row
    const cluster::Points points(backend, block.x, mean, spread);
    const std::vector<std::int32_t> nearest = points.nearest(centres, k);
    inertia = add_inertia(inertia, block.x, block.weight, centres, nearest.data());
    if (labels) labels->insert(labels->end(), nearest.begin(), nearest.end());
    return true;
  });
  n_steps_ = steps.steps();
  const std::int64_t n_iter = (n_steps_ * batch_size + n - 1) / n;
  set_fitted(d, k, centres, labels ? std::move(*labels) : std::vector<std::int32_t>{}, inertia,
             n_iter);
  steps_ = std::move(state);  // partial_fit goes on from here
}

// scikit-learn's MiniBatchKMeans.partial_fit: the first call seeds on init_size rows of the
// batch; every call is one step on the whole batch, then the batch's labels and inertia.
void MiniBatchKMeans::partial_fit(Backend& backend, const FitData& data) {
  MatrixView<const float> x = data.x;
  const std::int64_t n = x.rows, d = x.cols, k = params_.n_clusters;
  models::check_sample_weights(data.sample_weight, n, kModel);
  if (!steps_) {
    if (n_clusters() > 0)
      throw InputError(
          "model 'minibatch-kmeans': partial_fit goes on from a fit in this process; a model "
          "file does not hold the centres' seen weights (fit again, or start a new model)");
    if (d == 0) throw InputError("model 'minibatch-kmeans': no feature columns");
    if (k > n)
      throw InputError("model 'minibatch-kmeans': n_samples=" + std::to_string(n) +
                       " should be >= n_clusters=" + std::to_string(k));
    params_.init.check_width(kModel, d);
  } else if (d != steps_->cols()) {
    throw InputError("model 'minibatch-kmeans' was fitted on " + std::to_string(steps_->cols()) +
                     " features, got " + std::to_string(d));
  }
  models::check_finite_features(x, kModel);
  std::vector<float> row_major;
  x = dense_rows(x, row_major);
  if (!steps_) {
    // The batch's moments give the distances' shift; partial_fit has no tolerance.
    std::vector<double> mean;
    const double spread = moments(x, mean);
    std::mt19937_64 rng(params_.random_state.value_or(data.seed));
    std::vector<double> centres = seed_centres(backend, params_, x, data.sample_weight,
                                               seeding_rows(params_, n), mean, spread, rng);
    steps_ = std::make_shared<Steps>(params_, std::move(centres), n, d, mean, spread, 0.0,
                                     std::move(rng));
    n_steps_ = 0;
  } else if (steps_.use_count() > 1) {
    steps_ = std::make_shared<Steps>(*steps_);  // a copy of this model shares it: copy on write
  }
  steps_->step(backend, x, data.sample_weight);
  ++n_steps_;
  const cluster::Points points(backend, x, steps_->shift(), steps_->spread());
  std::vector<std::int32_t> labels = points.nearest(steps_->centres(), k);
  const double inertia = add_inertia(0.0, x, data.sample_weight, steps_->centres(), labels.data());
  set_fitted(d, k, steps_->centres(), std::move(labels), inertia, n_iter());
}

std::int64_t MiniBatchKMeans::load_params(const ParamMap& params) {
  params_ = MiniBatchKMeansParams::parse(params);
  return params_.n_clusters;
}

void MiniBatchKMeans::load_extra(const nlohmann::json& fitted) {
  steps_.reset();  // a file holds no seen weights
  if (!fitted.contains("n_steps_")) artifact::field_error("fitted.n_steps_", "missing");
  const std::int64_t steps = artifact::integer(fitted.at("n_steps_"), "fitted.n_steps_");
  if (steps < 0) artifact::field_error("fitted.n_steps_", "negative");
  n_steps_ = steps;
}

}  // namespace tabula

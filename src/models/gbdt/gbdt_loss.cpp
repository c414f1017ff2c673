#include "models/gbdt/gbdt_loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/portable_exp.hpp"
#include "core/vector_clones.hpp"
#include "distributed/reduce.hpp"
#include "distributed/select.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::gbdt {
namespace {

constexpr std::int64_t kRowsPerTask = 8192;

double weight_of(const LossData& data, std::size_t i) {
  return data.weight.empty() ? 1.0 : data.weight[i];
}

// The weights' total over every rank: `weights` (the exact sum of data's weights) summed over
// the ranks, or the row count for unit weights (an integer: no exact sum needed).
double weight_total(const LossData& data, distributed::ExactSum& weights, Communicator* comm) {
  if (!data.weight.empty()) {
    weights.sum_over_ranks(comm);
    return weights.value();
  }
  std::vector<std::int64_t> rows{static_cast<std::int64_t>(data.y.size())};
  distributed::sum_over_ranks(comm, rows);
  return static_cast<double>(rows[0]);
}

// 1 / (1 + e^-raw) for raw >= 0, e^raw / (1 + e^raw) below (neither overflows), with one exp
// and no branch: the sign is a coin flip in row order, and its mispredictions cost as much as
// the exp. The exp is tabula's own, so a loop of sigmoids vectorises.
inline double sigmoid(double raw) {
  const double e = portable_exp_nonpositive(-std::abs(raw));
  return (raw >= 0 ? 1.0 : e) / (1.0 + e);
}

// Softmax of k raw scores into p; returns logsumexp.
double softmax(const double* raw, std::int64_t k, double* p) {
  const double top = *std::max_element(raw, raw + k);
  double sum = 0.0;
  for (std::int64_t c = 0; c < k; ++c) sum += (p[c] = portable_exp_nonpositive(raw[c] - top));
  for (std::int64_t c = 0; c < k; ++c) p[c] /= sum;
  return top + std::log(sum);
}

// Rows in blocks, each on one thread: per-row work only, no shared sums. fn(begin, end).
template <typename Fn>
void for_row_blocks(std::int64_t n, Fn&& fn) {
  const std::int64_t tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  parallel_for(tasks,
               [&](std::int64_t t) { fn(t * kRowsPerTask, std::min(n, (t + 1) * kRowsPerTask)); });
}

template <typename Fn>
void for_rows(std::int64_t n, Fn&& fn) {
  for_row_blocks(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) fn(i);
  });
}

// The binomial loss's (gradient, Hessian) pairs of rows [begin, end), weighted when `weight` is
// given (a unit weight multiplies exactly): one vector loop (the boosted trees' per-row cost
// beside the histograms).
TABULA_VECTOR_CLONES void binomial_gradients(const double* raw, const double* y,
                                             const double* weight, std::int64_t begin,
                                             std::int64_t end, double* grad_hess) {
  for (std::int64_t i = begin; i < end; ++i) {
    const double p = sigmoid(raw[i]);
    const double w = weight != nullptr ? weight[i] : 1.0;
    grad_hess[2 * i] = w * (p - y[i]);
    grad_hess[2 * i + 1] = w * p * (1 - p);
  }
}

// The largest |gradient| and |Hessian| of each raw-score column, per block of rows (for_row_blocks'
// blocks), found while a block is in cache, then merged: maxima, the same in any block order.
class BlockLargest {
 public:
  BlockLargest(std::int64_t n, std::int64_t k)
      : width_(2 * k),
        top_(static_cast<std::size_t>((n + kRowsPerTask - 1) / kRowsPerTask * width_), 0.0) {}

  // Rows begin .. end of n x k pairs; one for_row_blocks block. When the width divides kLanes,
  // kLanes running maxima (lane j: column j % width) over whole groups of values, a loop the
  // compiler vectorises (a single running maximum is a reduction it does not).
  void add(const double* grad_hess, std::int64_t begin, std::int64_t end) {
    double* top = top_.data() + begin / kRowsPerTask * width_;
    const double* row = grad_hess + begin * width_;
    const double* const last = grad_hess + end * width_;
    if (kLanes % width_ == 0) {
      double lane[kLanes] = {};
      for (; last - row >= kLanes; row += kLanes)
        for (std::int64_t j = 0; j < kLanes; ++j) lane[j] = std::max(lane[j], std::abs(row[j]));
      for (std::int64_t j = 0; j < kLanes; ++j)
        top[j % width_] = std::max(top[j % width_], lane[j]);
    }
    for (; row < last; row += width_)
      for (std::int64_t j = 0; j < width_; ++j) top[j] = std::max(top[j], std::abs(row[j]));
  }

  std::vector<double> merged() const {
    std::vector<double> out(static_cast<std::size_t>(width_), 0.0);
    for (std::size_t b = 0; b < top_.size(); ++b) {
      double& top = out[b % out.size()];
      top = std::max(top, top_[b]);
    }
    return out;
  }

 private:
  static constexpr std::int64_t kLanes = 8;
  std::int64_t width_;
  std::vector<double> top_;
};

// Row i's k (gradient, Hessian) pairs of the losses other than the binomial, into grad_hess.
void row_gradients(const LossData& data, std::span<const double> raw, std::int64_t i,
                   double* grad_hess) {
  const std::int64_t k = data.k;
  const auto u = static_cast<std::size_t>(i);
  const double w = weight_of(data, u);
  double* gh = grad_hess + i * k * 2;
  if (data.loss == GbdtLoss::kSquaredError) {
    gh[0] = w * (raw[u] - data.y[u]);
    gh[1] = w;
  } else if (data.loss == GbdtLoss::kAbsoluteError) {
    gh[0] = raw[u] > data.y[u] ? w : (raw[u] < data.y[u] ? -w : 0.0);
    gh[1] = w;
  } else {
    thread_local std::vector<double> probability;
    probability.resize(static_cast<std::size_t>(k));
    softmax(raw.data() + i * k, k, probability.data());
    for (std::int64_t c = 0; c < k; ++c) {
      const double p = probability[static_cast<std::size_t>(c)];
      gh[2 * c] = w * (p - (static_cast<std::int64_t>(data.y[u]) == c ? 1.0 : 0.0));
      gh[2 * c + 1] = w * p * (1 - p);
    }
  }
}

}  // namespace

double weighted_median(std::vector<double> values, std::span<const double> weights) {
  const std::size_t n = values.size();
  if (n == 0) return 0.0;
  if (weights.empty()) {
    const auto mid = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(values.begin(), mid, values.end());
    if (n % 2 == 1) return *mid;
    return (*std::max_element(values.begin(), mid) + *mid) / 2;
  }
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return values[a] < values[b] || (values[a] == values[b] && a < b);
  });
  double total = 0.0;
  for (double w : weights) total += w;
  if (!(total > 0)) return 0.0;
  double cumulative = 0.0;
  for (std::size_t i : order) {
    cumulative += weights[i];
    if (cumulative >= total / 2) return values[i];
  }
  return values[order.back()];
}

std::vector<double> baseline(const LossData& data, Communicator* comm) {
  if (data.loss == GbdtLoss::kAbsoluteError) {
    if (comm == nullptr) return {weighted_median({data.y.begin(), data.y.end()}, data.weight)};
    if (!data.weight.empty())
      throw InputError(
          "gbdt: loss=absolute_error with sample weights is not fitted over ranks yet (its "
          "weighted medians are not reduced exactly)");
    return {distributed::median_over_ranks(comm, data.y)};
  }
  const std::size_t n = data.y.size();
  // Exact sums (distributed::ExactSum): the same baseline whatever the ranks.
  distributed::ExactSum total;
  for (std::size_t i = 0; i < n && !data.weight.empty(); ++i) total.add(data.weight[i]);
  const double sum_of_weights = weight_total(data, total, comm);
  if (data.loss == GbdtLoss::kSquaredError) {
    distributed::ExactSum sum;
    for (std::size_t i = 0; i < n; ++i) sum.add(weight_of(data, i) * data.y[i]);
    sum.sum_over_ranks(comm);
    return {sum_of_weights > 0 ? sum.value() / sum_of_weights : 0.0};
  }
  const std::int64_t classes = data.k == 1 ? 2 : data.k;
  std::vector<distributed::ExactSum> shares(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < n; ++i)
    shares[static_cast<std::size_t>(data.y[i])].add(weight_of(data, i));
  std::vector<double> share(static_cast<std::size_t>(classes));
  for (std::size_t c = 0; c < share.size(); ++c) {
    shares[c].sum_over_ranks(comm);
    share[c] = shares[c].value();
  }
  const double eps = std::numeric_limits<double>::epsilon();
  for (double& s : share)
    s = std::clamp(sum_of_weights > 0 ? s / sum_of_weights : 0.0, eps, 1 - eps);
  if (data.k == 1) return {std::log(share[1] / (1 - share[1]))};
  std::vector<double> out(share.size());
  double mean = 0.0;
  for (std::size_t c = 0; c < share.size(); ++c) mean += (out[c] = std::log(share[c]));
  mean /= static_cast<double>(share.size());
  for (double& v : out) v -= mean;
  return out;
}

void gradients(const LossData& data, std::span<const double> raw, std::vector<double>& grad_hess,
               std::vector<double>* largest) {
  const auto n = static_cast<std::int64_t>(data.y.size());
  const std::int64_t k = data.k;
  grad_hess.resize(static_cast<std::size_t>(n * k * 2));
  BlockLargest blocks(largest != nullptr ? n : 0, k);
  for_row_blocks(n, [&](std::int64_t begin, std::int64_t end) {
    if (data.loss == GbdtLoss::kLogLoss && k == 1) {
      const double* weight = data.weight.empty() ? nullptr : data.weight.data();
      binomial_gradients(raw.data(), data.y.data(), weight, begin, end, grad_hess.data());
    } else {
      for (std::int64_t i = begin; i < end; ++i) row_gradients(data, raw, i, grad_hess.data());
    }
    if (largest != nullptr) blocks.add(grad_hess.data(), begin, end);
  });
  if (largest != nullptr) *largest = blocks.merged();
}

std::vector<double> largest_magnitudes(std::span<const double> grad_hess, std::int64_t k) {
  const auto n = static_cast<std::int64_t>(grad_hess.size()) / (2 * k);
  BlockLargest blocks(n, k);
  for_row_blocks(
      n, [&](std::int64_t begin, std::int64_t end) { blocks.add(grad_hess.data(), begin, end); });
  return blocks.merged();
}

double mean_loss(const LossData& data, std::span<const double> raw, Communicator* comm) {
  const std::size_t n = data.y.size();
  const std::int64_t k = data.k;
  std::vector<double> p(static_cast<std::size_t>(k));
  distributed::ExactSum sum, total;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = weight_of(data, i);
    double loss = 0.0;
    if (data.loss == GbdtLoss::kSquaredError) {
      loss = 0.5 * (raw[i] - data.y[i]) * (raw[i] - data.y[i]);
    } else if (data.loss == GbdtLoss::kAbsoluteError) {
      loss = std::abs(raw[i] - data.y[i]);
    } else if (k == 1) {
      loss = std::max(raw[i], 0.0) + std::log1p(std::exp(-std::abs(raw[i]))) - data.y[i] * raw[i];
    } else {
      const double* r = raw.data() + static_cast<std::int64_t>(i) * k;
      loss = softmax(r, k, p.data()) - r[static_cast<std::int64_t>(data.y[i])];
    }
    sum.add(w * loss);
    if (!data.weight.empty()) total.add(w);
  }
  sum.sum_over_ranks(comm);
  const double t = weight_total(data, total, comm);
  return t > 0 ? sum.value() / t : 0.0;
}

std::vector<double> probabilities(std::span<const double> raw, std::int64_t k,
                                  std::int64_t classes) {
  const auto n = static_cast<std::int64_t>(raw.size()) / k;
  std::vector<double> out(static_cast<std::size_t>(n * classes));
  for_rows(n, [&](std::int64_t i) {
    double* p = out.data() + i * classes;
    if (k == 1) {
      p[1] = sigmoid(raw[static_cast<std::size_t>(i)]);
      p[0] = 1 - p[1];
    } else {
      softmax(raw.data() + i * k, k, p);
    }
  });
  return out;
}

}  // namespace tabula::gbdt

#include "models/cluster/lloyd.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tabula/core/thread_pool.hpp"

namespace tabula::cluster {
namespace {

constexpr std::int64_t kHostRows = 4096;
// Bound on the per-block partial sums of a centre update (blocks x k x (d + 1) doubles).
constexpr std::int64_t kMaxPartialElements = std::int64_t{1} << 24;

double weight_of(std::span<const double> weights, std::int64_t i) {
  return weights.empty() ? 1.0 : weights[static_cast<std::size_t>(i)];
}

// Weighted sums of each cluster's rows (k x d) and the clusters' weights (k). Rows are summed
// in blocks whose size depends on n, k and d only, and the blocks are added in order.
void cluster_sums(const Points& points, std::span<const double> weights,
                  std::span<const std::int32_t> labels, std::int64_t k, std::vector<double>& sums,
                  std::vector<double>& totals) {
  const std::int64_t n = points.rows(), d = points.cols();
  const MatrixView<const float> x = points.host();
  const std::int64_t max_blocks = std::max<std::int64_t>(1, kMaxPartialElements / (k * (d + 1)));
  const std::int64_t blocks = std::min(max_blocks, (n + kHostRows - 1) / kHostRows);
  const std::int64_t rows_per_block = (n + blocks - 1) / blocks;
  const std::int64_t width = k * (d + 1);  // each cluster's d sums, then its weight
  std::vector<double> partial(static_cast<std::size_t>(blocks * width), 0.0);
  parallel_for(blocks, [&](std::int64_t b) {
    double* out = partial.data() + b * width;
    for (std::int64_t i = b * rows_per_block, end = std::min(n, (b + 1) * rows_per_block); i < end;
         ++i) {
      const double w = weight_of(weights, i);
      double* cluster = out + labels[i] * (d + 1);
      for (std::int64_t j = 0; j < d; ++j) cluster[j] += w * static_cast<double>(x(i, j));
      cluster[d] += w;
    }
  });
  sums.assign(static_cast<std::size_t>(k * d), 0.0);
  totals.assign(static_cast<std::size_t>(k), 0.0);
  for (std::int64_t b = 0; b < blocks; ++b)
    for (std::int64_t c = 0; c < k; ++c) {
      const double* cluster = partial.data() + b * width + c * (d + 1);
      for (std::int64_t j = 0; j < d; ++j) sums[c * d + j] += cluster[j];
      totals[c] += cluster[d];
    }
}

// Gives each empty cluster, in index order, the row farthest from its own centre (ties: the
// lower row), taking it out of its cluster's sums as scikit-learn does. A row whose cluster it
// would empty, or of zero weight, is passed over; a cluster left without a row keeps its centre.
void refill_empty_clusters(const Points& points, std::span<const double> weights,
                           std::span<const std::int32_t> labels, std::span<const double> old,
                           std::vector<double>& sums, std::vector<double>& totals) {
  const std::int64_t n = points.rows(), d = points.cols();
  const std::int64_t k = static_cast<std::int64_t>(totals.size());
  std::vector<std::int64_t> empty;
  for (std::int64_t c = 0; c < k; ++c)
    if (!(totals[c] > 0.0)) empty.push_back(c);
  if (empty.empty()) return;
  std::vector<double> far(static_cast<std::size_t>(n));
  parallel_blocks(n, kHostRows, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i)
      far[i] = exact_sq_distance(points.host(), i, old.data() + labels[i] * d);
  });
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const auto farther = [&](std::int64_t a, std::int64_t b) {
    return far[a] != far[b] ? far[a] > far[b] : a < b;
  };
  // Enough candidates for every empty cluster, with room for the rows passed over.
  const std::int64_t look =
      std::min<std::int64_t>(n, 4 * static_cast<std::int64_t>(empty.size()) + 64);
  std::partial_sort(order.begin(), order.begin() + look, order.end(), farther);
  std::int64_t next = 0;
  for (std::int64_t c : empty) {
    for (; next < n; ++next) {
      if (next == look) {  // rarely: sort the rest too
        std::sort(order.begin() + look, order.end(), farther);
      }
      const std::int64_t row = order[next];
      const double w = weight_of(weights, row);
      const std::int32_t from = labels[row];
      if (!(w > 0.0) || !(totals[from] - w > 0.0)) continue;
      const MatrixView<const float> x = points.host();
      for (std::int64_t j = 0; j < d; ++j) {
        sums[from * d + j] -= w * static_cast<double>(x(row, j));
        sums[c * d + j] = w * static_cast<double>(x(row, j));
      }
      totals[from] -= w;
      totals[c] = w;
      ++next;
      break;
    }
  }
}

}  // namespace

double inertia(const Points& points, std::span<const double> weights,
               std::span<const double> centres, std::span<const std::int32_t> labels) {
  const std::int64_t d = points.cols();
  return ordered_sum(points.rows(), [&](std::int64_t i) {
    return weight_of(weights, i) *
           exact_sq_distance(points.host(), i, centres.data() + labels[i] * d);
  });
}

LloydResult run_lloyd(const Points& points, std::span<const double> weights,
                      std::vector<double> centres, std::int64_t k, std::int64_t max_iter,
                      double tol) {
  const std::int64_t d = points.cols();
  LloydResult result;
  std::vector<std::int32_t> previous;
  std::vector<double> sums, totals;
  bool labels_repeated = false;
  for (std::int64_t it = 0; it < max_iter; ++it) {
    result.labels = points.nearest(centres, k);
    cluster_sums(points, weights, result.labels, k, sums, totals);
    refill_empty_clusters(points, weights, result.labels, centres, sums, totals);
    double shift = 0.0;
    for (std::int64_t c = 0; c < k; ++c) {
      if (!(totals[c] > 0.0)) continue;  // no row could refill it: the centre stays
      for (std::int64_t j = 0; j < d; ++j) {
        const double moved = sums[c * d + j] / totals[c];
        shift += (moved - centres[c * d + j]) * (moved - centres[c * d + j]);
        centres[c * d + j] = moved;
      }
    }
    result.n_iter = it + 1;
    if (result.labels == previous) {
      labels_repeated = true;
      break;
    }
    if (shift <= tol) break;
    previous.swap(result.labels);
  }
  // The labels must belong to the final centres (the last update moved them).
  if (!labels_repeated) result.labels = points.nearest(centres, k);
  result.inertia = inertia(points, weights, centres, result.labels);
  result.centres = std::move(centres);
  return result;
}

}  // namespace tabula::cluster

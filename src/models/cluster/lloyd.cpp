#include "models/cluster/lloyd.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string>

#include "distributed/reduce.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::cluster {
namespace {

constexpr std::int64_t kHostRows = 4096;
// Bound on the per-block partial sums of a centre update (blocks x k x (d + 1) doubles).
constexpr std::int64_t kMaxPartialElements = std::int64_t{1} << 24;

double weight_of(std::span<const double> weights, std::int64_t i) {
  return weights.empty() ? 1.0 : weights[static_cast<std::size_t>(i)];
}

// Rows per block of the fused passes (per-block partial sums, reduced in block order): depends
// on n, k and d only, so the sums do not depend on the thread count.
std::int64_t block_rows(std::int64_t n, std::int64_t k, std::int64_t d) {
  const std::int64_t max_blocks = std::max<std::int64_t>(1, kMaxPartialElements / (k * (d + 1)));
  const std::int64_t blocks =
      std::max<std::int64_t>(1, std::min(max_blocks, (n + kHostRows - 1) / kHostRows));
  return std::max<std::int64_t>(1, (n + blocks - 1) / blocks);
}

// Per-block partial sums of the clusters (blocks x k x (d + 1): each cluster's d weighted sums,
// then its weight), reduced in block order into `sums` (k x d) and `totals` (k).
class PartialSums {
 public:
  PartialSums(const Points& points, std::span<const double> weights, std::int64_t k)
      : x_(points.host()),
        weights_(weights),
        d_(points.cols()),
        width_(k * (points.cols() + 1)),
        rows_per_block_(block_rows(points.rows(), k, points.cols())),
        blocks_((points.rows() + rows_per_block_ - 1) / rows_per_block_),
        partial_(static_cast<std::size_t>(blocks_ * width_), 0.0) {}

  std::int64_t rows_per_block() const { return rows_per_block_; }
  std::int64_t blocks() const { return blocks_; }

  /// Adds row i to cluster `label` of block b (one thread per block).
  void add(std::int64_t b, std::int64_t i, std::int32_t label) {
    double* cluster = partial_.data() + b * width_ + label * (d_ + 1);
    const float* row = x_.data + i * x_.stride;
    if (weights_.empty()) {  // no multiplications by 1
      for (std::int64_t j = 0; j < d_; ++j) cluster[j] += static_cast<double>(row[j]);
      cluster[d_] += 1.0;
      return;
    }
    const double w = weights_[static_cast<std::size_t>(i)];
    for (std::int64_t j = 0; j < d_; ++j) cluster[j] += w * static_cast<double>(row[j]);
    cluster[d_] += w;
  }

  void reduce(std::vector<double>& sums, std::vector<double>& totals) const {
    const std::int64_t k = width_ / (d_ + 1);
    sums.assign(static_cast<std::size_t>(k * d_), 0.0);
    totals.assign(static_cast<std::size_t>(k), 0.0);
    for (std::int64_t b = 0; b < blocks_; ++b)
      for (std::int64_t c = 0; c < k; ++c) {
        const double* cluster = partial_.data() + b * width_ + c * (d_ + 1);
        for (std::int64_t j = 0; j < d_; ++j) sums[c * d_ + j] += cluster[j];
        totals[c] += cluster[d_];
      }
  }

 private:
  MatrixView<const float> x_;
  std::span<const double> weights_;
  std::int64_t d_, width_, rows_per_block_, blocks_;
  std::vector<double> partial_;
};

// One assignment step fused with the centre sums: `labels` gets each row's nearest centre,
// `sums` (k x d) and `totals` (k) the clusters' weighted sums and weights (float64, per block
// of rows, the blocks added in order); returns whether any label changed.
bool assign_and_sum(const Points& points, std::span<const double> weights,
                    std::span<const double> centres, std::int64_t k,
                    std::vector<std::int32_t>& labels, std::vector<double>& sums,
                    std::vector<double>& totals) {
  PartialSums partial(points, weights, k);
  std::vector<std::uint8_t> changed(static_cast<std::size_t>(partial.blocks()), 0);
  points.for_each_nearest(
      centres, k, partial.rows_per_block(),
      [&](std::int64_t b, std::int64_t begin, std::int64_t end, const std::int32_t* nearest) {
        bool moved = false;
        for (std::int64_t i = begin; i < end; ++i) {
          const std::int32_t label = nearest[i - begin];
          moved = moved || label != labels[i];
          labels[i] = label;
          partial.add(b, i, label);
        }
        if (moved) changed[static_cast<std::size_t>(b)] = 1;
      });
  partial.reduce(sums, totals);
  return std::find(changed.begin(), changed.end(), 1) != changed.end();
}

// Hamerly's bounds (scikit-learn's algorithm="elkan" gives the same assignments with Elkan's
// k bounds per row): per row an upper bound on the distance to its centre and a lower bound on
// the distance to every other one. After the centres move by delta, a row whose upper bound
// (grown by its centre's move, else tightened to the exact distance) stays below both its lower
// bound (shrunk by the largest other move) and half the distance from its centre to the
// nearest other centre keeps its label without products; the others are multiplied by every
// centre. The sums are then taken over every row by label, as Lloyd's.
class HamerlyStep {
 public:
  HamerlyStep(const Points& points, std::span<const double> weights, std::int64_t k)
      : points_(points),
        weights_(weights),
        k_(k),
        upper_(static_cast<std::size_t>(points.rows())),
        lower_(static_cast<std::size_t>(points.rows())) {}

  bool operator()(std::span<const double> centres, std::vector<std::int32_t>& labels,
                  std::vector<double>& sums, std::vector<double>& totals) {
    const std::int64_t n = points_.rows(), d = points_.cols();
    PartialSums partial(points_, weights_, k_);
    const std::int64_t rows_per_block = partial.rows_per_block();
    std::vector<std::int64_t> recompute;
    if (previous_.empty()) {
      recompute.resize(static_cast<std::size_t>(n));
      std::iota(recompute.begin(), recompute.end(), std::int64_t{0});
    } else {
      // The centres' moves, the largest two, and half the gap to each centre's nearest other.
      std::vector<double> moved(static_cast<std::size_t>(k_)),
          half_gap(static_cast<std::size_t>(k_));
      std::int64_t far = 0;
      for (std::int64_t c = 0; c < k_; ++c) {
        double s = 0.0;
        for (std::int64_t j = 0; j < d; ++j)
          s += (centres[c * d + j] - previous_[c * d + j]) *
               (centres[c * d + j] - previous_[c * d + j]);
        moved[c] = std::sqrt(s);
        if (moved[c] > moved[far]) far = c;
      }
      double second_far = 0.0;
      for (std::int64_t c = 0; c < k_; ++c)
        if (c != far) second_far = std::max(second_far, moved[c]);
      for (std::int64_t c = 0; c < k_; ++c) {
        double nearest = std::numeric_limits<double>::infinity();
        for (std::int64_t o = 0; o < k_; ++o) {
          if (o == c) continue;
          double s = 0.0;
          for (std::int64_t j = 0; j < d; ++j)
            s += (centres[c * d + j] - centres[o * d + j]) *
                 (centres[c * d + j] - centres[o * d + j]);
          nearest = std::min(nearest, s);
        }
        half_gap[c] = 0.5 * std::sqrt(nearest);
      }
      // Per block, the rows whose bounds no longer hold, in row order.
      const std::int64_t blocks = partial.blocks();
      std::vector<std::vector<std::int64_t>> unsure(static_cast<std::size_t>(blocks));
      parallel_for(blocks, [&](std::int64_t b) {
        for (std::int64_t i = b * rows_per_block, end = std::min(n, (b + 1) * rows_per_block);
             i < end; ++i) {
          const std::int32_t a = labels[i];
          double& up = upper_[i];
          double& low = lower_[i];
          up += moved[a];
          low -= a == far ? second_far : moved[far];
          const double bound = std::max(half_gap[a], low);
          if (up <= bound) continue;
          up = std::sqrt(exact_sq_distance(points_.host(), i, centres.data() + a * d));
          if (up <= bound) continue;
          unsure[static_cast<std::size_t>(b)].push_back(i);
        }
      });
      for (const auto& rows : unsure) recompute.insert(recompute.end(), rows.begin(), rows.end());
    }
    std::vector<std::int32_t> nearest(recompute.size());
    std::vector<double> first(recompute.size()), second(recompute.size());
    points_.nearest_two(centres, k_, recompute, nearest.data(), first.data(), second.data());
    bool changed = false;
    for (std::size_t r = 0; r < recompute.size(); ++r) {
      const std::int64_t i = recompute[r];
      changed = changed || labels[i] != nearest[r];
      labels[i] = nearest[r];
      upper_[i] = std::sqrt(first[r]);
      lower_[i] = std::sqrt(second[r]);
    }
    parallel_for(partial.blocks(), [&](std::int64_t b) {
      for (std::int64_t i = b * rows_per_block, end = std::min(n, (b + 1) * rows_per_block);
           i < end; ++i)
        partial.add(b, i, labels[i]);
    });
    partial.reduce(sums, totals);
    previous_.assign(centres.begin(), centres.end());
    return changed;
  }

 private:
  const Points& points_;
  std::span<const double> weights_;
  std::int64_t k_;
  std::vector<double> upper_, lower_;
  std::vector<double> previous_;  // the centres of the last step
};

// The final labelling fused with the exact inertia: `labels` gets each row's nearest of the
// `centres`; returns Σ w_i ‖x_i - centre(label_i)‖² in float64 (per block, blocks in order).
double assign_with_inertia(const Points& points, std::span<const double> weights,
                           std::span<const double> centres, std::int64_t k,
                           std::vector<std::int32_t>& labels) {
  const std::int64_t n = points.rows(), d = points.cols();
  const std::int64_t rows_per_block = block_rows(n, k, d);
  const std::int64_t blocks = (n + rows_per_block - 1) / rows_per_block;
  std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
  points.for_each_nearest(
      centres, k, rows_per_block,
      [&](std::int64_t b, std::int64_t begin, std::int64_t end, const std::int32_t* nearest) {
        double s = 0.0;
        for (std::int64_t i = begin; i < end; ++i) {
          labels[i] = nearest[i - begin];
          s += weight_of(weights, i) *
               exact_sq_distance(points.host(), i, centres.data() + labels[i] * d);
        }
        partial[static_cast<std::size_t>(b)] += s;
      });
  double total = 0.0;
  for (double s : partial) total += s;
  return total;
}

/// A row that may refill an empty cluster: its distance to its own centre, its row among every
/// rank's rows, its weight, its cluster and its values.
struct Candidate {
  double far = 0.0;
  std::int64_t row = 0;
  double weight = 0.0;
  std::int64_t label = 0;
  std::vector<double> values;
};

/// The `look` rows of this rank farthest from their centres (ties: the lower row), from every
/// rank, merged in that order. `truncated` says whether some rank held more rows than it sent.
std::vector<Candidate> farthest_rows(const Points& points, std::span<const double> weights,
                                     std::span<const std::int32_t> labels,
                                     const std::vector<double>& far, std::int64_t look,
                                     std::int64_t row_offset, Communicator* comm, bool& truncated) {
  const std::int64_t n = points.rows(), d = points.cols();
  const MatrixView<const float> x = points.host();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const auto farther = [&](std::int64_t a, std::int64_t b) {
    return far[a] != far[b] ? far[a] > far[b] : a < b;
  };
  const std::int64_t sent = std::min(n, look);
  std::partial_sort(order.begin(), order.begin() + sent, order.end(), farther);
  const std::size_t record = static_cast<std::size_t>(4 + d) * sizeof(double);
  std::string bytes(sizeof(std::int64_t) + static_cast<std::size_t>(sent) * record, '\0');
  const std::int64_t more = n > sent ? 1 : 0;
  std::memcpy(bytes.data(), &more, sizeof(more));
  for (std::int64_t q = 0; q < sent; ++q) {
    const std::int64_t i = order[q];
    double fields[4] = {far[i], 0.0, weight_of(weights, i), 0.0};
    const std::int64_t ints[2] = {row_offset + i, labels[i]};
    std::memcpy(&fields[1], &ints[0], sizeof(double));
    std::memcpy(&fields[3], &ints[1], sizeof(double));
    char* out = bytes.data() + sizeof(std::int64_t) + static_cast<std::size_t>(q) * record;
    std::memcpy(out, fields, sizeof(fields));
    for (std::int64_t j = 0; j < d; ++j) {
      const double v = x(i, j);
      std::memcpy(out + sizeof(fields) + static_cast<std::size_t>(j) * sizeof(double), &v,
                  sizeof(double));
    }
  }
  const std::vector<std::string> parts =
      comm != nullptr ? comm->all_gather(bytes) : std::vector<std::string>{bytes};
  std::vector<Candidate> all;
  truncated = false;
  for (std::size_t r = 0; r < parts.size(); ++r) {
    const std::string& part = parts[r];
    if (part.size() < sizeof(std::int64_t) || (part.size() - sizeof(std::int64_t)) % record != 0)
      throw Error("k-means: rank " + std::to_string(r) + " sent malformed refill candidates");
    std::int64_t their_more = 0;
    std::memcpy(&their_more, part.data(), sizeof(their_more));
    truncated = truncated || their_more != 0;
    for (std::size_t at = sizeof(std::int64_t); at < part.size(); at += record) {
      Candidate c;
      double fields[4];
      std::memcpy(fields, part.data() + at, sizeof(fields));
      c.far = fields[0];
      c.weight = fields[2];
      std::memcpy(&c.row, &fields[1], sizeof(double));
      std::memcpy(&c.label, &fields[3], sizeof(double));
      c.values.resize(static_cast<std::size_t>(d));
      std::memcpy(c.values.data(), part.data() + at + sizeof(fields),
                  static_cast<std::size_t>(d) * sizeof(double));
      all.push_back(std::move(c));
    }
  }
  std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return a.far != b.far ? a.far > b.far : a.row < b.row;
  });
  return all;
}

// Gives each empty cluster, in index order, the row farthest from its own centre (ties: the
// lower row), taking it out of its cluster's sums as scikit-learn does. A row whose cluster it
// would empty, or of zero weight, is passed over; a cluster left without a row keeps its centre.
// `sums` and `totals` are every rank's; the candidates come from every rank (farthest_rows), a
// few per empty cluster first, every row when those run out.
void refill_empty_clusters(const Points& points, std::span<const double> weights,
                           std::span<const std::int32_t> labels, std::span<const double> old,
                           std::int64_t row_offset, Communicator* comm, std::vector<double>& sums,
                           std::vector<double>& totals) {
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
  // Enough candidates for every empty cluster, with room for the rows passed over; rarely,
  // every row.
  const std::int64_t few = 4 * static_cast<std::int64_t>(empty.size()) + 64;
  for (std::int64_t look = few;; look = std::numeric_limits<std::int64_t>::max()) {
    bool truncated = false;
    const std::vector<Candidate> candidates =
        farthest_rows(points, weights, labels, far, look, row_offset, comm, truncated);
    // The merged list is every rank's order only as far as each rank sent its rows.
    const std::size_t valid = truncated ? static_cast<std::size_t>(std::min<std::int64_t>(
                                              look, static_cast<std::int64_t>(candidates.size())))
                                        : candidates.size();
    std::vector<double> new_sums = sums, new_totals = totals;
    std::size_t next = 0;
    bool ran_out = false;
    for (std::int64_t c : empty) {
      bool filled = false;
      for (; next < valid && !filled; ++next) {
        const Candidate& row = candidates[next];
        const double w = row.weight;
        const std::int64_t from = row.label;
        if (from < 0 || from >= k) throw Error("k-means: a refill candidate's cluster is invalid");
        if (!(w > 0.0) || !(new_totals[from] - w > 0.0)) continue;
        for (std::int64_t j = 0; j < d; ++j) {
          new_sums[from * d + j] -= w * row.values[j];
          new_sums[c * d + j] = w * row.values[j];
        }
        new_totals[from] -= w;
        new_totals[c] = w;
        filled = true;
      }
      if (!filled) {
        ran_out = true;
        break;
      }
    }
    if (!ran_out || !truncated) {  // else: more rows than were sent; send them all
      sums.swap(new_sums);
      totals.swap(new_totals);
      return;
    }
  }
}

}  // namespace

double inertia(const Points& points, std::span<const double> weights,
               std::span<const double> centres, std::span<const std::int32_t> labels,
               Communicator* comm) {
  const std::int64_t d = points.cols();
  return distributed::sum_over_ranks(comm, ordered_sum(points.rows(), [&](std::int64_t i) {
                                       return weight_of(weights, i) *
                                              exact_sq_distance(points.host(), i,
                                                                centres.data() + labels[i] * d);
                                     }));
}

LloydResult run_lloyd(const Points& points, std::span<const double> weights,
                      std::vector<double> centres, std::int64_t k, std::int64_t max_iter,
                      double tol, Communicator* comm, KMeansAlgorithm algorithm) {
  const std::int64_t d = points.cols();
  const std::int64_t row_offset = distributed::row_range(comm, points.rows()).offset;
  LloydResult result;
  // No row is labelled -2: the first assignment always counts as a change.
  result.labels.assign(static_cast<std::size_t>(points.rows()), -2);
  std::vector<double> sums, totals;
  bool labels_repeated = false;
  // Hamerly's bounds run on host backends (a device's rows are multiplied in blocks).
  std::optional<HamerlyStep> hamerly;
  if (algorithm == KMeansAlgorithm::kElkan && points.backend().uses_host_memory())
    hamerly.emplace(points, weights, k);
  for (std::int64_t it = 0; it < max_iter; ++it) {
    const bool moved =
        hamerly ? (*hamerly)(centres, result.labels, sums, totals)
                : assign_and_sum(points, weights, centres, k, result.labels, sums, totals);
    if (comm != nullptr && comm->size() > 1) {
      sums.insert(sums.end(), totals.begin(), totals.end());
      distributed::sum_over_ranks(comm, sums);
      totals.assign(sums.end() - k, sums.end());
      sums.resize(static_cast<std::size_t>(k * d));
    }
    refill_empty_clusters(points, weights, result.labels, centres, row_offset, comm, sums, totals);
    double shift = 0.0;
    for (std::int64_t c = 0; c < k; ++c) {
      if (!(totals[c] > 0.0)) continue;  // no row could refill it: the centre stays
      for (std::int64_t j = 0; j < d; ++j) {
        const double moved_to = sums[c * d + j] / totals[c];
        shift += (moved_to - centres[c * d + j]) * (moved_to - centres[c * d + j]);
        centres[c * d + j] = moved_to;
      }
    }
    result.n_iter = it + 1;
    // Over ranks the labels repeat when they repeat on every rank.
    std::vector<std::int64_t> changed{moved ? 1 : 0};
    distributed::sum_over_ranks(comm, changed);
    if (changed[0] == 0) {
      labels_repeated = true;
      break;
    }
    if (shift <= tol) break;
  }
  // The labels must belong to the final centres (the last update moved them): one more
  // assignment, fused with the inertia.
  if (labels_repeated)
    result.inertia = inertia(points, weights, centres, result.labels, comm);
  else
    result.inertia = distributed::sum_over_ranks(
        comm, assign_with_inertia(points, weights, centres, k, result.labels));
  result.centres = std::move(centres);
  return result;
}

}  // namespace tabula::cluster

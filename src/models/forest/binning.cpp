// Quantile binning for the histogram forest: edges from a sample of rows on the host, codes on
// the backend through forest_bin.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/radix_sort.hpp"
#include "distributed/reduce.hpp"
#include "models/device_data.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {
namespace {

// Edges come from at most this many rows: quantiles of 200k values are within ~0.2% of the
// full data's, and sorting them costs far less than one tree.
constexpr std::int64_t kMaxBinningRows = 200000;

// Ascending edges for one feature's finite sample values (sorted in place). Up to
// `value_bins - 1` edges, each the midpoint between two neighbouring distinct values, so every
// distinct value gets its own bin when there are few and bins hold similar counts otherwise.
std::vector<float> feature_edges(std::vector<float>& values, int value_bins) {
  radix_sort(values);  // on wide data the largest fixed cost of a fit
  std::vector<float> edges;
  if (values.empty()) return edges;
  const auto midpoint = [](float a, float b) {
    const float mid = static_cast<float>((static_cast<double>(a) + static_cast<double>(b)) / 2);
    return mid < b ? mid : a;  // keep a <= edge < b when float rounding lands on b
  };
  std::vector<float> distinct;
  distinct.reserve(values.size());
  for (float v : values)
    if (distinct.empty() || v != distinct.back()) distinct.push_back(v);
  const std::int64_t max_edges = value_bins - 1;
  if (static_cast<std::int64_t>(distinct.size()) <= max_edges + 1) {
    for (std::size_t i = 1; i < distinct.size(); ++i)
      edges.push_back(midpoint(distinct[i - 1], distinct[i]));
    return edges;
  }
  const std::int64_t s = static_cast<std::int64_t>(values.size());
  for (std::int64_t k = 1; k <= max_edges; ++k) {
    const std::int64_t i = std::max<std::int64_t>(1, (k * s) / value_bins);
    const float below = values[static_cast<std::size_t>(i - 1)];
    const auto next = std::upper_bound(values.begin(), values.end(), below);
    if (next == values.end()) break;
    const float edge = midpoint(below, *next);
    if (edges.empty() || edge > edges.back()) edges.push_back(edge);
  }
  return edges;
}

// The binning sample: per feature, its finite values and how many values are present.
struct EdgeSample {
  std::vector<std::vector<float>> values;
  std::vector<std::int64_t> present;

  explicit EdgeSample(std::int64_t d)
      : values(static_cast<std::size_t>(d)), present(static_cast<std::size_t>(d), 0) {}
  void add(std::int64_t j, float v) {
    if (std::isnan(v)) return;
    ++present[static_cast<std::size_t>(j)];
    if (std::isfinite(v)) values[static_cast<std::size_t>(j)].push_back(v);
  }
  // Feature j's values in every row of x, in row order.
  void add_every_row(MatrixView<const float> x, std::int64_t j) {
    for (std::int64_t i = 0; i < x.rows; ++i) add(j, x(i, j));
  }
};

// Row s of the sample is row s * n / sample_size of the n rows: evenly spaced, no randomness.
std::int64_t sample_size(std::int64_t n) { return std::min(n, kMaxBinningRows); }

// The sampled rows of x (host memory), reading each row once.
EdgeSample sample_rows(MatrixView<const float> x) {
  EdgeSample out(x.cols);
  const std::int64_t sample = sample_size(x.rows);
  for (auto& v : out.values) v.reserve(static_cast<std::size_t>(sample));
  for (std::int64_t s = 0; s < sample; ++s) {
    const std::int64_t i = s * x.rows / sample;
    for (std::int64_t j = 0; j < x.cols; ++j) out.add(j, x(i, j));
  }
  return out;
}

// The sample a single process would take of every rank's rows together (the ranks' rows in
// rank order): each rank sends the sampled rows it holds, so every rank gets the same values
// in the same order, hence the same edges.
EdgeSample sample_over_ranks(MatrixView<const float> x, Communicator& comm) {
  const distributed::RowRange range = distributed::row_range(&comm, x.rows);
  const std::int64_t sample = sample_size(range.total);
  std::vector<float> mine;
  for (std::int64_t s = 0; s < sample; ++s) {
    const std::int64_t i = s * range.total / sample - range.offset;
    if (i < 0 || i >= x.rows) continue;
    for (std::int64_t j = 0; j < x.cols; ++j) mine.push_back(x(i, j));
  }
  const std::vector<float> rows = distributed::gather_over_ranks(&comm, mine);
  EdgeSample out(x.cols);
  for (std::size_t at = 0; at < rows.size(); at += static_cast<std::size_t>(x.cols))
    for (std::int64_t j = 0; j < x.cols; ++j) out.add(j, rows[at + static_cast<std::size_t>(j)]);
  return out;
}

// EdgeSample::add_every_row over every rank's rows.
void every_row_over_ranks(MatrixView<const float> x, std::int64_t j, Communicator& comm,
                          EdgeSample& sample) {
  EdgeSample mine(x.cols);
  mine.add_every_row(x, j);
  const auto uj = static_cast<std::size_t>(j);
  sample.values[uj] = distributed::gather_over_ranks(&comm, mine.values[uj]);
  sample.present[uj] = static_cast<std::int64_t>(
      distributed::sum_over_ranks(&comm, static_cast<double>(mine.present[uj])));
}

}  // namespace

BinnedMatrix BinnedMatrix::build(Backend& backend, MatrixView<const float> x, int max_bins,
                                 std::span<const std::int32_t> category_counts,
                                 Communicator* comm) {
  if (max_bins < 2 || max_bins > 256)
    throw InputError(
        "forest: max_bins must be between 2 and 256 (the missing-value bin "
        "included), got " +
        std::to_string(max_bins));
  if (x.rows <= 0 || x.cols <= 0)
    throw InputError("forest: the training data is empty (" + std::to_string(x.rows) + " x " +
                     std::to_string(x.cols) + ")");
  if (x.rows > std::numeric_limits<std::int32_t>::max())
    throw InputError("forest: at most 2^31 - 1 training rows, got " + std::to_string(x.rows));
  for (std::int32_t k : category_counts)
    if (k >= max_bins)
      throw InputError("forest: " + std::to_string(k) +
                       " categories need more than max_bins=" + std::to_string(max_bins) + " bins");
  // The sample is read from host memory: the caller's x when it is there, else a copy.
  HostMatrix host(backend, x);
  const MatrixView<const float> hx = host.view();

  BinnedMatrix out;
  out.backend_ = &backend;
  out.rows_ = x.rows;
  out.cols_ = x.cols;
  out.max_bins_ = max_bins;
  EdgeSample sample = comm ? sample_over_ranks(hx, *comm) : sample_rows(hx);
  std::vector<std::vector<float>>& values = sample.values;
  std::vector<std::int64_t>& present = sample.present;
  // The sample may have missed a feature's few present values: every row is looked at before
  // failing (over every rank's rows, in row order, in a distributed fit).
  if (comm)
    for (std::int64_t j = 0; j < x.cols; ++j)
      if (present[static_cast<std::size_t>(j)] == 0) every_row_over_ranks(hx, j, *comm, sample);
  std::vector<std::vector<float>> per_feature(static_cast<std::size_t>(x.cols));
  parallel_for(x.cols, [&](std::int64_t j) {
    const auto uj = static_cast<std::size_t>(j);
    if (present[uj] == 0) sample.add_every_row(hx, j);
    const std::int32_t k = category_counts.empty() ? 0 : category_counts[uj];
    if (k > 0) {
      // Codes 0..k-1, one bin each: the edges halfway between neighbouring codes.
      for (std::int32_t c = 0; c + 1 < k; ++c)
        per_feature[uj].push_back(static_cast<float>(c) + 0.5f);
    } else {
      per_feature[uj] = feature_edges(values[uj], max_bins - 1);
    }
    values[uj] = {};
  });
  out.offsets_.push_back(0);
  for (std::int64_t j = 0; j < x.cols; ++j) {
    if (present[static_cast<std::size_t>(j)] == 0)
      throw InputError("forest: feature " + std::to_string(j) +
                       " (0-based) has no values: every row is missing (NaN); drop or impute it");
    const auto& e = per_feature[static_cast<std::size_t>(j)];
    out.edges_.insert(out.edges_.end(), e.begin(), e.end());
    out.offsets_.push_back(static_cast<std::int32_t>(out.edges_.size()));
    out.n_bins_.push_back(static_cast<std::int32_t>(e.size()) + 2);
  }

  out.bin_rows(x);
  return out;
}

BinnedMatrix BinnedMatrix::build(Backend& backend, MatrixView<const float> x,
                                 const BinnedMatrix& edges_of) {
  if (x.rows <= 0 || x.cols != edges_of.cols_)
    throw InputError("forest: rows to bin with existing edges are " + std::to_string(x.rows) +
                     " x " + std::to_string(x.cols) + "; the edges are for " +
                     std::to_string(edges_of.cols_) + " features");
  if (x.rows > std::numeric_limits<std::int32_t>::max())
    throw InputError("forest: at most 2^31 - 1 training rows, got " + std::to_string(x.rows));
  BinnedMatrix out;
  out.backend_ = &backend;
  out.rows_ = x.rows;
  out.cols_ = x.cols;
  out.max_bins_ = edges_of.max_bins_;
  out.edges_ = edges_of.edges_;
  out.offsets_ = edges_of.offsets_;
  out.n_bins_ = edges_of.n_bins_;
  out.bin_rows(x);
  return out;
}

void BinnedMatrix::bin_rows(MatrixView<const float> x) {
  Backend& backend = *backend_;
  DeviceVector<float> edges(backend, edges_);
  DeviceVector<std::int32_t> offsets(backend, offsets_);
  DeviceMatrix xd(backend, x);
  codes_ = Buffer<std::uint8_t>(backend, x.rows * x.cols);
  backend.forest().bin(xd.view(), edges.view(), offsets.view(),
                       codes_.matrix(x.rows, x.cols, Layout::kRowMajor));
}

float BinnedMatrix::upper_edge(std::int64_t j, std::int32_t b) const {
  const std::int32_t edges_j =
      offsets_[static_cast<std::size_t>(j + 1)] - offsets_[static_cast<std::size_t>(j)];
  if (b > edges_j) return std::numeric_limits<float>::infinity();
  return edges_[static_cast<std::size_t>(offsets_[static_cast<std::size_t>(j)] + b - 1)];
}

MatrixView<const std::uint8_t> BinnedMatrix::codes() const {
  return {codes_.data(), rows_, cols_, cols_, Layout::kRowMajor, codes_.device()};
}

}  // namespace tabula

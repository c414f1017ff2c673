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

}  // namespace

BinnedMatrix BinnedMatrix::build(Backend& backend, MatrixView<const float> x, int max_bins,
                                 std::span<const std::int32_t> category_counts) {
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
  const std::int64_t sample = std::min(x.rows, kMaxBinningRows);
  std::vector<std::vector<float>> values(static_cast<std::size_t>(x.cols));
  std::vector<std::int64_t> present(static_cast<std::size_t>(x.cols), 0);
  for (auto& v : values) v.reserve(static_cast<std::size_t>(sample));
  // One pass over the sampled rows (evenly spaced, no randomness), reading each row once.
  for (std::int64_t s = 0; s < sample; ++s) {
    const std::int64_t i = s * x.rows / sample;
    for (std::int64_t j = 0; j < x.cols; ++j) {
      const float v = hx(i, j);
      if (std::isnan(v)) continue;
      ++present[static_cast<std::size_t>(j)];
      if (std::isfinite(v)) values[static_cast<std::size_t>(j)].push_back(v);
    }
  }
  std::vector<std::vector<float>> per_feature(static_cast<std::size_t>(x.cols));
  parallel_for(x.cols, [&](std::int64_t j) {
    const auto uj = static_cast<std::size_t>(j);
    if (present[uj] == 0) {
      // The sample may have missed the few present values: look at every row before failing.
      for (std::int64_t i = 0; i < x.rows; ++i) {
        const float v = hx(i, j);
        if (std::isnan(v)) continue;
        ++present[uj];
        if (std::isfinite(v)) values[uj].push_back(v);
      }
    }
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

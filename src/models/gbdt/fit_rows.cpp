#include "models/gbdt/fit_rows.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "distributed/reduce.hpp"
#include "models/forest/forest_builder.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::gbdt {
namespace {

// Fixed point: the largest |gradient| of a tree is 2^bits units, with bits as large as keeps any
// sum of n rows below 2^62 (and at most 40, far beyond float32 gradients' precision).
constexpr int kMaxQuantBits = 40;
// Packed channels leave the Hessian 62 - 2 bit_width(n) bits; below this many (n >= 2^21) they
// stay plain. 20 bits resolve a 2^-20 part of the largest Hessian, as fine as scikit-learn's
// float32 Hessians near their maximum.
constexpr int kMinPackedHessianBits = 20;
// Rows per quantisation task.
constexpr std::int64_t kRowsPerTask = 16384;

// std::llround for |x| < 2^53 (halves away from zero), inline: the library call was 1.5% of a
// fit's time. The cast truncates, and x - t is exact at these magnitudes.
inline std::int64_t round_half_away(double x) {
  const auto t = static_cast<std::int64_t>(x);
  const double fraction = x - static_cast<double>(t);
  return t + (fraction >= 0.5) - (fraction <= -0.5);
}

int count_bits(std::int64_t n, bool pack) {
  const int bits = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(n)));
  return pack && 62 - 2 * bits >= kMinPackedHessianBits ? bits : 0;
}

}  // namespace

FitRows::FitRows(Backend& backend, const BinnedMatrix& bins, bool pack, Communicator* comm,
                 bool bundle)
    : backend_(backend),
      bins_(bins),
      comm_(comm),
      total_rows_(distributed::row_range(comm, bins.rows()).total),
      rows_(backend, bins.rows()),
      count_bits_(count_bits(total_rows_, pack)),
      channels_(backend, bins.rows() * Quantiser::channels_for(count_bits_)),
      code_stride_(forest::ordered_code_stride(backend, bins)),
      columns_(backend.uses_host_memory() ? forest::feature_major_codes(bins)
                                          : std::vector<std::uint8_t>{}) {
  const std::int64_t n = bins.rows();
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  rows_.copy_from_host(ids);
  if (!backend.uses_host_memory()) staged_.resize(static_cast<std::size_t>(channels_.size()));
  if (bundle && code_stride_ > 0 && (comm == nullptr || comm->size() <= 1)) {
    auto bundles = std::make_unique<FeatureBundles>(bins, columns_);
    if (!bundles->empty()) {
      bundles_ = std::move(bundles);
      // Rows of at most 16 bundles move as 16 bytes: half the partition's and the per-tree
      // copy's bytes (diamonds: 9 bundles).
      if (bundles_->size() <= 16) code_stride_ = 16;
    }
  }
  ordered_codes_.resize(static_cast<std::size_t>(n * code_stride_));
}

void FitRows::restore_row_order() {
  const std::int64_t n = bins_.rows();
  std::iota(rows_.data(), rows_.data() + n, 0);
  forest::copy_ordered_codes(bundles_ ? bundles_->codes() : bins_.codes(), nullptr, n, code_stride_,
                             ordered_codes_.data());
}

// The fixed-point values and their sums in parallel blocks; integer sums added in block order.
TreeInput FitRows::quantise(std::span<const double> grad_hess, std::int64_t k, std::int64_t col,
                            std::span<const double> largest) {
  const std::int64_t n = bins_.rows();
  const std::int64_t tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  if (code_stride_ > 0) restore_row_order();
  if (static_cast<std::int64_t>(largest.size()) != 2 * k)
    throw Error("gbdt: quantise got " + std::to_string(largest.size()) +
                " largest magnitudes, expected " + std::to_string(2 * k));
  std::vector<double> top{largest[static_cast<std::size_t>(2 * col)],
                          largest[static_cast<std::size_t>(2 * col + 1)]};
  distributed::max_over_ranks(comm_, top);  // every rank's rows
  const double g_top = top[0], h_top = top[1];
  const int bits =
      std::min(kMaxQuantBits,
               62 - static_cast<int>(std::bit_width(static_cast<std::uint64_t>(total_rows_))));
  // Packed, the Hessian's sums share 62 bits with the count's.
  const int hessian_bits = std::min(bits, 62 - 2 * count_bits_);
  TreeInput input;
  input.units.gradient_scale = g_top > 0 ? std::ldexp(1.0, bits) / g_top : 1.0;
  input.units.hessian_scale = h_top > 0 ? std::ldexp(1.0, hessian_bits) / h_top : 1.0;
  input.units.count_bits = count_bits_;
  const std::int64_t k_out = input.units.channels();
  // Position i holds row i (ordered rows were put back in id order above).
  std::int64_t* out = backend_.uses_host_memory() ? channels_.data() : staged_.data();
  std::vector<std::int64_t> sums(static_cast<std::size_t>(tasks * kSums));
  const double g_scale = input.units.gradient_scale, h_scale = input.units.hessian_scale;
  const int count_bits = count_bits_;
  parallel_for(tasks, [&](std::int64_t t) {
    // Sums in locals: through the output array they were a store-to-load chain per row.
    std::int64_t g_sum = 0, h_sum = 0;
    const std::int64_t begin = t * kRowsPerTask, end = std::min(n, (t + 1) * kRowsPerTask);
    for (std::int64_t i = begin; i < end; ++i) {
      const double* gh = grad_hess.data() + (i * k + col) * 2;
      const std::int64_t g = round_half_away(gh[0] * g_scale);
      const std::int64_t h = round_half_away(gh[1] * h_scale);
      std::int64_t* c = out + i * k_out;
      if (count_bits > 0) {
        c[0] = g;
        c[1] = (h << count_bits) + 1;
      } else {
        c[0] = 1;
        c[1] = g;
        c[2] = h;
      }
      g_sum += g;
      h_sum += h;
    }
    std::int64_t* sum = sums.data() + t * kSums;
    sum[0] = end - begin;
    sum[1] = g_sum;
    sum[2] = h_sum;
  });
  input.total.assign(kSums, 0);
  for (std::int64_t t = 0; t < tasks; ++t)
    for (std::int64_t j = 0; j < kSums; ++j)
      input.total[static_cast<std::size_t>(j)] += sums[static_cast<std::size_t>(t * kSums + j)];
  distributed::sum_over_ranks(comm_, input.total);
  if (!backend_.uses_host_memory()) channels_.copy_from_host(staged_);
  input.channels = std::as_const(channels_).matrix(n, k_out, Layout::kRowMajor);
  return input;
}

ForestBatch FitRows::batch(VectorView<const std::int32_t> begin, VectorView<const std::int32_t> end,
                           VectorView<const std::int32_t> features, std::int64_t per_node) {
  ForestBatch batch;
  batch.nodes = 1;
  batch.begin = begin;
  batch.end = end;
  batch.features = features;
  batch.features_per_node = per_node;
  if (code_stride_ == 0) return batch;
  const std::int64_t n = bins_.rows();
  batch.ordered_channels = MatrixView<std::int64_t>::row_major(
      channels_.data(), n, Quantiser::channels_for(count_bits_));
  batch.ordered_codes = {ordered_codes_.data(),  n,
                         histogram_codes().cols, code_stride_,
                         Layout::kRowMajor,      Device::cpu()};
  return batch;
}

MatrixView<const std::uint8_t> FitRows::codes_by_id() const {
  if (columns_.empty()) return bins_.codes();
  return {columns_.data(), bins_.rows(),      bins_.cols(),
          bins_.rows(),    Layout::kColMajor, Device::cpu()};
}

MatrixView<const std::uint8_t> FitRows::histogram_codes() const {
  return bundles_ ? bundles_->codes() : codes_by_id();
}

std::shared_ptr<Buffer<std::int64_t>> FitRows::histogram_buffer(std::int64_t size) {
  for (const auto& buffer : histogram_buffers_)
    if (buffer.use_count() == 1 && buffer->size() == size) return buffer;  // held by no node
  histogram_buffers_.push_back(std::make_shared<Buffer<std::int64_t>>(backend_, size));
  return histogram_buffers_.back();
}

std::span<const std::int32_t> FitRows::host_rows() {
  if (backend_.uses_host_memory()) return {rows_.data(), static_cast<std::size_t>(rows_.size())};
  host_rows_ = rows_.to_host();
  return host_rows_;
}

}  // namespace tabula::gbdt

// The training rows of a gradient-boosting fit as the trees see them: their order, their
// binned codes beside them and feature-major on host backends, each tree's fixed-point gradient
// and Hessian channels, and the histogram buffers the trees reuse.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "models/gbdt/feature_bundles.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {
class Communicator;
}

namespace tabula::gbdt {

/// A row's (or a set of rows') count, gradient and Hessian sums, in this order, in fixed-point
/// units: how the grower reads them.
inline constexpr std::int64_t kSums = 3;

/// Fixed-point units of a tree's channels (quantised = round(value * scale)) and how the
/// histograms store a row's sums. Packed (count_bits > 0): two int64 channels, the gradient and
/// (Hessian << count_bits) + count, which add up exactly while every sum stays below 2^62, so a
/// histogram bin costs one 16-byte add; plain: three channels, count, gradient, Hessian.
struct Quantiser {
  double gradient_scale = 1;
  double hessian_scale = 1;
  int count_bits = 0;  // 0: plain

  std::int64_t channels() const { return channels_for(count_bits); }
  static std::int64_t channels_for(int count_bits) { return count_bits > 0 ? 2 : 3; }
  /// The (count, gradient, Hessian) sums of stored channels c.
  void unpack(const std::int64_t* c, std::int64_t* sums) const {
    if (count_bits == 0) {
      sums[0] = c[0];
      sums[1] = c[1];
      sums[2] = c[2];
      return;
    }
    sums[0] = c[1] & ((std::int64_t{1} << count_bits) - 1);
    sums[1] = c[0];
    sums[2] = c[1] >> count_bits;
  }
};

/// The training rows of one tree. channels: n x units.channels() row-major int64 in backend
/// memory (FitRows says in which order); total: the rows' (count, gradient, Hessian) sums.
struct TreeInput {
  MatrixView<const std::int64_t> channels;
  std::vector<std::int64_t> total;
  Quantiser units;
  /// Optional: a leaf's value (before the learning rate) from its training rows (host row
  /// indices), replacing -G / (H + lambda); absolute_error's median residual.
  std::function<double(std::span<const std::int32_t> rows)> leaf_value;
};

/// The training rows of a fit: their order (the row index array), their binned codes beside
/// them on host backends (ForestBatch::ordered_codes) and a feature-major copy (codes_by_id),
/// each tree's fixed-point channels, and the histogram buffers its trees reuse.
/// Any order grows the same tree (histograms are integer sums). Host backends start each tree
/// with the rows in id order and partition a split's rows in place, moving only the misplaced
/// ones (ForestBatch::left_rows) with their codes and channels; other backends keep the order
/// the last tree left and the channels by row id.
class FitRows {
 public:
  /// pack: store the channels packed (Quantiser) when the row count leaves the Hessian enough
  /// bits; false keeps them plain (tests compare the two). comm (null: one process): `bins` are
  /// this rank's rows; the units come from every rank's rows (their count and largest
  /// magnitudes) and the totals are summed over the ranks, so every rank quantises as one
  /// process does. bundle: let exclusive features share a histogram column when they can
  /// (bundles()); false keeps one per feature (tests compare the two).
  FitRows(Backend& backend, const BinnedMatrix& bins, bool pack = true,
          Communicator* comm = nullptr, bool bundle = true);

  /// Quantises column `col` of grad_hess (n x k (gradient, Hessian) pairs, training-row order:
  /// gbdt::gradients) into the channels of the next tree: their units and column sums, and
  /// channels pointing at them. largest: the 2k largest magnitudes of this rank's pairs
  /// (gbdt::gradients' `largest`, or gbdt::largest_magnitudes).
  TreeInput quantise(std::span<const double> grad_hess, std::int64_t k, std::int64_t col,
                     std::span<const double> largest);

  /// The row index array (backend memory): a node's rows are positions begin .. end of it.
  Buffer<std::int32_t>& rows() { return rows_; }
  /// The histogram batch of nodes begin[i] .. end[i], with the rows' ordered codes and channels
  /// when this backend keeps them.
  ForestBatch batch(VectorView<const std::int32_t> begin, VectorView<const std::int32_t> end,
                    VectorView<const std::int32_t> features, std::int64_t per_node);
  /// The row ids in their current order, on the host (valid until the next call).
  std::span<const std::int32_t> host_rows();
  /// The codes read by row id: by the partition (a split's side) and, without ordered codes,
  /// by the histograms. On host backends a feature-major copy: the partition gathers a row's
  /// code from the split feature's column, n bytes that stay in cache, in place of streaming
  /// the ordered codes' 32-byte rows (1M x 28, 150 iterations, two threads: the side search's
  /// CPU time 5,192 -> 2,007 perf samples); a wide table's histograms (no ordered codes) take
  /// one feature at a time into a histogram in L1, where a row-major row scattered its adds over
  /// every feature's histogram (pixels, 20,000 x 784: 3.2 MB a node). The binned codes elsewhere.
  MatrixView<const std::uint8_t> codes_by_id() const;
  /// The codes the histograms read, by row id (a batch's features index their columns): the
  /// feature bundles' when the fit has some (bundles()), else codes_by_id().
  MatrixView<const std::uint8_t> histogram_codes() const;
  /// The histograms' columns: bundles (feature_histogram reads each feature's back), or null
  /// when the histograms hold one column per feature. Host backends with ordered codes, one
  /// process (a rank's own rows could bundle differently from another's).
  const FeatureBundles* bundles() const { return bundles_.get(); }
  /// A buffer of `size` histogram entries in backend memory that no node holds (the caller's
  /// while it keeps a reference): the trees of a fit reuse these, where a buffer per split was
  /// mapped, faulted in and unmapped again (diamonds, 43,152 x 26, 300 iterations: 180k -> 76k
  /// page faults a fit).
  std::shared_ptr<Buffer<std::int64_t>> histogram_buffer(std::int64_t size);

 private:
  /// Puts the rows (and their ordered codes) back in id order, so that each tree's per-row
  /// passes read and write in order: quantise reads the gradients in place of gathering them
  /// by row id (1M x 28, 150 iterations, two threads: 12.1 -> 11.5 s).
  void restore_row_order();

 private:
  Backend& backend_;
  const BinnedMatrix& bins_;
  Communicator* comm_;
  std::int64_t total_rows_;  // every rank's
  Buffer<std::int32_t> rows_;
  int count_bits_ = 0;                   // Quantiser::count_bits of every tree
  Buffer<std::int64_t> channels_;        // n x channels: by position when ordered, else by row id
  std::vector<std::int64_t> staged_;     // the channels on the host, for a device backend
  std::vector<std::int32_t> host_rows_;  // the row ids on the host, for a device backend
  std::int64_t code_stride_ = 0;         // 0: no ordered codes and channels
  std::vector<std::uint8_t> ordered_codes_;
  std::vector<std::uint8_t> columns_;  // feature-major codes (d x n) on host backends
  std::unique_ptr<FeatureBundles> bundles_;
  std::vector<std::shared_ptr<Buffer<std::int64_t>>> histogram_buffers_;
};

}  // namespace tabula::gbdt

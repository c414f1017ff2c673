// The histogram-forest op family: binning, per-node histograms and their subtraction, the split
// scan, the row partition, and traversal (predict, apply). The forest's builder
// (src/models/forest/) is written once over these. Results are bit-identical for any thread
// count and on every backend: histogram sums are integers. Conventions shared by every op
// family are in backend.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "tabula/backend/forest_split_rule.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula {

/// Bytes of one category (or bin) set of a categorical split: a bit for each of 256 codes.
inline constexpr std::int64_t kForestCategorySetBytes = 32;

/// A batch of tree nodes. Node i owns the rows rows[begin[i] .. end[i]) of the row index array
/// and, for histograms and splits, the `features_per_node` features
/// features[i * features_per_node ...]. All views in backend memory; `nodes` entries each.
struct ForestBatch {
  std::int64_t nodes = 0;
  VectorView<const std::int32_t> begin;
  VectorView<const std::int32_t> end;
  VectorView<const std::int32_t> features;  // nodes x features_per_node
  std::int64_t features_per_node = 0;
  /// Host backends only (others refuse it; empty: unused): the rows' channels by position in
  /// the row index array (rows[p]'s channels at row p, n_rows x channels, row-major), as
  /// LightGBM keeps its ordered gradients. histograms read a node's channels from it in order
  /// instead of gathering channels[rows[p]], and partition moves them with the rows.
  MatrixView<std::int64_t> ordered_channels;
  /// Host backends only, likewise: the rows' codes by position (rows[p]'s codes in row p,
  /// n_rows x c row-major, stride 16, 32 or 64). histograms read a node's codes from it in order
  /// (c: the codes' columns, which batch.features index) and partition moves them with the rows
  /// whatever their columns (boosting's feature bundles), so no pass reads a code by row id.
  MatrixView<std::uint8_t> ordered_codes;
  /// Optional (empty: unused), for partition: per node a bin set of kForestCategorySetBytes
  /// bytes (nodes x 32, backend memory). A row goes left when the bit of its bin is set (bit 0:
  /// the missing bin) instead of by the node's bin and missing_left: a categorical split.
  VectorView<const std::uint8_t> left_bins;
  /// Optional, for partition (host memory, `nodes` entries): how many of each node's rows go
  /// left, as the caller knows from the split's histogram. Host backends then move only the
  /// misplaced rows: the q-th row going right among the node's first left_rows positions
  /// trades places with the q-th row going left after them. Each side's rows end in an order
  /// that depends on the rows alone (not on the thread count) but is not the stable one;
  /// histograms, integer sums, do not mind. A count that the rows contradict is refused
  /// (Error) before any row moves. Other backends may ignore it (a stable partition).
  VectorView<const std::int32_t> left_rows;
};

/// Histogram shape: `bins` slots per feature (bin 0 = missing) and `channels` int64 sums per
/// bin. Channel 0 counts rows; classification: channel 1 + c = weight of class c; regression:
/// channel 1 = weight, channel 2 = weight x quantised target. Integer sums make the result
/// independent of summation order (threads, devices).
struct ForestHistShape {
  std::int64_t bins = 0;
  std::int64_t channels = 0;
  /// int64 values per node: features_per_node x bins x channels.
  std::int64_t node_size(std::int64_t features_per_node) const {
    return features_per_node * bins * channels;
  }
};

/// Best split per node (written by ForestOps::best_splits), backend memory, `nodes` entries each.
/// feature = -1 when the node has no valid split. A row goes left when its bin is in
/// 1..bin, or it is missing (bin 0) and missing_left is 1. left and total: nodes x channels.
struct ForestSplits {
  VectorView<std::int32_t> feature;
  VectorView<std::int32_t> bin;
  VectorView<std::uint8_t> missing_left;
  VectorView<double> gain;  // weighted impurity decrease, in channel units
  MatrixView<std::int64_t> left;
  MatrixView<std::int64_t> total;
};

/// Where a backend may keep what it derives from a forest's arrays for traversal (the CPU's
/// breadth-first walk layout) from one call to the next. Owned by whoever owns the arrays
/// (RandomForest), who replaces it whenever they change. Safe to use from concurrent calls.
class ForestTraversalCache {
 public:
  /// The entry a backend stored under `key` (its own tag for what it derived), or null.
  std::shared_ptr<const void> find(std::uint64_t key) const {
    std::lock_guard lock(mutex_);
    return key == key_ ? entry_ : nullptr;
  }
  void store(std::uint64_t key, std::shared_ptr<const void> entry) {
    std::lock_guard lock(mutex_);
    key_ = key;
    entry_ = std::move(entry);
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t key_ = 0;
  std::shared_ptr<const void> entry_;
};

/// Trees as plain arrays (backend memory), nodes of all trees concatenated; tree t owns nodes
/// offsets[t] .. offsets[t + 1]. Children are indices within the tree; feature -1 marks a leaf.
/// A row goes left when x <= threshold, or x is NaN and missing_left is 1. values holds
/// value_size float64 per node (class probabilities or the regression value).
struct ForestTrees {
  VectorView<const std::int64_t> offsets;  // n_trees + 1
  VectorView<const std::int32_t> feature;
  VectorView<const float> threshold;
  VectorView<const std::int32_t> left;
  VectorView<const std::int32_t> right;
  VectorView<const std::uint8_t> missing_left;
  VectorView<const double> values;  // nodes x value_size
  std::int64_t value_size = 1;
  /// Categorical splits, both empty when there are none. category_set: per node, -1 (a
  /// threshold split or a leaf) or the index of its set in category_bits (sets x
  /// kForestCategorySetBytes bytes). A row goes left at such a node when its value is a code
  /// 0..255 whose bit is set; anything else (NaN, a negative, a fraction, >= 256) follows
  /// missing_left. threshold is unused there.
  VectorView<const std::int32_t> category_set;
  VectorView<const std::uint8_t> category_bits;
  /// Optional (host memory): lets ForestOps::predict / apply reuse their preparation of these
  /// exact arrays across calls. Leave null for a view of part of a forest or of arrays that
  /// change while the cache lives.
  ForestTraversalCache* cache = nullptr;
  std::int64_t n_trees() const { return offsets.size - 1; }
};

class ForestOps {
 public:
  virtual ~ForestOps() = default;

  /// codes (n x d, row-major uint8) = bin of x(i, j): 0 when NaN, else 1 + the number of
  /// feature j's edges strictly below x(i, j) (so -inf is bin 1, +inf the last bin). Feature j's
  /// ascending edges are edges[offsets[j] .. offsets[j + 1]) (offsets: d + 1 entries, at most
  /// 254 edges per feature).
  virtual void bin(MatrixView<const float> x, VectorView<const float> edges,
                   VectorView<const std::int32_t> offsets, MatrixView<std::uint8_t> codes) = 0;

  /// hist (batch.nodes x node_size) = per node, feature (of the node's list) and bin, the sums
  /// of channels (n x channels, row-major int64) over the node's rows. Overwrites hist. codes:
  /// n x d, row-major; host backends also take them feature-major (Layout::kColMajor), which
  /// reads only the drawn features' bytes.
  virtual void histograms(MatrixView<const std::uint8_t> codes, VectorView<const std::int32_t> rows,
                          MatrixView<const std::int64_t> channels, const ForestBatch& batch,
                          ForestHistShape shape, VectorView<std::int64_t> hist) = 0;

  /// Histogram subtraction: hist[dst[i]] = parent_hist[parent[i]] - hist[child[i]] for each i,
  /// where [k] is the k-th slot of `slot_size` values.
  virtual void hist_subtract(VectorView<const std::int64_t> parent_hist,
                             VectorView<const std::int32_t> parent,
                             VectorView<const std::int32_t> child,
                             VectorView<const std::int32_t> dst, std::int64_t slot_size,
                             VectorView<std::int64_t> hist) = 0;

  /// Best split per node of the batch from its histograms (batch.begin/end unused).
  /// n_bins (d entries): bins in use per feature, missing bin included. Ties go to the earlier
  /// feature of the node's list, then the lower bin, then missing-right.
  virtual void best_splits(VectorView<const std::int64_t> hist, const ForestBatch& batch,
                           ForestHistShape shape, VectorView<const std::int32_t> n_bins,
                           ForestSplitRule rule, const ForestSplits& out) = 0;

  /// Stable in-place partition of each node's rows (batch.features unused; not stable with
  /// batch.left_rows): rows going left (see ForestSplits, or batch.left_bins when given) first.
  /// feature, bin, missing_left: batch.nodes entries; feature >= 0. codes: as for histograms;
  /// host backends also take them feature-major, and then read each row's side from its
  /// column by row id even when batch.ordered_codes is set (a byte of a column that stays in
  /// cache, where the ordered rows cost a cache line per two rows).
  virtual void partition(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                         const ForestBatch& batch, VectorView<const std::int32_t> feature,
                         VectorView<const std::int32_t> bin,
                         VectorView<const std::uint8_t> missing_left) = 0;

  /// out (n x value_size, row-major) = mean over trees of the leaf values reached by each row
  /// of x (n x d, float32, NaN = missing). Trees are summed in order, so results do not depend
  /// on the thread count.
  virtual void predict(MatrixView<const float> x, const ForestTrees& trees,
                       MatrixView<double> out) = 0;

  /// leaves (n x n_trees, row-major) = index within its tree of the leaf each row reaches.
  virtual void apply(MatrixView<const float> x, const ForestTrees& trees,
                     MatrixView<std::int32_t> leaves) = 0;
};

}  // namespace tabula

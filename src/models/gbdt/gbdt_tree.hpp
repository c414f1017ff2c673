// Grows one gradient-boosting tree leaf-wise (best first, as scikit-learn's HGB grower) over
// Backend's forest primitives: per-node histograms of fixed-point gradient and Hessian sums, the
// smaller child built and its sibling derived as parent - child (hist_subtract), rows
// partitioned in place. The split scan runs on the host over the integer histograms, so the
// tree does not depend on the thread count or the device.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/gbdt/fit_rows.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {
class Communicator;
}

namespace tabula::gbdt {

/// What every tree of one fit shares, resolved to counts.
struct GrowConfig {
  std::int64_t max_leaf_nodes = 0;  // 0: no limit
  std::int64_t max_depth = 0;       // 0: no limit
  std::int64_t min_samples_leaf = 20;
  double min_hessian = 1e-3;  // scikit-learn's min_hessian_to_split, per child
  double l2_regularization = 0.0;
  double learning_rate = 0.1;
  std::int64_t max_features = 0;  // features a node's split may use (d: all)
  std::uint64_t seed = 0;         // feature draws when max_features < d
  /// Categorical features (both empty when there are none): per feature 0 (numeric) or its
  /// number of category codes (bin 1 + c holds code c); per feature the
  /// kForestCategorySetBytes-byte set of codes the training rows showed.
  std::vector<std::int32_t> category_counts;
  std::vector<std::uint8_t> known_categories;
  /// Null: one process. Otherwise the ranks of a data-parallel fit (host backends; the
  /// category counts and known categories are every rank's): each node's histogram is all-reduced
  /// (int64, exact) after it is built, so every rank finds the same splits; each rank partitions
  /// its own rows.
  Communicator* comm = nullptr;
  bool categorical(std::int64_t f) const {
    return !category_counts.empty() && category_counts[static_cast<std::size_t>(f)] > 0;
  }
};

/// One grown tree: a single-tree ForestModel (value_size 1, leaf values already multiplied by
/// the learning rate) and, per node, the bin of its split (rows with codes 1..bin go left; a
/// categorical split's bins are its category set shifted by one), so rows binned with the same
/// edges can be walked without their float values.
struct GrownTree {
  ForestModel tree;
  std::vector<std::int32_t> split_bin;
};

/// Grows tree `tree_index` on all rows of `bins` and adds each training row's leaf value to
/// raw[row * stride + offset] (host, n * stride entries). input: from rows.quantise.
GrownTree grow_tree(Backend& backend, const BinnedMatrix& bins, const GrowConfig& config,
                    std::int64_t tree_index, FitRows& rows, const TreeInput& input,
                    std::span<double> raw, std::int64_t stride, std::int64_t offset);

/// Adds the leaf value of `grown` that each row of codes (host, n x d row-major, binned with
/// the training edges) reaches to raw[row * stride + offset].
void add_tree_by_codes(const GrownTree& grown, std::span<const std::uint8_t> codes, std::int64_t d,
                       std::span<double> raw, std::int64_t stride, std::int64_t offset);

}  // namespace tabula::gbdt

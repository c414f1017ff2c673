// Histogram forest: batch traversal of all trees (mean of leaf values) and leaf indices.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tabula::kernels {

/// The walk kernels' argument pack: the device pointers of tabula::ForestTrees (nodes of all trees
/// concatenated, tree t owns offsets[t] .. offsets[t + 1], children within the tree, feature -1
/// for leaves) plus what the host checked about them (src/backend/cuda/forest_tree_check.hpp):
/// the row width and the depth bound. Not a mirror of ForestTrees: it is what one kernel launch
/// copies to the device by value, without ForestTrees' host-side cache pointer and per-view
/// device tags, and with the checked bounds ForestTrees does not carry. The walk still stops
/// after max_depth steps, at a feature >= d and at a child outside the tree, so no input can
/// make a kernel loop forever or read outside the arrays.
struct ForestTreeArrays {
  const std::int64_t* offsets;
  const std::int32_t* feature;
  const float* threshold;
  const std::int32_t* left;
  const std::int32_t* right;
  const std::uint8_t* missing_left;
  const double* values;
  const std::int32_t* category_set;   // null: no categorical splits; else per node -1 or a set
  const std::uint8_t* category_bits;  // 32 bytes per set (see tabula::ForestTrees)
  std::int64_t value_size;
  std::int64_t n_trees;
  std::int64_t d;          // features per row
  std::int64_t max_depth;  // edges on the longest root-to-leaf path of any tree
};

/// out (rows x value_size, row-major) = mean over trees of the leaf values reached by each row
/// of x (rows x d, row-major, leading dimension ldx). Trees are summed in order per row, so the
/// result matches the CPU bit for bit. All of `trees` in device memory; queued on `stream`.
void launch_forest_predict(const float* x, std::int64_t rows, std::int64_t ldx,
                           const ForestTreeArrays& trees, double* out, cudaStream_t stream);

/// leaves (rows x n_trees, row-major, leading dimension ld) = leaf index within each tree.
void launch_forest_apply(const float* x, std::int64_t rows, std::int64_t ldx,
                         const ForestTreeArrays& trees, std::int32_t* leaves, std::int64_t ld,
                         cudaStream_t stream);

}  // namespace tabula::kernels

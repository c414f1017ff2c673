// The CUDA forest's defence at upload: before a kernel walks trees that came from a file or a
// caller, their host copies are checked to be real binary trees over the row's d features, and
// their depth bounds the walk. Plain host code with no CUDA type, so the CPU-only build tests it
// (tests/backend/cuda_forest_plan_test.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tabula/core/error.hpp"

namespace tabula::cuda {

/// Host copies of ForestTrees' arrays. offsets: n_trees + 1 entries, as given (absolute); the
/// node arrays hold nodes offsets[0] .. offsets[n_trees], node g at [g - offsets[0]].
struct HostForest {
  const std::int64_t* offsets;
  std::int64_t n_trees;
  const std::int32_t* feature;
  const float* threshold;
  const std::int32_t* left;
  const std::int32_t* right;
  /// Categorical splits (null: none): per node -1 or a set index below category_sets.
  const std::int32_t* category_set = nullptr;
  std::int64_t category_sets = 0;
};

namespace detail {
[[noreturn]] inline void bad_node(std::int64_t tree, std::int64_t node, const std::string& what) {
  throw Error("forest: tree " + std::to_string(tree) + " node " + std::to_string(node) + " " +
              what + "; refusing to walk it on the GPU");
}
}  // namespace detail

/// Throws Error naming the tree and node unless every tree is a binary tree rooted at its node 0:
/// each split has feature in [0, d), a threshold that is not NaN and two children inside the tree
/// (never the root, each node reached once), a category set index in range where there are
/// categorical splits, and every node is reached. Returns the largest
/// depth (edges on a root-to-leaf path) over the trees: the walk's step bound.
inline std::int64_t check_forest_trees(const HostForest& t, std::int64_t d) {
  std::int64_t deepest = 0;
  std::vector<std::int32_t> order;  // breadth-first: node ids of this tree
  std::vector<std::int64_t> level;
  std::vector<std::uint8_t> seen;
  for (std::int64_t tree = 0; tree < t.n_trees; ++tree) {
    const std::int64_t base = t.offsets[tree] - t.offsets[0];
    const std::int64_t size = t.offsets[tree + 1] - t.offsets[tree];
    if (size < 1 || size > INT32_MAX)
      throw Error("forest: tree " + std::to_string(tree) + " has " + std::to_string(size) +
                  " nodes; refusing to walk it on the GPU");
    order.assign(1, 0);
    level.assign(1, 0);
    seen.assign(static_cast<std::size_t>(size), 0);
    seen[0] = 1;
    for (std::size_t p = 0; p < order.size(); ++p) {
      const std::int32_t node = order[p];
      const std::int64_t g = base + node;
      deepest = std::max(deepest, level[p]);
      const std::int32_t f = t.feature[g];
      if (f < 0) continue;
      if (f >= d)
        detail::bad_node(tree, node,
                         "splits on feature " + std::to_string(f) + " of " + std::to_string(d));
      if (std::isnan(t.threshold[g])) detail::bad_node(tree, node, "has a NaN threshold");
      if (t.category_set != nullptr &&
          (t.category_set[g] < -1 || t.category_set[g] >= t.category_sets))
        detail::bad_node(tree, node,
                         "names category set " + std::to_string(t.category_set[g]) + " of " +
                             std::to_string(t.category_sets));
      for (const std::int32_t child : {t.left[g], t.right[g]}) {
        if (child <= 0 || child >= size || seen[static_cast<std::size_t>(child)] != 0)
          detail::bad_node(tree, node,
                           "has child " + std::to_string(child) + " (outside 1.." +
                               std::to_string(size - 1) + " or reached twice)");
        seen[static_cast<std::size_t>(child)] = 1;
        order.push_back(child);
        level.push_back(level[p] + 1);
      }
    }
    if (static_cast<std::int64_t>(order.size()) != size)
      throw Error("forest: tree " + std::to_string(tree) + " has " +
                  std::to_string(size - static_cast<std::int64_t>(order.size())) +
                  " unreachable nodes; refusing to walk it on the GPU");
  }
  return deepest;
}

}  // namespace tabula::cuda

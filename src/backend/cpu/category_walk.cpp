// The per-row walk of trees with categorical splits (see category_walk.hpp).
#include "backend/cpu/category_walk.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/forest_math.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::cpu {
namespace {

constexpr std::int64_t kBlockRows = 1024;

[[noreturn]] void malformed(std::int64_t tree, std::int64_t node, const std::string& what) {
  throw Error("forest traversal: tree " + std::to_string(tree) + " node " + std::to_string(node) +
              " " + what);
}

// The leaf (index within the tree) that `row` reaches in tree `tree`. At most `size` steps:
// children come after their parents, so a longer walk means a malformed tree.
std::int32_t walk(const ForestTrees& t, std::int64_t tree, const float* row, std::int64_t d) {
  const std::int64_t base = t.offsets.data[tree];
  const std::int64_t size = t.offsets.data[tree + 1] - base;
  const std::int64_t sets = t.category_bits.size / kForestCategorySetBytes;
  std::int32_t node = 0;
  for (std::int64_t step = 0; step <= size; ++step) {
    const std::int64_t g = base + node;
    const std::int32_t f = t.feature.data[g];
    if (f < 0) return node;
    if (f >= d)
      malformed(tree, node, "reads feature " + std::to_string(f) + " of " + std::to_string(d));
    const float v = row[f];
    const bool ml = t.missing_left.data[g] != 0;
    const std::int32_t set = t.category_set.data[g];
    if (set >= sets) malformed(tree, node, "names category set " + std::to_string(set));
    const bool left = set >= 0 ? forest::category_goes_left(
                                     t.category_bits.data + set * kForestCategorySetBytes, v, ml)
                               : (std::isnan(v) ? ml : v <= t.threshold.data[g]);
    const std::int32_t next = left ? t.left.data[g] : t.right.data[g];
    if (next <= node || next >= size) malformed(tree, node, "has child " + std::to_string(next));
    node = next;
  }
  malformed(tree, node, "is on a cycle");
}

void check_shapes(const ForestTrees& t) {
  // Node arrays are indexed by absolute node number, as offsets give it.
  const std::int64_t nodes = t.offsets.data[t.n_trees()];
  if (t.category_set.size < nodes || t.category_bits.size % kForestCategorySetBytes != 0)
    throw Error("forest traversal: " + std::to_string(t.category_set.size) +
                " category set indices for " + std::to_string(nodes) + " nodes, " +
                std::to_string(t.category_bits.size) + " set bytes");
}

}  // namespace

void apply_with_categories(MatrixView<const float> x, const ForestTrees& trees,
                           MatrixView<std::int32_t> leaves) {
  check_shapes(trees);
  parallel_blocks(x.rows, kBlockRows, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> row(static_cast<std::size_t>(x.cols));
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0; j < x.cols; ++j) row[static_cast<std::size_t>(j)] = x(i, j);
      for (std::int64_t t = 0; t < trees.n_trees(); ++t)
        leaves(i, t) = walk(trees, t, row.data(), x.cols);
    }
  });
}

void predict_with_categories(MatrixView<const float> x, const ForestTrees& trees,
                             MatrixView<double> out) {
  check_shapes(trees);
  const std::int64_t v = trees.value_size, n_trees = trees.n_trees();
  const double scale = n_trees > 0 ? 1.0 / static_cast<double>(n_trees) : 0.0;
  parallel_blocks(x.rows, kBlockRows, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> row(static_cast<std::size_t>(x.cols));
    std::vector<double> sum(static_cast<std::size_t>(v));
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0; j < x.cols; ++j) row[static_cast<std::size_t>(j)] = x(i, j);
      std::fill(sum.begin(), sum.end(), 0.0);
      for (std::int64_t t = 0; t < n_trees; ++t) {
        const std::int64_t leaf = trees.offsets.data[t] + walk(trees, t, row.data(), x.cols);
        for (std::int64_t c = 0; c < v; ++c)
          sum[static_cast<std::size_t>(c)] += trees.values.data[leaf * v + c];
      }
      for (std::int64_t c = 0; c < v; ++c) out(i, c) = sum[static_cast<std::size_t>(c)] * scale;
    }
  });
}

}  // namespace tabula::cpu

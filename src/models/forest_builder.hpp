// Grows one histogram tree with Backend's forest primitives: level-wise (histogram subtraction
// when every feature is a candidate at every node) or best-first when max_leaf_nodes is set.
#pragma once

#include <cstdint>
#include <vector>

#include "tabula/backend.hpp"
#include "tabula/models/forest.hpp"

namespace tabula::forest {

/// Everything about a fit that every tree shares, resolved to counts and channel units.
struct TreeConfig {
  std::int64_t max_depth = 0;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  std::int64_t max_features = 1;    // drawn per node, 1..d
  std::int64_t max_leaf_nodes = 0;  // 0: level-wise growth
  double min_impurity_decrease = 0.0;
  ForestCriterion criterion = ForestCriterion::kGini;
  std::int64_t channels = 0;
  int n_classes = 0;        // 0: regression
  double target_scale = 1;  // regression: quantised target = (y - center) * scale
  double target_center = 0;
  std::uint64_t seed = 0;
};

/// One tree's training rows on the backend: the row index list (rows with a positive count)
/// and channels (n x channels, row-major int64; see ForestHistShape), plus their sums.
struct TreeRows {
  VectorView<std::int32_t> rows;
  MatrixView<const std::int64_t> channels;
  std::vector<std::int64_t> total;
};

/// Grows tree `tree` and appends it to `model`; adds its impurity decreases per feature (in
/// channel units) to `importance` (d entries).
void grow_tree(Backend& backend, const BinnedMatrix& bins, const TreeConfig& config,
               std::int64_t tree, const TreeRows& rows, ForestModel& model,
               std::vector<double>& importance);

}  // namespace tabula::forest

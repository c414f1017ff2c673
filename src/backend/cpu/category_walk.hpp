// The CPU traversal of trees that hold categorical splits (gradient boosting with
// categorical_features): a plain per-row walk. The fast walk of forest_cpu.cpp compares one
// float per node and has no room for a set test; forests with threshold splits only never come
// here.
#pragma once

#include "tabula/backend/forest_ops.hpp"

namespace tabula::cpu {

/// forest_apply for trees with categorical splits: leaves (x.rows x n_trees, host) = the leaf
/// index each row reaches in each tree. Throws Error for a node whose feature, children or set
/// index is out of range (the arrays come from files as well as from fits).
void apply_with_categories(MatrixView<const float> x, const ForestTrees& trees,
                           MatrixView<std::int32_t> leaves);

/// forest_predict for such trees: out (x.rows x value_size) = mean over trees of the leaf values,
/// summed in tree order.
void predict_with_categories(MatrixView<const float> x, const ForestTrees& trees,
                             MatrixView<double> out);

}  // namespace tabula::cpu

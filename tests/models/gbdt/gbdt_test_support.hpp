// What the gradient boosting tests share: the CPU backend and the text of an error.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "models/gbdt/fit_rows.hpp"
#include "models/gbdt/gbdt_loss.hpp"
#include "models/gbdt/gbdt_tree.hpp"
#include "tabula/core/device_registry.hpp"

namespace tabula::gbdt_test {

inline Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

/// The message of what `fn` throws, or "(no error)".
inline std::string message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

/// Grows `count` squared-error trees for targets y on `rows`, each from the raw scores the ones
/// before it left in `raw` (y.size() entries, updated), as a fit does; `check` sees each tree's
/// input.
inline std::vector<gbdt::GrownTree> grow_squared_error_trees(
    const BinnedMatrix& bins, const gbdt::GrowConfig& config, gbdt::FitRows& rows,
    std::span<const double> y, int count, std::vector<double>& raw,
    const std::function<void(const gbdt::TreeInput&)>& check = {}) {
  std::vector<gbdt::GrownTree> trees;
  std::vector<double> grad_hess(2 * y.size(), 1.0);
  for (int tree = 0; tree < count; ++tree) {
    for (std::size_t i = 0; i < y.size(); ++i) grad_hess[2 * i] = raw[i] - y[i];
    const gbdt::TreeInput input =
        rows.quantise(grad_hess, 1, 0, gbdt::largest_magnitudes(grad_hess, 1));
    if (check) check(input);
    trees.push_back(gbdt::grow_tree(cpu(), bins, config, tree, rows, input, raw, 1, 0));
  }
  return trees;
}

/// Two fits' trees are the same: splits, missing-value sides, leaf values and row counts.
inline void expect_same_trees(const std::vector<gbdt::GrownTree>& a,
                              const std::vector<gbdt::GrownTree>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tree.feature, b[i].tree.feature) << "tree " << i;
    EXPECT_EQ(a[i].tree.threshold, b[i].tree.threshold) << "tree " << i;
    EXPECT_EQ(a[i].tree.missing_left, b[i].tree.missing_left) << "tree " << i;
    EXPECT_EQ(a[i].tree.values, b[i].tree.values) << "tree " << i;
    EXPECT_EQ(a[i].tree.n_samples, b[i].tree.n_samples) << "tree " << i;
  }
}

}  // namespace tabula::gbdt_test

// Bit-for-bit comparison of fitted forests: every node array and leaf value, and the
// importances, for the tests that must grow the same trees another way (threads, small-node
// path, CUDA, ranks).
#pragma once

#include <gtest/gtest.h>

#include "tabula/models/forest/forest.hpp"

namespace tabula::testing {

inline void expect_identical(const ForestModel& a, const ForestModel& b) {
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.feature, b.feature);
  EXPECT_EQ(a.threshold, b.threshold);
  EXPECT_EQ(a.left, b.left);
  EXPECT_EQ(a.right, b.right);
  EXPECT_EQ(a.missing_left, b.missing_left);
  EXPECT_EQ(a.n_samples, b.n_samples);
  EXPECT_EQ(a.values, b.values);  // bit-identical doubles
}

inline void expect_same_forest(const RandomForest& a, const RandomForest& b) {
  expect_identical(a.model(), b.model());
  EXPECT_EQ(a.feature_importances(), b.feature_importances());
}

}  // namespace tabula::testing

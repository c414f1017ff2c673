// How the forest ranks splits: one plain type shared by the host algorithm, every backend's
// forest ops and the CUDA kernels (src/backend/forest_math.hpp), so nothing mirrors it.
#pragma once

#include <cstdint>

namespace tabula {

/// Split criteria. kEntropy also serves scikit-learn's "log_loss" (identical for trees).
enum class ForestCriterion { kGini, kEntropy, kSquaredError };

/// Constraints a split must meet, and how channels are read.
struct ForestSplitRule {
  ForestCriterion criterion = ForestCriterion::kGini;
  std::int64_t min_samples_leaf = 1;  // rows (channel 0) on each side
};

}  // namespace tabula

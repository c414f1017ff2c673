// The flat tree arrays (ForestModel) shared by the random forest and gradient boosting: their
// model-file sections, the checks every loaded copy passes, and their view on a backend.
#pragma once

#include <cstdint>
#include <string>

#include "models/device_data.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {

class ArtifactWriter;
class ArtifactReader;

namespace forest {

/// Writes m's arrays as `<prefix>.offsets`, `.feature`, `.threshold`, `.left`, `.right`,
/// `.missing_left`, `.n_samples` and `.values` (nodes x m.value_size); with categorical splits
/// also `.category_set` (nodes) and `.category_bits` (sets x 32), which make the file format 3.
void write_trees(ArtifactWriter& out, const std::string& prefix, const ForestModel& m);
/// Reads the arrays write_trees wrote; value_size as the caller's header states it. Nothing is
/// checked here: call validate_trees before use.
ForestModel read_trees(const ArtifactReader& in, const std::string& prefix,
                       std::int64_t value_size);
/// Every count and index of loaded trees against the others, so that no damaged or crafted file
/// can send traversal or the output buffers out of bounds: array sizes agree with the node
/// count, features are < n_features, thresholds are not NaN, values finite, and every child
/// comes after its parent in the same tree with exactly one parent (no cycle, nothing
/// unreachable), and categorical splits' set indices (one per split node, in range). Errors
/// name the field (`<prefix>.left`).
void validate_trees(const ForestModel& m, const std::string& prefix, std::int64_t n_features);

/// A ForestModel's arrays seen on a backend (in place on the CPU, copied once elsewhere).
struct DeviceTrees {
  DeviceTrees(Backend& backend, const ForestModel& m);
  /// The view of the arrays; `cache` as ForestTrees::cache.
  ForestTrees view(const ForestModel& m, ForestTraversalCache* cache) const;
  DeviceVector<std::int64_t> offsets;
  DeviceVector<std::int32_t> feature;
  DeviceVector<float> threshold;
  DeviceVector<std::int32_t> left, right;
  DeviceVector<std::uint8_t> missing_left;
  DeviceVector<double> values;
  DeviceVector<std::int32_t> category_set;  // empty without categorical splits
  DeviceVector<std::uint8_t> category_bits;
};

/// How many DeviceTrees this process made (RandomForest::array_uploads' count).
std::int64_t device_tree_uploads();

}  // namespace forest
}  // namespace tabula

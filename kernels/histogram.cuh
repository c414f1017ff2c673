// Histogram forest: per-node histograms of integer channel sums (integer atomics only, so the
// sums do not depend on thread order), histogram subtraction, and the best split per node.
// See ForestOps::histograms / hist_subtract / best_splits (tabula/backend/forest_ops.hpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "tabula/backend/forest_split_rule.hpp"

namespace tabula::kernels {

/// hist (nodes x m x bins x channels) = sums of channels (n x channels, row-major) over each
/// node's rows rows[begin[i] .. end[i]), per feature features[i * m + f] of codes (n x d,
/// row-major uint8). Overwrites hist. Device memory; queued on `stream`.
void launch_forest_histograms(const std::uint8_t* codes, std::int64_t d, const std::int32_t* rows,
                              const std::int64_t* channels, std::int64_t nodes,
                              const std::int32_t* begin, const std::int32_t* end,
                              const std::int32_t* features, std::int64_t m, std::int64_t bins,
                              std::int64_t channel_count, std::int64_t* hist, cudaStream_t stream);

/// hist[dst[i]] = parent_hist[parent[i]] - hist[child[i]], slots of slot_size values.
void launch_forest_hist_subtract(const std::int64_t* parent_hist, const std::int32_t* parent,
                                 const std::int32_t* child, const std::int32_t* dst,
                                 std::int64_t pairs, std::int64_t slot_size, std::int64_t* hist,
                                 cudaStream_t stream);

/// Best split per node, with forest::scan_feature (the CPU's arithmetic, in the CPU's order).
/// rule: the criterion and the rows each side needs. scratch: null, or
/// for more than cuda::kSplitLocalChannels channels cuda::plan_best_splits(nodes,
/// channel_count)'s nodes_per_launch x scratch_per_node int64 of device memory.
void launch_forest_best_splits(const std::int64_t* hist, std::int64_t nodes,
                               const std::int32_t* features, std::int64_t m, std::int64_t bins,
                               std::int64_t channel_count, const std::int32_t* n_bins,
                               ForestSplitRule rule, std::int32_t* feature, std::int32_t* bin,
                               std::uint8_t* missing_left, double* gain, std::int64_t* left,
                               std::int64_t ld_left, std::int64_t* total, std::int64_t ld_total,
                               std::int64_t* scratch, cudaStream_t stream);

}  // namespace tabula::kernels

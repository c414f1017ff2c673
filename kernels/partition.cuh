// Histogram forest: stable partition of each node's rows by its split (left rows first).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tabula::kernels {

/// For each node i: rows[begin[i] .. end[i]) reordered so the rows whose code of feature[i]
/// is in 1..bin[i] (or 0 with missing_left[i]) come first, both parts in their previous order.
/// left_bins (null: unused): per node 32 bytes, a bin set; a row goes left when its bin's bit is
/// set (a categorical split) instead. codes: n x d row-major; scratch: device memory for as many
/// int32 as rows. Queued on `stream`.
void launch_forest_partition(const std::uint8_t* codes, std::int64_t d, std::int32_t* rows,
                             std::int64_t nodes, const std::int32_t* begin, const std::int32_t* end,
                             const std::int32_t* feature, const std::int32_t* bin,
                             const std::uint8_t* missing_left, const std::uint8_t* left_bins,
                             std::int32_t* scratch, cudaStream_t stream);

}  // namespace tabula::kernels

// Quantile binning for the histogram forest: float features to uint8 bin codes.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tabula::kernels {

/// codes[i * d + j] = 0 when x(i, j) is NaN, else 1 + the number of feature j's edges strictly
/// below x(i, j). x: rows x d, row-major with leading dimension ldx. padded_edges: d x 255
/// floats, each feature's ascending edges padded with +inf. Device memory; queued on `stream`.
void launch_forest_bin(const float* x, std::int64_t rows, std::int64_t d, std::int64_t ldx,
                       const float* padded_edges, std::uint8_t* codes, cudaStream_t stream);

/// padded_edges (d x 255) from edges and offsets (d + 1 entries) as in ForestOps::bin.
void launch_forest_pad_edges(const float* edges, const std::int32_t* offsets, std::int64_t d,
                             float* padded_edges, cudaStream_t stream);

}  // namespace tabula::kernels

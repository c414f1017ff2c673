// Weighted column means and population variances over selected rows, in float64, two passes,
// with a fixed reduction tree: the result does not depend on scheduling, so it is reproducible
// bit for bit on one device.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "tabula/core/matrix.hpp"

namespace tabula::kernels {

/// Doubles of device scratch that launch_column_moments needs for `count` rows and `cols` columns.
std::int64_t column_moments_scratch_size(std::int64_t count, std::int64_t cols);

/// Over rows s = indices ? indices[p] : p for p in [0, count), with w = weights ? weights[s] : 1:
/// means[j] = sum w x(s, j) / sum w, then variances[j] = sum w (x(s, j) - means[j])^2 / sum w.
/// Both are NaN when sum w == 0 (count == 0 included). All pointers are device memory; `means`
/// and `variances` hold x.cols doubles, `scratch` column_moments_scratch_size(count, x.cols).
/// Queued on `stream`.
void launch_column_moments(MatrixView<const float> x, const std::int64_t* indices,
                           std::int64_t count, const double* weights, double* means,
                           double* variances, double* scratch, cudaStream_t stream);
void launch_column_moments(MatrixView<const double> x, const std::int64_t* indices,
                           std::int64_t count, const double* weights, double* means,
                           double* variances, double* scratch, cudaStream_t stream);

}  // namespace tabula::kernels

// Completing a symmetric matrix from one triangle (cuBLAS syrk writes only the lower one).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tabula::kernels {

/// a: n x n, column-major, leading dimension ld >= n, device memory. Sets a(i, j) = a(j, i) for
/// every j > i (upper from lower). Queued on `stream`.
void launch_copy_lower_to_upper(double* a, std::int64_t n, std::int64_t ld, cudaStream_t stream);

}  // namespace tabula::kernels

// Checking a row subset and row weights on the device before they are used, so a bad index is
// a clear error instead of an illegal memory access that would poison the CUDA context.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tabula::kernels {

/// For positions p in [0, count) with row s = indices ? indices[p] : p: the smallest p whose
/// s is outside [0, total_rows) goes to first_bad[0], and the smallest p whose weight
/// weights[s] is not finite or negative (s in range, weights != nullptr) to first_bad[1].
/// Entries stay at count when there is none. first_bad: 2 device int64, written by this call.
/// Queued on `stream`.
void launch_find_bad_rows(const std::int64_t* indices, std::int64_t count, std::int64_t total_rows,
                          const double* weights, std::int64_t* first_bad, cudaStream_t stream);

/// a: n x n, column-major, leading dimension ld, device memory. Writes to first_bad (one device
/// int64) the smallest j * n + i over the non-finite a(i, j) with i >= j (lower triangle), or
/// n * n when there is none. Queued on `stream`.
void launch_find_non_finite_lower(const double* a, std::int64_t n, std::int64_t ld,
                                  std::int64_t* first_bad, cudaStream_t stream);

}  // namespace tabula::kernels

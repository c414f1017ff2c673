// Gathering selected rows of a matrix into a dense float64 column-major tile, optionally scaled
// per row by its weight or the weight's square root: the input of cuBLAS syrk/gemm for the Gram
// matrix and cross products.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "tabula/core/matrix.hpp"

namespace tabula::kernels {

enum class RowScale { kNone, kWeight, kSqrtWeight };

/// For r in [0, count): source row s = indices ? indices[first + r] : first + r, and
/// tile[j * ld + r] = scale(s) * x(s, j) for every column j of x, where scale is 1 (kNone or
/// weights == nullptr), weights[s] (kWeight) or sqrt(weights[s]) (kSqrtWeight).
/// `indices` (device, int64) and `weights` (device, indexed by source row) may be nullptr.
/// `tile` is device memory of at least ld * x.cols doubles, ld >= count. Queued on `stream`.
void launch_gather_rows(MatrixView<const float> x, const std::int64_t* indices, std::int64_t first,
                        std::int64_t count, const double* weights, RowScale scale, double* tile,
                        std::int64_t ld, cudaStream_t stream);
void launch_gather_rows(MatrixView<const double> x, const std::int64_t* indices, std::int64_t first,
                        std::int64_t count, const double* weights, RowScale scale, double* tile,
                        std::int64_t ld, cudaStream_t stream);

}  // namespace tabula::kernels

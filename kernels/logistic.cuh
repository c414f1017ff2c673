// Kernels of the logistic loss / gradient / Hessian primitive: per-row probabilities, residuals
// and Hessian row scales from a tile of scores, row scaling of a tile, a deterministic sum, and
// the symmetrisation of a block Hessian. cuBLAS does the products in between
// (src/backend/cuda/logistic_cuda.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tabula::kernels {

/// For r in [0, count), source row s = indices ? indices[first + r] : first + r, label
/// c = y[s], weight w = weights ? weights[s] : 1, and scores z(r, 0..m-1) (column-major, ld):
/// - m == 1 (binary): p = sigmoid(z), row_loss[r] = w (softplus(z) - c z),
///   residual(r, 0) = w (p - c), hess_scale(r, 0) = sqrt(w p (1 - p)).
/// - m > 1 (softmax): row_loss[r] = w (logsumexp(z) - z_c), residual(r, k) = w (p_k - [k == c]),
///   hess_scale(r, pair(k, e)) = sqrt(w p_k |δ_ke - p_e|) for e <= k, pair = k (k + 1) / 2 + e.
/// residual and hess_scale are column-major with leading dimension ld; hess_scale may be
/// nullptr. A label that is not an integer in [0, n_classes) sets *bad_label to 1 (and the row
/// counts as class 0). All pointers are device memory; queued on `stream`.
void launch_logistic_rows(const double* z, std::int64_t ld, std::int64_t count, int m,
                          int n_classes, const double* y, const std::int64_t* indices,
                          std::int64_t first, const double* weights, double* residual,
                          double* row_loss, double* hess_scale, int* bad_label,
                          cudaStream_t stream);

/// data[j * ld + i] = value for i < rows, j < cols.
void launch_fill(double* data, std::int64_t rows, std::int64_t cols, std::int64_t ld, double value,
                 cudaStream_t stream);

/// out(i, j) = scale[i] * a(i, j) for rows x cols column-major matrices (lda, ldo).
void launch_scale_rows(const double* a, std::int64_t lda, std::int64_t rows, std::int64_t cols,
                       const double* scale, double* out, std::int64_t ldo, cudaStream_t stream);

/// *total += Σ values[0..count) with one block and a fixed reduction tree, so the result does
/// not depend on timing; successive launches on one stream add in launch order.
void launch_accumulate_sum(const double* values, std::int64_t count, double* total,
                           cudaStream_t stream);

/// h is (m p) x (m p), column-major (ld), made of p x p symmetric blocks of which only the lower
/// triangles of blocks (k, e), e <= k, are filled: fills every other entry from those.
void launch_symmetrize_blocks(double* h, std::int64_t ld, int m, std::int64_t p,
                              cudaStream_t stream);

}  // namespace tabula::kernels

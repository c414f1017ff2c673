#include <cmath>

#include "backend/cuda/cuda_check.hpp"
#include "logistic.cuh"
#include "tabula/core/error.hpp"

namespace tabula::kernels {
namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;  // grid-stride loops beyond this
constexpr int kTile = 16;                  // symmetrize: kTile x kTile threads per block

unsigned blocks_for(std::int64_t items) {
  const std::int64_t blocks = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

__device__ double softplus(double z) { return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

static __global__ void logistic_rows_kernel(const double* z, std::int64_t ld, std::int64_t count,
                                            int m, int n_classes, const double* y,
                                            const std::int64_t* indices, std::int64_t first,
                                            const double* weights, double* residual,
                                            double* row_loss, double* hess_scale, int* bad_label) {
  for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < count;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t s = indices != nullptr ? indices[first + r] : first + r;
    const double label_value = y[s];
    int label = static_cast<int>(label_value);
    if (!(label_value >= 0.0) || label_value >= n_classes ||
        static_cast<double>(label) != label_value) {
      atomicOr(bad_label, 1);  // an integer flag: the result does not depend on order
      label = 0;
    }
    const double w = weights != nullptr ? weights[s] : 1.0;
    if (m == 1) {
      const double zr = z[r];
      const double c = static_cast<double>(label);
      const double p = zr >= 0.0 ? 1.0 / (1.0 + exp(-zr)) : exp(zr) / (1.0 + exp(zr));
      row_loss[r] = w * (softplus(zr) - c * zr);
      residual[r] = w * (p - c);
      if (hess_scale != nullptr) hess_scale[r] = sqrt(w * p * (1.0 - p));
      continue;
    }
    double top = z[r];
    for (int k = 1; k < m; ++k) top = fmax(top, z[k * ld + r]);
    double sum = 0.0;
    for (int k = 0; k < m; ++k) sum += exp(z[k * ld + r] - top);
    const double log_sum = top + log(sum);
    row_loss[r] = w * (log_sum - z[label * ld + r]);
    for (int k = 0; k < m; ++k) {
      const double pk = exp(z[k * ld + r] - log_sum);
      residual[k * ld + r] = w * (pk - (k == label ? 1.0 : 0.0));
      if (hess_scale == nullptr) continue;
      for (int e = 0; e <= k; ++e) {
        const double pe = e == k ? pk : exp(z[e * ld + r] - log_sum);
        const double v = e == k ? w * pk * (1.0 - pk) : w * pk * pe;
        hess_scale[(static_cast<std::int64_t>(k) * (k + 1) / 2 + e) * ld + r] = sqrt(fmax(v, 0.0));
      }
    }
  }
}

static __global__ void fill_kernel(double* data, std::int64_t rows, std::int64_t cols,
                                   std::int64_t ld, double value) {
  const std::int64_t total = rows * cols;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    data[(t / rows) * ld + t % rows] = value;
}

static __global__ void scale_rows_kernel(const double* a, std::int64_t lda, std::int64_t rows,
                                         std::int64_t cols, const double* scale, double* out,
                                         std::int64_t ldo) {
  const std::int64_t total = rows * cols;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = t % rows, j = t / rows;
    out[j * ldo + i] = scale[i] * a[j * lda + i];
  }
}

static __global__ void accumulate_sum_kernel(const double* values, std::int64_t count,
                                             double* total) {
  __shared__ double partial[kThreads];
  double s = 0.0;
  for (std::int64_t i = threadIdx.x; i < count; i += kThreads) s += values[i];
  partial[threadIdx.x] = s;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) *total += partial[0];
}

static __global__ void symmetrize_blocks_kernel(double* h, std::int64_t ld, std::int64_t n,
                                                std::int64_t p) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x;  // row
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.y) * kTile + threadIdx.y;  // column
  if (i >= n || j >= n) return;
  const std::int64_t bk = i / p, be = j / p, bi = i % p, bj = j % p;
  const std::int64_t sk = bk > be ? bk : be, se = bk > be ? be : bk;
  const std::int64_t si = bi > bj ? bi : bj, sj = bi > bj ? bj : bi;
  const std::int64_t src_row = sk * p + si, src_col = se * p + sj;
  // Sources (lower triangles of blocks on or below the block diagonal) map to themselves and
  // are never written, so the update can be done in place.
  if (src_row != i || src_col != j) h[j * ld + i] = h[src_col * ld + src_row];
}

}  // namespace

void launch_logistic_rows(const double* z, std::int64_t ld, std::int64_t count, int m,
                          int n_classes, const double* y, const std::int64_t* indices,
                          std::int64_t first, const double* weights, double* residual,
                          double* row_loss, double* hess_scale, int* bad_label,
                          cudaStream_t stream) {
  if (count == 0) return;
  TABULA_ASSERT(ld >= count && m >= 1, "logistic_rows: bad tile shape");
  logistic_rows_kernel<<<blocks_for(count), kThreads, 0, stream>>>(
      z, ld, count, m, n_classes, y, indices, first, weights, residual, row_loss, hess_scale,
      bad_label);
  TABULA_CUDA_CHECK_LAUNCH();
}

void launch_fill(double* data, std::int64_t rows, std::int64_t cols, std::int64_t ld, double value,
                 cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  TABULA_ASSERT(ld >= rows, "fill: leading dimension smaller than rows");
  fill_kernel<<<blocks_for(rows * cols), kThreads, 0, stream>>>(data, rows, cols, ld, value);
  TABULA_CUDA_CHECK_LAUNCH();
}

void launch_scale_rows(const double* a, std::int64_t lda, std::int64_t rows, std::int64_t cols,
                       const double* scale, double* out, std::int64_t ldo, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  TABULA_ASSERT(lda >= rows && ldo >= rows, "scale_rows: leading dimension smaller than rows");
  scale_rows_kernel<<<blocks_for(rows * cols), kThreads, 0, stream>>>(a, lda, rows, cols, scale,
                                                                      out, ldo);
  TABULA_CUDA_CHECK_LAUNCH();
}

void launch_accumulate_sum(const double* values, std::int64_t count, double* total,
                           cudaStream_t stream) {
  if (count == 0) return;
  accumulate_sum_kernel<<<1, kThreads, 0, stream>>>(values, count, total);
  TABULA_CUDA_CHECK_LAUNCH();
}

void launch_symmetrize_blocks(double* h, std::int64_t ld, int m, std::int64_t p,
                              cudaStream_t stream) {
  const std::int64_t n = static_cast<std::int64_t>(m) * p;
  if (n <= 1) return;
  TABULA_ASSERT(ld >= n, "symmetrize_blocks: leading dimension smaller than m * p");
  const std::int64_t blocks = (n + kTile - 1) / kTile;
  TABULA_ASSERT(blocks <= 65535, "symmetrize_blocks: matrix too large for one launch");
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(blocks));
  const dim3 block(kTile, kTile);
  symmetrize_blocks_kernel<<<grid, block, 0, stream>>>(h, ld, n, p);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace tabula::kernels

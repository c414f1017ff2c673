#include <cmath>

#include "backend/cuda/cuda_check.hpp"
#include "tabula/core/error.hpp"
#include "validate.cuh"

namespace tabula::kernels {
namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;  // grid-stride loop beyond this

static __global__ void init_kernel(std::int64_t* first_bad, std::int64_t count) {
  first_bad[0] = count;
  first_bad[1] = count;
}

// atomicMin on integers: the result (the smallest bad position) does not depend on order.
static __global__ void find_bad_rows_kernel(const std::int64_t* indices, std::int64_t count,
                                            std::int64_t total_rows, const double* weights,
                                            std::int64_t* first_bad) {
  auto* bad = reinterpret_cast<unsigned long long*>(first_bad);
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * kThreads;
  for (std::int64_t p = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x; p < count;
       p += step) {
    const std::int64_t row = indices != nullptr ? indices[p] : p;
    if (row < 0 || row >= total_rows) {
      atomicMin(&bad[0], static_cast<unsigned long long>(p));
      continue;
    }
    if (weights != nullptr) {
      const double w = weights[row];
      if (!(isfinite(w) && w >= 0.0)) atomicMin(&bad[1], static_cast<unsigned long long>(p));
    }
  }
}

static __global__ void init_one_kernel(std::int64_t* value, std::int64_t init) { *value = init; }

// One thread per element of the matrix, grid-stride; atomicMin keeps the first in column order.
static __global__ void find_non_finite_lower_kernel(const double* a, std::int64_t n,
                                                    std::int64_t ld, std::int64_t* first_bad) {
  auto* bad = reinterpret_cast<unsigned long long*>(first_bad);
  const std::int64_t total = n * n;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * kThreads;
  for (std::int64_t key = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x;
       key < total; key += step) {
    const std::int64_t i = key % n;
    const std::int64_t j = key / n;
    if (i >= j && !isfinite(a[j * ld + i])) atomicMin(bad, static_cast<unsigned long long>(key));
  }
}

}  // namespace

void launch_find_non_finite_lower(const double* a, std::int64_t n, std::int64_t ld,
                                  std::int64_t* first_bad, cudaStream_t stream) {
  TABULA_ASSERT(n >= 0 && ld >= n, "find_non_finite_lower: bad shape");
  init_one_kernel<<<1, 1, 0, stream>>>(first_bad, n * n);
  TABULA_CUDA_CHECK_LAUNCH();
  if (n == 0) return;
  std::int64_t blocks = (n * n + kThreads - 1) / kThreads;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  find_non_finite_lower_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(a, n, ld,
                                                                                       first_bad);
  TABULA_CUDA_CHECK_LAUNCH();
}

void launch_find_bad_rows(const std::int64_t* indices, std::int64_t count, std::int64_t total_rows,
                          const double* weights, std::int64_t* first_bad, cudaStream_t stream) {
  TABULA_ASSERT(count >= 0, "find_bad_rows: negative count");
  init_kernel<<<1, 1, 0, stream>>>(first_bad, count);
  TABULA_CUDA_CHECK_LAUNCH();
  if (count == 0 || (indices == nullptr && weights == nullptr)) return;
  std::int64_t blocks = (count + kThreads - 1) / kThreads;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  find_bad_rows_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      indices, count, total_rows, weights, first_bad);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace tabula::kernels

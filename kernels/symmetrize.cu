#include "backend/cuda/cuda_check.hpp"
#include "symmetrize.cuh"
#include "tabula/core/error.hpp"

namespace tabula::kernels {
namespace {

constexpr int kTile = 16;  // threads per block: kTile x kTile
constexpr std::int64_t kMaxGridY = 65535;

static __global__ void copy_lower_to_upper_kernel(double* a, std::int64_t n, std::int64_t ld) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x;  // row
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.y) * kTile + threadIdx.y;  // column
  if (i < n && j < n && j > i) a[j * ld + i] = a[i * ld + j];
}

}  // namespace

void launch_copy_lower_to_upper(double* a, std::int64_t n, std::int64_t ld, cudaStream_t stream) {
  if (n <= 1) return;
  TABULA_ASSERT(ld >= n, "copy_lower_to_upper: leading dimension smaller than n");
  const std::int64_t blocks = (n + kTile - 1) / kTile;
  TABULA_ASSERT(blocks <= kMaxGridY, "copy_lower_to_upper: matrix too large for one launch");
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(blocks));
  const dim3 block(kTile, kTile);
  copy_lower_to_upper_kernel<<<grid, block, 0, stream>>>(a, n, ld);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace tabula::kernels

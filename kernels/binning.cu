#include <cmath>

#include "backend/cuda/cuda_check.hpp"
#include "binning.cuh"

namespace tabula::kernels {
namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 8192;
constexpr int kPadded = 255;

unsigned blocks_for(std::int64_t items) {
  const std::int64_t blocks = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

static __global__ void pad_edges_kernel(const float* edges, const std::int32_t* offsets,
                                        std::int64_t d, float* padded) {
  const std::int64_t total = d * kPadded;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = t / kPadded, k = t % kPadded;
    const std::int64_t count = offsets[j + 1] - offsets[j];
    padded[t] = k < count ? edges[offsets[j] + k] : INFINITY;
  }
}

// One thread per (row, feature); the same branch-free 8-step search as the CPU.
static __global__ void bin_kernel(const float* x, std::int64_t rows, std::int64_t d,
                                  std::int64_t ldx, const float* padded, std::uint8_t* codes) {
  const std::int64_t total = rows * d;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = t / d, j = t % d;
    const float v = x[i * ldx + j];
    const float* e = padded + j * kPadded;
    int pos = 0;
    for (int step = 128; step > 0; step >>= 1) pos += e[pos + step - 1] < v ? step : 0;
    codes[t] = isnan(v) ? std::uint8_t{0} : static_cast<std::uint8_t>(1 + pos);
  }
}

}  // namespace

void launch_forest_pad_edges(const float* edges, const std::int32_t* offsets, std::int64_t d,
                             float* padded_edges, cudaStream_t stream) {
  pad_edges_kernel<<<blocks_for(d * kPadded), kThreads, 0, stream>>>(edges, offsets, d,
                                                                     padded_edges);
  TABULA_CUDA_CHECK_LAUNCH();
}

void launch_forest_bin(const float* x, std::int64_t rows, std::int64_t d, std::int64_t ldx,
                       const float* padded_edges, std::uint8_t* codes, cudaStream_t stream) {
  if (rows == 0 || d == 0) return;
  bin_kernel<<<blocks_for(rows * d), kThreads, 0, stream>>>(x, rows, d, ldx, padded_edges, codes);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace tabula::kernels

#include <cmath>

#include "backend/cuda/cuda_check.hpp"
#include "moments.cuh"
#include "tabula/core/error.hpp"

namespace tabula::kernels {
namespace {

// Pass layout: block (x: chunk of kRowsPerChunk rows, y: kCols columns); kCols x kLanes threads.
// Thread (c, l) sums rows l, l + kLanes, ... of its chunk for column c, in order; the kLanes
// partial sums are then combined by a fixed shared-memory tree, and the per-chunk sums by one
// thread per column in chunk order. Every step has a fixed order, so no float atomics.
constexpr int kCols = 32;
constexpr int kLanes = 8;
constexpr std::int64_t kRowsPerChunk = 2048;
constexpr int kFinishThreads = 128;
constexpr std::int64_t kMaxGridY = 65535;

std::int64_t chunk_count(std::int64_t count) { return (count + kRowsPerChunk - 1) / kRowsPerChunk; }

// kSquares == false: sums of w * x and of w. kSquares == true: sums of w * (x - mean)^2.
template <typename T, bool kSquares>
static __global__ void chunk_sums_kernel(MatrixView<const T> x, const std::int64_t* indices,
                                         std::int64_t count, const double* weights,
                                         const double* means, double* column_sums,
                                         double* weight_sums) {
  __shared__ double sums[kLanes][kCols];
  __shared__ double weight_totals[kLanes][kCols];
  const int c = static_cast<int>(threadIdx.x);
  const int lane = static_cast<int>(threadIdx.y);
  const std::int64_t chunk = blockIdx.x;
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.y) * kCols + c;
  const std::int64_t begin = chunk * kRowsPerChunk;
  const std::int64_t end = begin + kRowsPerChunk < count ? begin + kRowsPerChunk : count;

  double sum = 0.0;
  double weight_total = 0.0;
  if (col < x.cols) {
    const double mean = kSquares ? means[col] : 0.0;
    for (std::int64_t p = begin + lane; p < end; p += kLanes) {
      const std::int64_t row = indices != nullptr ? indices[p] : p;
      const double w = weights != nullptr ? weights[row] : 1.0;
      const std::int64_t offset = x.offset(row, col);
      const double value = static_cast<double>(x.data[offset]);
      if (kSquares) {
        const double deviation = value - mean;
        sum += w * (deviation * deviation);
      } else {
        sum += w * value;
        weight_total += w;
      }
    }
  }
  sums[lane][c] = sum;
  weight_totals[lane][c] = weight_total;
  __syncthreads();
  for (int step = kLanes / 2; step > 0; step /= 2) {
    if (lane < step) {
      sums[lane][c] += sums[lane + step][c];
      weight_totals[lane][c] += weight_totals[lane + step][c];
    }
    __syncthreads();
  }
  if (lane == 0 && col < x.cols) column_sums[chunk * x.cols + col] = sums[0][c];
  // Column 0 always exists and sees every row of the chunk: it records the chunk's weight.
  if (!kSquares && lane == 0 && col == 0) weight_sums[chunk] = weight_totals[0][0];
}

// One thread per column: adds the per-chunk sums in chunk order and divides by the total weight.
static __global__ void finish_kernel(const double* column_sums, const double* weight_sums,
                                     std::int64_t chunks, std::int64_t cols, double* out) {
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kFinishThreads + threadIdx.x;
  if (col >= cols) return;
  double total = 0.0;
  double weight_total = 0.0;
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
    total += column_sums[chunk * cols + col];
    weight_total += weight_sums[chunk];
  }
  out[col] = weight_total > 0.0 ? total / weight_total : nan("");
}

template <typename T>
void launch(MatrixView<const T> x, const std::int64_t* indices, std::int64_t count,
            const double* weights, double* means, double* variances, double* scratch,
            cudaStream_t stream) {
  if (x.cols <= 0) return;
  if (count < 0) count = 0;
  const std::int64_t chunks = chunk_count(count);
  const std::int64_t column_blocks = (x.cols + kCols - 1) / kCols;
  TABULA_ASSERT(column_blocks <= kMaxGridY, "column_moments: too many columns for one launch");
  TABULA_ASSERT(chunks <= 0x7fffffff, "column_moments: too many rows for one launch");
  double* column_sums = scratch;
  double* weight_sums = scratch + chunks * x.cols;
  const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(column_blocks));
  const dim3 block(kCols, kLanes);
  const unsigned finish_blocks =
      static_cast<unsigned>((x.cols + kFinishThreads - 1) / kFinishThreads);

  if (chunks > 0) {
    chunk_sums_kernel<T, false>
        <<<grid, block, 0, stream>>>(x, indices, count, weights, nullptr, column_sums, weight_sums);
    TABULA_CUDA_CHECK_LAUNCH();
  }
  finish_kernel<<<finish_blocks, kFinishThreads, 0, stream>>>(column_sums, weight_sums, chunks,
                                                              x.cols, means);
  TABULA_CUDA_CHECK_LAUNCH();
  if (chunks > 0) {
    chunk_sums_kernel<T, true>
        <<<grid, block, 0, stream>>>(x, indices, count, weights, means, column_sums, nullptr);
    TABULA_CUDA_CHECK_LAUNCH();
  }
  finish_kernel<<<finish_blocks, kFinishThreads, 0, stream>>>(column_sums, weight_sums, chunks,
                                                              x.cols, variances);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace

std::int64_t column_moments_scratch_size(std::int64_t count, std::int64_t cols) {
  const std::int64_t chunks = chunk_count(count > 0 ? count : 0);
  return chunks * cols + chunks;
}

void launch_column_moments(MatrixView<const float> x, const std::int64_t* indices,
                           std::int64_t count, const double* weights, double* means,
                           double* variances, double* scratch, cudaStream_t stream) {
  launch(x, indices, count, weights, means, variances, scratch, stream);
}

void launch_column_moments(MatrixView<const double> x, const std::int64_t* indices,
                           std::int64_t count, const double* weights, double* means,
                           double* variances, double* scratch, cudaStream_t stream) {
  launch(x, indices, count, weights, means, variances, scratch, stream);
}

}  // namespace tabula::kernels

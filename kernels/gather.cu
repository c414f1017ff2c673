#include <cmath>

#include "backend/cuda/cuda_check.hpp"
#include "gather.cuh"
#include "tabula/core/error.hpp"

namespace tabula::kernels {
namespace {

// One block moves a 32 x 32 tile through shared memory so that both the read of the source
// (row-major or column-major) and the write of the column-major tile are coalesced.
constexpr int kTile = 32;
constexpr int kLanes = 8;  // threads per block: kTile x kLanes
constexpr std::int64_t kMaxGridY = 65535;

template <typename T>
static __global__ void gather_rows_kernel(MatrixView<const T> x, const std::int64_t* indices,
                                          std::int64_t first, std::int64_t count,
                                          const double* weights, RowScale scale, double* tile,
                                          std::int64_t ld) {
  __shared__ double buffer[kTile][kTile + 1];  // [row in tile][column in tile]; +1: no conflicts
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  const std::int64_t col0 = static_cast<std::int64_t>(blockIdx.y) * kTile;

  for (int k = threadIdx.y; k < kTile; k += kLanes) {
    // Row-major source: consecutive threads read consecutive columns of one row.
    // Column-major source: consecutive threads read consecutive rows of one column.
    const int r = x.is_row_major() ? k : static_cast<int>(threadIdx.x);
    const int c = x.is_row_major() ? static_cast<int>(threadIdx.x) : k;
    const std::int64_t position = row0 + r;
    const std::int64_t col = col0 + c;
    if (position < count && col < x.cols) {
      const std::int64_t row = indices != nullptr ? indices[first + position] : first + position;
      double factor = 1.0;
      if (weights != nullptr && scale == RowScale::kWeight) factor = weights[row];
      if (weights != nullptr && scale == RowScale::kSqrtWeight) factor = sqrt(weights[row]);
      const std::int64_t offset = x.offset(row, col);
      buffer[r][c] = factor * static_cast<double>(x.data[offset]);
    }
  }
  __syncthreads();
  for (int c = threadIdx.y; c < kTile; c += kLanes) {
    const int r = static_cast<int>(threadIdx.x);
    const std::int64_t position = row0 + r;
    const std::int64_t col = col0 + c;
    if (position < count && col < x.cols) tile[col * ld + position] = buffer[r][c];
  }
}

template <typename T>
void launch(MatrixView<const T> x, const std::int64_t* indices, std::int64_t first,
            std::int64_t count, const double* weights, RowScale scale, double* tile,
            std::int64_t ld, cudaStream_t stream) {
  if (count <= 0 || x.cols <= 0) return;
  TABULA_ASSERT(ld >= count, "gather_rows: leading dimension smaller than the row count");
  const std::int64_t grid_x = (count + kTile - 1) / kTile;
  const std::int64_t grid_y = (x.cols + kTile - 1) / kTile;
  TABULA_ASSERT(grid_y <= kMaxGridY, "gather_rows: too many columns for one launch");
  TABULA_ASSERT(grid_x <= 0x7fffffff, "gather_rows: too many rows for one launch");
  const dim3 grid(static_cast<unsigned>(grid_x), static_cast<unsigned>(grid_y));
  const dim3 block(kTile, kLanes);
  gather_rows_kernel<T>
      <<<grid, block, 0, stream>>>(x, indices, first, count, weights, scale, tile, ld);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace

void launch_gather_rows(MatrixView<const float> x, const std::int64_t* indices, std::int64_t first,
                        std::int64_t count, const double* weights, RowScale scale, double* tile,
                        std::int64_t ld, cudaStream_t stream) {
  launch(x, indices, first, count, weights, scale, tile, ld, stream);
}

void launch_gather_rows(MatrixView<const double> x, const std::int64_t* indices, std::int64_t first,
                        std::int64_t count, const double* weights, RowScale scale, double* tile,
                        std::int64_t ld, cudaStream_t stream) {
  launch(x, indices, first, count, weights, scale, tile, ld, stream);
}

}  // namespace tabula::kernels

#include <cub/block/block_scan.cuh>

#include "backend/cuda/cuda_check.hpp"
#include "backend/forest_math.hpp"
#include "partition.cuh"

namespace tabula::kernels {
namespace {

constexpr int kThreads = 256;

__device__ inline bool goes_left(const std::uint8_t* codes, std::int64_t d, std::int32_t row,
                                 std::int32_t f, std::int32_t t, bool ml, const std::uint8_t* set) {
  const std::uint8_t code = codes[static_cast<std::int64_t>(row) * d + f];
  if (set != nullptr) return forest::bin_in_set(set, code);
  return code == 0 ? ml : code <= t;
}

// One block per node, walking its rows in tiles of kThreads: a block-wide exclusive scan of
// the go-left flags gives each row its place; left rows are written from the segment's start
// and right rows into scratch, then copied behind the left ones.
static __global__ void partition_kernel(const std::uint8_t* codes, std::int64_t d,
                                        std::int32_t* rows, const std::int32_t* begin,
                                        const std::int32_t* end, const std::int32_t* feature,
                                        const std::int32_t* bin, const std::uint8_t* missing_left,
                                        const std::uint8_t* left_bins, std::int32_t* scratch) {
  using Scan = cub::BlockScan<int, kThreads>;
  __shared__ typename Scan::TempStorage temp;
  __shared__ int left_base, right_base;
  const std::int64_t node = blockIdx.x;
  const std::int32_t f = feature[node], t = bin[node];
  // A node without a split feature in [0, d) (the builder never passes one) keeps its order.
  const std::int32_t b = begin[node], e = f >= 0 && f < d ? end[node] : b;
  const bool ml = missing_left[node] != 0;
  const std::uint8_t* set = left_bins != nullptr ? left_bins + node * 32 : nullptr;
  if (threadIdx.x == 0) left_base = right_base = 0;
  __syncthreads();
  for (std::int32_t tile = b; tile < e; tile += kThreads) {
    const std::int32_t r = tile + static_cast<std::int32_t>(threadIdx.x);
    const bool valid = r < e;
    const std::int32_t row = valid ? rows[r] : 0;
    const int left = valid && goes_left(codes, d, row, f, t, ml, set) ? 1 : 0;
    int left_pos = 0, left_total = 0;
    Scan(temp).ExclusiveSum(left, left_pos, left_total);
    __syncthreads();
    const int right_pos = static_cast<int>(threadIdx.x) - left_pos;
    // Left rows only move towards the front (never past unread rows of this tile: every row
    // of the tile was read above), right rows wait in scratch.
    if (valid && left) rows[b + left_base + left_pos] = row;
    if (valid && !left) scratch[b + right_base + right_pos] = row;
    __syncthreads();
    if (threadIdx.x == 0) {
      const int in_tile = static_cast<int>(min(static_cast<std::int32_t>(kThreads), e - tile));
      left_base += left_total;
      right_base += in_tile - left_total;
    }
    __syncthreads();
  }
  for (std::int32_t i = static_cast<std::int32_t>(threadIdx.x); i < right_base; i += kThreads)
    rows[b + left_base + i] = scratch[b + i];
}

}  // namespace

void launch_forest_partition(const std::uint8_t* codes, std::int64_t d, std::int32_t* rows,
                             std::int64_t nodes, const std::int32_t* begin, const std::int32_t* end,
                             const std::int32_t* feature, const std::int32_t* bin,
                             const std::uint8_t* missing_left, const std::uint8_t* left_bins,
                             std::int32_t* scratch, cudaStream_t stream) {
  if (nodes == 0) return;
  partition_kernel<<<static_cast<unsigned>(nodes), kThreads, 0, stream>>>(
      codes, d, rows, begin, end, feature, bin, missing_left, left_bins, scratch);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace tabula::kernels

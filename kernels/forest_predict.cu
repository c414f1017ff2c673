#include "backend/cuda/cuda_check.hpp"
#include "backend/forest_math.hpp"
#include "forest_predict.cuh"

namespace tabula::kernels {
namespace {

constexpr int kThreads = 128;
constexpr std::int64_t kMaxBlocks = 8192;

unsigned blocks_for(std::int64_t items) {
  const std::int64_t blocks = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

using Trees = ForestTreeArrays;

// At most t.max_depth steps; a split on a feature >= d or a child outside the tree (excluded by
// the host check) ends the walk at that node instead of reading outside the arrays.
__device__ inline std::int32_t walk(const Trees& t, std::int64_t tree, const float* row) {
  const std::int64_t base = t.offsets[tree];
  const std::int64_t size = t.offsets[tree + 1] - base;
  std::int32_t node = 0;
  for (std::int64_t step = 0; step < t.max_depth; ++step) {
    const std::int64_t g = base + node;
    const std::int32_t f = t.feature[g];
    if (f < 0 || f >= t.d) break;
    const float v = row[f];
    const bool ml = t.missing_left[g] != 0;
    const std::int32_t set = t.category_set != nullptr ? t.category_set[g] : -1;
    const bool go_left = set >= 0 ? forest::category_goes_left(t.category_bits + set * 32, v, ml)
                                  : (isnan(v) ? ml : v <= t.threshold[g]);
    const std::int32_t next = go_left ? t.left[g] : t.right[g];
    if (next <= 0 || next >= size) break;
    node = next;
  }
  return node;
}

static __global__ void predict_kernel(const float* x, std::int64_t rows, std::int64_t ldx, Trees t,
                                      double* out) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float* row = x + i * ldx;
    double* o = out + i * t.value_size;
    for (std::int64_t c = 0; c < t.value_size; ++c) o[c] = 0.0;
    for (std::int64_t tree = 0; tree < t.n_trees; ++tree) {
      const double* value = t.values + (t.offsets[tree] + walk(t, tree, row)) * t.value_size;
      for (std::int64_t c = 0; c < t.value_size; ++c) o[c] = __dadd_rn(o[c], value[c]);
    }
    const double scale = t.n_trees > 0 ? 1.0 / static_cast<double>(t.n_trees) : 0.0;
    for (std::int64_t c = 0; c < t.value_size; ++c) o[c] = __dmul_rn(o[c], scale);
  }
}

static __global__ void apply_kernel(const float* x, std::int64_t rows, std::int64_t ldx, Trees t,
                                    std::int32_t* leaves, std::int64_t ld) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    for (std::int64_t tree = 0; tree < t.n_trees; ++tree)
      leaves[i * ld + tree] = walk(t, tree, x + i * ldx);
}

}  // namespace

void launch_forest_predict(const float* x, std::int64_t rows, std::int64_t ldx,
                           const ForestTreeArrays& trees, double* out, cudaStream_t stream) {
  if (rows == 0) return;
  predict_kernel<<<blocks_for(rows), kThreads, 0, stream>>>(x, rows, ldx, trees, out);
  TABULA_CUDA_CHECK_LAUNCH();
}

void launch_forest_apply(const float* x, std::int64_t rows, std::int64_t ldx,
                         const ForestTreeArrays& trees, std::int32_t* leaves, std::int64_t ld,
                         cudaStream_t stream) {
  if (rows == 0) return;
  apply_kernel<<<blocks_for(rows), kThreads, 0, stream>>>(x, rows, ldx, trees, leaves, ld);
  TABULA_CUDA_CHECK_LAUNCH();
}

}  // namespace tabula::kernels

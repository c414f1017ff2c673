#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/forest_launch_plan.hpp"
#include "backend/forest_math.hpp"
#include "histogram.cuh"

namespace tabula::kernels {
namespace {

constexpr int kThreads = 256;
// Row chunks per (node, feature): blocks that share a node's rows, merged by integer atomics.
constexpr unsigned kRowChunks = 16;
// One thread per candidate feature, looping when m > 32.
constexpr int kSplitThreads = static_cast<int>(cuda::kSplitThreads);
constexpr int kLocalChannels = static_cast<int>(cuda::kSplitLocalChannels);
constexpr std::int64_t kMaxGridY = 65535;  // CUDA's limit on gridDim.y

using Ull = unsigned long long;

// Block (f, node, chunk): adds the channels of its share of the node's rows into a shared
// histogram of feature f, then into the global one. Two's-complement unsigned atomics add
// signed values exactly.
static __global__ void histogram_kernel(const std::uint8_t* codes, std::int64_t d,
                                        const std::int32_t* rows, const std::int64_t* channels,
                                        const std::int32_t* begin, const std::int32_t* end,
                                        const std::int32_t* features, std::int64_t m,
                                        std::int64_t bins, std::int64_t k, std::int64_t* hist,
                                        bool shared_hist) {
  extern __shared__ Ull local[];
  const std::int64_t f = blockIdx.x, node = blockIdx.y;
  const std::int64_t size = bins * k;
  Ull* out = reinterpret_cast<Ull*>(hist + (node * m + f) * size);
  Ull* target = shared_hist ? local : out;
  if (shared_hist)
    for (std::int64_t v = threadIdx.x; v < size; v += blockDim.x) local[v] = 0;
  __syncthreads();
  const std::int32_t feature = features[node * m + f];
  const std::int64_t b = begin[node];
  // A feature outside [0, d) or a code >= bins (the builder never makes either) adds nothing
  // rather than reading or writing outside the arrays.
  const std::int64_t e = feature >= 0 && feature < d ? end[node] : b;
  for (std::int64_t r = b + static_cast<std::int64_t>(blockIdx.z) * blockDim.x + threadIdx.x; r < e;
       r += static_cast<std::int64_t>(gridDim.z) * blockDim.x) {
    const std::int64_t row = rows[r];
    const std::int64_t code = codes[row * d + feature];
    if (code >= bins) continue;
    const std::int64_t* ch = channels + row * k;
    for (std::int64_t c = 0; c < k; ++c) atomicAdd(target + code * k + c, static_cast<Ull>(ch[c]));
  }
  __syncthreads();
  if (shared_hist)
    for (std::int64_t v = threadIdx.x; v < size; v += blockDim.x)
      if (local[v] != 0) atomicAdd(out + v, local[v]);
}

static __global__ void subtract_kernel(const std::int64_t* parent_hist, const std::int32_t* parent,
                                       const std::int32_t* child, const std::int32_t* dst,
                                       std::int64_t slot_size, std::int64_t* hist) {
  const std::int64_t pair = blockIdx.y;
  const std::int64_t* p = parent_hist + parent[pair] * slot_size;
  const std::int64_t* c = hist + child[pair] * slot_size;
  std::int64_t* out = hist + dst[pair] * slot_size;
  for (std::int64_t v = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       v < slot_size; v += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    out[v] = p[v] - c[v];
}

// One block per node: thread t scans features t, t + 32, ... in order, keeping its best; thread
// 0 then merges the per-thread bests in feature order with the CPU's strict comparison, which
// gives the CPU's sequential result exactly. Up to kLocalChannels channels the node's totals live
// in shared memory and each thread's left/right sums in its own arrays; with more (many classes)
// all of them live in `scratch` (cuda::SplitPlan: scratch_per_node int64 per block), so any
// class count is supported.
static __global__ void best_splits_kernel(
    const std::int64_t* hist, const std::int32_t* features, std::int64_t m, std::int64_t bins,
    std::int64_t k, const std::int32_t* n_bins, ForestSplitRule rule, std::int32_t* feature,
    std::int32_t* bin, std::uint8_t* missing_left, double* gain, std::int64_t* left,
    std::int64_t ld_left, std::int64_t* total, std::int64_t ld_total, std::int64_t* scratch) {
  __shared__ std::int64_t shared_total[kLocalChannels];
  __shared__ double best_gain[kSplitThreads];
  __shared__ std::int32_t best_bin[kSplitThreads];
  __shared__ std::int32_t best_f[kSplitThreads];
  __shared__ std::uint8_t best_ml[kSplitThreads];
  const std::int64_t node = blockIdx.x;
  const std::int64_t* node_hist = hist + node * m * bins * k;
  std::int64_t local_left[kLocalChannels], local_right[kLocalChannels];
  std::int64_t* block_scratch =
      scratch != nullptr ? scratch + node * k * (1 + 2 * kSplitThreads) : nullptr;
  std::int64_t* node_total = scratch != nullptr ? block_scratch : shared_total;
  std::int64_t* scratch_left =
      scratch != nullptr ? block_scratch + k * (1 + 2 * threadIdx.x) : local_left;
  std::int64_t* scratch_right = scratch != nullptr ? scratch_left + k : local_right;
  for (std::int64_t c = threadIdx.x; c < k; c += blockDim.x) {
    std::int64_t sum = 0;
    for (std::int64_t b = 0; b < bins; ++b) sum += node_hist[b * k + c];
    node_total[c] = sum;
  }
  __syncthreads();
  const double parent_g = forest::weighted_impurity(node_total, k, rule.criterion);
  forest::FeatureSplit best{0.0, 0, 0, false};
  std::int32_t mine = -1;
  for (std::int64_t f = threadIdx.x; f < m; f += blockDim.x) {
    // Per feature, then merged below in feature order: a later feature must beat strictly.
    // n_bins beyond the histogram's bins (never from the builder) is cut to them.
    forest::FeatureSplit one{0.0, 0, 0, false};
    const std::int32_t used = n_bins[features[node * m + f]];
    forest::scan_feature(node_hist + f * bins * k, node_total, k,
                         used < bins ? used : static_cast<std::int32_t>(bins), rule, parent_g,
                         scratch_left, scratch_right, one);
    if (one.found && (!best.found || one.gain > best.gain)) {
      best = one;
      mine = static_cast<std::int32_t>(f);
    }
  }
  best_gain[threadIdx.x] = best.gain;
  best_bin[threadIdx.x] = best.bin;
  best_ml[threadIdx.x] = best.missing_left;
  best_f[threadIdx.x] = best.found ? mine : -1;
  __syncthreads();
  if (threadIdx.x != 0) return;
  // Each thread's best is its earliest feature among equal gains; ordering candidates by
  // feature index and taking strict improvements reproduces the CPU's scan.
  std::int32_t win = -1;
  double win_gain = 0.0;
  for (std::int64_t f = 0; f < m; ++f) {
    const int t = static_cast<int>(f % kSplitThreads);
    if (best_f[t] != f) continue;
    if (win < 0 || best_gain[t] > win_gain) {
      win = static_cast<std::int32_t>(f);
      win_gain = best_gain[t];
    }
  }
  std::int64_t* node_left = left + node * ld_left;
  for (std::int64_t c = 0; c < k; ++c) {
    total[node * ld_total + c] = node_total[c];
    node_left[c] = 0;
  }
  if (win < 0) {
    feature[node] = -1;
    bin[node] = 0;
    missing_left[node] = 0;
    gain[node] = 0.0;
    return;
  }
  const int t = win % kSplitThreads;
  feature[node] = features[node * m + win];
  bin[node] = best_bin[t];
  missing_left[node] = best_ml[t];
  gain[node] = win_gain;
  const std::int64_t* h = node_hist + win * bins * k;
  for (std::int32_t b = 1; b <= best_bin[t]; ++b)
    for (std::int64_t c = 0; c < k; ++c) node_left[c] += h[b * k + c];
  if (best_ml[t])
    for (std::int64_t c = 0; c < k; ++c) node_left[c] += h[c];
}

}  // namespace

void launch_forest_histograms(const std::uint8_t* codes, std::int64_t d, const std::int32_t* rows,
                              const std::int64_t* channels, std::int64_t nodes,
                              const std::int32_t* begin, const std::int32_t* end,
                              const std::int32_t* features, std::int64_t m, std::int64_t bins,
                              std::int64_t channel_count, std::int64_t* hist, cudaStream_t stream) {
  if (nodes == 0 || m == 0) return;
  TABULA_CUDA_CHECK(cudaMemsetAsync(
      hist, 0, static_cast<std::size_t>(nodes * m * bins * channel_count) * sizeof(std::int64_t),
      stream));
  int device = 0, optin = 0;
  TABULA_CUDA_CHECK(cudaGetDevice(&device));
  TABULA_CUDA_CHECK(
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  const cuda::HistogramPlan plan = cuda::plan_histogram(bins, channel_count, optin);
  // Above 48 KB a kernel must ask for its dynamic shared memory (per device, before launch).
  if (plan.placement == cuda::HistogramPlacement::kSharedOptIn)
    TABULA_CUDA_CHECK(cudaFuncSetAttribute(histogram_kernel,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(plan.shared_bytes)));
  const bool use_shared = plan.placement != cuda::HistogramPlacement::kGlobal;
  // grid.y is limited to 65535: deep levels are launched in chunks of nodes.
  for (std::int64_t first = 0; first < nodes; first += kMaxGridY) {
    const std::int64_t count = nodes - first < kMaxGridY ? nodes - first : kMaxGridY;
    const dim3 grid(static_cast<unsigned>(m), static_cast<unsigned>(count), kRowChunks);
    histogram_kernel<<<grid, kThreads, static_cast<std::size_t>(plan.shared_bytes), stream>>>(
        codes, d, rows, channels, begin + first, end + first, features + first * m, m, bins,
        channel_count, hist + first * m * bins * channel_count, use_shared);
    TABULA_CUDA_CHECK_LAUNCH();
  }
}

void launch_forest_hist_subtract(const std::int64_t* parent_hist, const std::int32_t* parent,
                                 const std::int32_t* child, const std::int32_t* dst,
                                 std::int64_t pairs, std::int64_t slot_size, std::int64_t* hist,
                                 cudaStream_t stream) {
  if (pairs == 0 || slot_size == 0) return;
  const std::int64_t blocks = (slot_size + kThreads - 1) / kThreads;
  for (std::int64_t first = 0; first < pairs; first += kMaxGridY) {
    const std::int64_t count = pairs - first < kMaxGridY ? pairs - first : kMaxGridY;
    const dim3 grid(static_cast<unsigned>(blocks > 1024 ? 1024 : blocks),
                    static_cast<unsigned>(count));
    subtract_kernel<<<grid, kThreads, 0, stream>>>(parent_hist, parent + first, child + first,
                                                   dst + first, slot_size, hist);
    TABULA_CUDA_CHECK_LAUNCH();
  }
}

void launch_forest_best_splits(const std::int64_t* hist, std::int64_t nodes,
                               const std::int32_t* features, std::int64_t m, std::int64_t bins,
                               std::int64_t channel_count, const std::int32_t* n_bins,
                               ForestSplitRule rule, std::int32_t* feature, std::int32_t* bin,
                               std::uint8_t* missing_left, double* gain, std::int64_t* left,
                               std::int64_t ld_left, std::int64_t* total, std::int64_t ld_total,
                               std::int64_t* scratch, cudaStream_t stream) {
  if (nodes == 0) return;
  const cuda::SplitPlan plan = cuda::plan_best_splits(nodes, channel_count);
  for (std::int64_t first = 0; first < nodes; first += plan.nodes_per_launch) {
    const std::int64_t count =
        nodes - first < plan.nodes_per_launch ? nodes - first : plan.nodes_per_launch;
    best_splits_kernel<<<static_cast<unsigned>(count), kSplitThreads, 0, stream>>>(
        hist + first * m * bins * channel_count, features + first * m, m, bins, channel_count,
        n_bins, rule, feature + first, bin + first, missing_left + first, gain + first,
        left + first * ld_left, ld_left, total + first * ld_total, ld_total,
        plan.global_scratch ? scratch : nullptr);
    TABULA_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace tabula::kernels

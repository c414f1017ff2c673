// The CUDA histogram forest's launch decisions and input checks, as plain host arithmetic with no
// CUDA type, so the CPU-only build tests them (tests/backend/cuda_forest_plan_test.cpp) and the
// kernels' launchers (kernels/histogram.cu, src/backend/cuda/forest_cuda.cpp) only apply them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "tabula/core/error.hpp"

namespace tabula::cuda {

/// Dynamic shared memory a launch gets without cudaFuncSetAttribute (every GPU since Kepler).
inline constexpr std::int64_t kDefaultSharedBytes = 48 * 1024;
/// Bins per feature the uint8 codes allow: bin 0 (missing) and 1 + up to 254 edges below.
inline constexpr std::int64_t kMaxBins = 256;
inline constexpr std::int64_t kMaxEdges = kMaxBins - 2;
/// Channels (classes + 1) whose split scratch fits in per-thread arrays; more use global memory.
inline constexpr std::int64_t kSplitLocalChannels = 64;
/// Threads per block of the split kernel (one candidate feature each).
inline constexpr std::int64_t kSplitThreads = 32;
/// Device memory the split kernel's global scratch may take per launch (nodes are chunked).
inline constexpr std::int64_t kSplitScratchBudget = std::int64_t{64} << 20;

/// Where a histogram block accumulates one feature's bins x channels int64 sums: in shared memory
/// (default limit), in shared memory after opting in to the device's larger per-block limit, or
/// straight into global memory with global atomics when even that is too small.
enum class HistogramPlacement { kShared, kSharedOptIn, kGlobal };

struct HistogramPlan {
  HistogramPlacement placement;
  std::int64_t shared_bytes;  // dynamic shared memory to launch with (0 for kGlobal)
};

/// optin_limit: the device's cudaDevAttrMaxSharedMemoryPerBlockOptin (0 when unknown).
inline HistogramPlan plan_histogram(std::int64_t bins, std::int64_t channels,
                                    std::int64_t optin_limit) {
  const std::int64_t bytes = bins * channels * static_cast<std::int64_t>(sizeof(std::int64_t));
  if (bytes <= kDefaultSharedBytes) return {HistogramPlacement::kShared, bytes};
  if (bytes <= optin_limit) return {HistogramPlacement::kSharedOptIn, bytes};
  return {HistogramPlacement::kGlobal, 0};
}

/// How the split kernel holds a node's channel totals and each thread's left/right sums: in
/// shared and per-thread arrays up to kSplitLocalChannels channels; beyond, in a global scratch
/// of scratch_per_node int64 per node, launched nodes_per_launch nodes at a time.
struct SplitPlan {
  bool global_scratch;
  std::int64_t scratch_per_node;  // int64 values: totals + 2 x channels per thread
  std::int64_t nodes_per_launch;
};

inline SplitPlan plan_best_splits(std::int64_t nodes, std::int64_t channels) {
  if (channels <= kSplitLocalChannels) return {false, 0, std::max<std::int64_t>(nodes, 1)};
  const std::int64_t per_node = channels * (1 + 2 * kSplitThreads);
  const std::int64_t fit =
      kSplitScratchBudget / (per_node * static_cast<std::int64_t>(sizeof(std::int64_t)));
  return {true, per_node, std::clamp<std::int64_t>(fit, 1, std::max<std::int64_t>(nodes, 1))};
}

/// Checks forest_bin's per-feature edge ranges (host copies of the d + 1 offsets): ascending
/// from 0 to at most n_edges, at most kMaxEdges per feature so every code fits in uint8.
inline void check_bin_offsets(const std::int32_t* offsets, std::int64_t d, std::int64_t n_edges) {
  if (offsets[0] != 0 || offsets[d] > n_edges)
    throw Error("forest_bin: edge offsets run from " + std::to_string(offsets[0]) + " to " +
                std::to_string(offsets[d]) + ", expected 0 to at most " + std::to_string(n_edges));
  for (std::int64_t j = 0; j < d; ++j) {
    const std::int64_t count = std::int64_t{offsets[j + 1]} - offsets[j];
    if (count < 0 || count > kMaxEdges)
      throw Error("forest_bin: feature " + std::to_string(j) + " has " + std::to_string(count) +
                  " edges, expected 0 to " + std::to_string(kMaxEdges));
  }
}

}  // namespace tabula::cuda

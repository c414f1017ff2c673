// CudaBackend's histogram-forest primitives (a .cpp: the public headers are C++20, kernels C++17):
// view checks, then the kernels in kernels/binning, histogram, partition and forest_predict. Same
// results as the host reference (src/backend/cpu/forest_cpu.cpp): integer histogram sums, the split
// scan shared through src/backend/forest_math.hpp, and trees summed in order per row.
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.hpp"
#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/forest_launch_plan.hpp"
#include "backend/cuda/forest_tree_check.hpp"
#include "backend/forest_math.hpp"
#include "backend/view_checks.hpp"
#include "binning.cuh"
#include "forest_predict.cuh"
#include "histogram.cuh"
#include "partition.cuh"
#include "tabula/core/error.hpp"

namespace tabula::cuda {
namespace {

// Views of every element type the forest uses must live on this device.
template <typename V>
void check_on(const V& view, Device here, const char* what) {
  if (view.data != nullptr) check_device(view.device, here, what);
}

template <typename T>
std::string shape_of(const MatrixView<T>& m) {
  return std::to_string(m.rows) + " x " + std::to_string(m.cols);
}

kernels::ForestTreeArrays arrays(const ForestTrees& t, std::int64_t d, std::int64_t depth) {
  return {t.offsets.data,
          t.feature.data,
          t.threshold.data,
          t.left.data,
          t.right.data,
          t.missing_left.data,
          t.values.data,
          t.category_set.size > 0 ? t.category_set.data : nullptr,
          t.category_set.size > 0 ? t.category_bits.data : nullptr,
          t.value_size,
          t.n_trees(),
          d,
          depth};
}

// `count` values from device memory, in stream order (waits for the stream).
template <typename T>
std::vector<T> to_host(CudaResources& resources, const T* src, std::int64_t count) {
  std::vector<T> out(static_cast<std::size_t>(count));
  if (count == 0) return out;
  TABULA_CUDA_CHECK(cudaMemcpyAsync(out.data(), src, out.size() * sizeof(T), cudaMemcpyDeviceToHost,
                                    resources.stream()));
  resources.synchronize();
  return out;
}

// What check_trees verified, kept in ForestTrees::cache: its owner replaces the cache whenever
// the arrays change, so the same shape under the same cache is the same forest (re-uploaded per
// call at other addresses, hence no pointer in the key).
struct CheckedForest {
  std::int64_t d, n_trees, first, nodes, depth;
};
constexpr std::uint64_t kCheckedForestKey = 0x7461627563756461ULL;  // "tabucuda"

// The trees' arrays must cover their nodes; then the host copies must pass check_forest_trees.
// Returns the walk's step bound (the deepest tree). Cached per forest, so a resident model pays
// the copy once.
std::int64_t check_trees(CudaResources& resources, const ForestTrees& t, std::int64_t d) {
  if (t.offsets.size < 1) throw Error("forest: offsets must have n_trees + 1 entries, got 0");
  const std::vector<std::int64_t> offsets = to_host(resources, t.offsets.data, t.offsets.size);
  const std::int64_t first = offsets.front(), nodes = offsets.back() - first;
  if (t.cache != nullptr) {
    auto entry = std::static_pointer_cast<const CheckedForest>(t.cache->find(kCheckedForestKey));
    if (entry && entry->d == d && entry->n_trees == t.n_trees() && entry->first == first &&
        entry->nodes == nodes)
      return entry->depth;
  }
  const std::int64_t end = offsets.back();
  if (first < 0 || nodes < 0 || end > t.feature.size || end > t.threshold.size ||
      end > t.left.size || end > t.right.size || end > t.missing_left.size ||
      end > t.values.size / std::max<std::int64_t>(t.value_size, 1))
    throw Error("forest: offsets run from " + std::to_string(first) + " to " + std::to_string(end) +
                ", beyond the node arrays (" + std::to_string(t.feature.size) + " nodes)");
  const auto feature = to_host(resources, t.feature.data + first, nodes);
  const auto threshold = to_host(resources, t.threshold.data + first, nodes);
  const auto left = to_host(resources, t.left.data + first, nodes);
  const auto right = to_host(resources, t.right.data + first, nodes);
  // Categorical splits: every node's set index, checked against the sets given.
  std::vector<std::int32_t> category_set;
  if (t.category_set.size > 0) {
    if (end > t.category_set.size || t.category_bits.size % kForestCategorySetBytes != 0)
      throw Error("forest: " + std::to_string(t.category_set.size) + " category set indices and " +
                  std::to_string(t.category_bits.size) + " set bytes for " + std::to_string(end) +
                  " nodes");
    category_set = to_host(resources, t.category_set.data + first, nodes);
  }
  const std::int64_t depth = check_forest_trees(
      {offsets.data(), t.n_trees(), feature.data(), threshold.data(), left.data(), right.data(),
       category_set.empty() ? nullptr : category_set.data(),
       t.category_bits.size / kForestCategorySetBytes},
      d);
  if (t.cache != nullptr)
    t.cache->store(kCheckedForestKey, std::make_shared<const CheckedForest>(
                                          CheckedForest{d, t.n_trees(), first, nodes, depth}));
  return depth;
}

void require_row_major(const char* what, bool ok) {
  if (!ok) throw Error(std::string(what) + " must be a dense row-major matrix");
}

void check_trees_on(const ForestTrees& t, Device here, const char* name) {
  check_on(t.offsets, here, name);
  check_on(t.feature, here, name);
  check_on(t.threshold, here, name);
  check_on(t.left, here, name);
  check_on(t.right, here, name);
  check_on(t.missing_left, here, name);
  check_on(t.values, here, name);
  check_on(t.category_set, here, name);
  check_on(t.category_bits, here, name);
}

}  // namespace

void CudaBackend::bin(MatrixView<const float> x, VectorView<const float> edges,
                      VectorView<const std::int32_t> offsets, MatrixView<std::uint8_t> codes) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_on(x, here, "forest_bin: x");
  check_on(edges, here, "forest_bin: edges");
  check_on(offsets, here, "forest_bin: offsets");
  check_on(codes, here, "forest_bin: codes");
  require_row_major("forest_bin: x", x.layout == Layout::kRowMajor);
  require_row_major("forest_bin: codes", codes.layout == Layout::kRowMajor && codes.contiguous());
  if (codes.rows != x.rows || codes.cols != x.cols || offsets.size != x.cols + 1)
    throw Error("forest_bin: x is " + shape_of(x) + ", codes " + shape_of(codes) + ", offsets " +
                std::to_string(offsets.size) + " (must match)");
  // The kernels pad every feature to 255 edges and write uint8 codes: more edges would be cut
  // off silently, so the offsets (d + 1 values) are checked on the host first.
  const std::vector<std::int32_t> host_offsets = to_host(resources_, offsets.data, offsets.size);
  check_bin_offsets(host_offsets.data(), x.cols, edges.size);
  DeviceArray<float> padded(resources_, x.cols * (kMaxEdges + 1));
  kernels::launch_forest_pad_edges(edges.data, offsets.data, x.cols, padded.data(),
                                   resources_.stream());
  kernels::launch_forest_bin(x.data, x.rows, x.cols, x.stride, padded.data(), codes.data,
                             resources_.stream());
}

void CudaBackend::histograms(MatrixView<const std::uint8_t> codes,
                             VectorView<const std::int32_t> rows,
                             MatrixView<const std::int64_t> channels, const ForestBatch& batch,
                             ForestHistShape shape, VectorView<std::int64_t> hist) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_on(codes, here, "forest_histograms: codes");
  check_on(rows, here, "forest_histograms: rows");
  check_on(channels, here, "forest_histograms: channels");
  if (batch.ordered_channels.data != nullptr || batch.ordered_codes.data != nullptr)
    throw Error("forest_histograms: ordered channels and codes are a host-backend layout");
  check_on(batch.begin, here, "forest_histograms: begin");
  check_on(batch.end, here, "forest_histograms: end");
  check_on(batch.features, here, "forest_histograms: features");
  check_on(hist, here, "forest_histograms: hist");
  require_row_major("forest_histograms: codes",
                    codes.layout == Layout::kRowMajor && codes.contiguous());
  require_row_major("forest_histograms: channels", channels.layout == Layout::kRowMajor &&
                                                       channels.contiguous() &&
                                                       channels.cols == shape.channels);
  const std::int64_t m = batch.features_per_node;
  if (hist.size < batch.nodes * shape.node_size(m))
    throw Error("forest_histograms: hist has " + std::to_string(hist.size) + " values, needs " +
                std::to_string(batch.nodes * shape.node_size(m)));
  kernels::launch_forest_histograms(codes.data, codes.cols, rows.data, channels.data, batch.nodes,
                                    batch.begin.data, batch.end.data, batch.features.data, m,
                                    shape.bins, shape.channels, hist.data, resources_.stream());
}

void CudaBackend::hist_subtract(VectorView<const std::int64_t> parent_hist,
                                VectorView<const std::int32_t> parent,
                                VectorView<const std::int32_t> child,
                                VectorView<const std::int32_t> dst, std::int64_t slot_size,
                                VectorView<std::int64_t> hist) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_on(parent_hist, here, "forest_hist_subtract: parent_hist");
  check_on(parent, here, "forest_hist_subtract: parent");
  check_on(child, here, "forest_hist_subtract: child");
  check_on(dst, here, "forest_hist_subtract: dst");
  check_on(hist, here, "forest_hist_subtract: hist");
  if (parent.size != child.size || parent.size != dst.size)
    throw Error("forest_hist_subtract: parent, child and dst must have equal sizes");
  kernels::launch_forest_hist_subtract(parent_hist.data, parent.data, child.data, dst.data,
                                       parent.size, slot_size, hist.data, resources_.stream());
}

void CudaBackend::best_splits(VectorView<const std::int64_t> hist, const ForestBatch& batch,
                              ForestHistShape shape, VectorView<const std::int32_t> n_bins,
                              ForestSplitRule rule, const ForestSplits& out) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_on(hist, here, "forest_best_splits: hist");
  check_on(batch.features, here, "forest_best_splits: features");
  check_on(n_bins, here, "forest_best_splits: n_bins");
  check_on(out.feature, here, "forest_best_splits: feature");
  check_on(out.bin, here, "forest_best_splits: bin");
  check_on(out.missing_left, here, "forest_best_splits: missing_left");
  check_on(out.gain, here, "forest_best_splits: gain");
  check_on(out.left, here, "forest_best_splits: left");
  check_on(out.total, here, "forest_best_splits: total");
  if (shape.bins < 1 || shape.bins > kMaxBins || shape.channels < 1)
    throw Error("forest_best_splits: " + std::to_string(shape.bins) + " bins and " +
                std::to_string(shape.channels) + " channels per feature (1 to " +
                std::to_string(kMaxBins) + " bins, at least 1 channel)");
  const std::int64_t m = batch.features_per_node;
  if (hist.size < batch.nodes * shape.node_size(m) || out.feature.size < batch.nodes)
    throw Error("forest_best_splits: buffers too small for " + std::to_string(batch.nodes) +
                " nodes");
  // Many classes: the kernel keeps its sums in device scratch instead of per-thread arrays.
  const SplitPlan plan = plan_best_splits(batch.nodes, shape.channels);
  DeviceArray<std::int64_t> scratch(
      resources_, plan.global_scratch ? plan.nodes_per_launch * plan.scratch_per_node : 0);
  kernels::launch_forest_best_splits(
      hist.data, batch.nodes, batch.features.data, m, shape.bins, shape.channels, n_bins.data, rule,
      out.feature.data, out.bin.data, out.missing_left.data, out.gain.data, out.left.data,
      out.left.stride, out.total.data, out.total.stride, scratch.data(), resources_.stream());
}

void CudaBackend::partition(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                            const ForestBatch& batch, VectorView<const std::int32_t> feature,
                            VectorView<const std::int32_t> bin,
                            VectorView<const std::uint8_t> missing_left) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_on(codes, here, "forest_partition: codes");
  check_on(rows, here, "forest_partition: rows");
  if (batch.ordered_channels.data != nullptr || batch.ordered_codes.data != nullptr)
    throw Error("forest_partition: ordered channels and codes are a host-backend layout");
  check_on(batch.begin, here, "forest_partition: begin");
  check_on(batch.end, here, "forest_partition: end");
  check_on(feature, here, "forest_partition: feature");
  check_on(bin, here, "forest_partition: bin");
  check_on(missing_left, here, "forest_partition: missing_left");
  check_on(batch.left_bins, here, "forest_partition: left_bins");
  if (batch.left_bins.data != nullptr &&
      batch.left_bins.size < batch.nodes * kForestCategorySetBytes)
    throw Error("forest_partition: left_bins has " + std::to_string(batch.left_bins.size) +
                " bytes for " + std::to_string(batch.nodes) + " nodes");
  require_row_major("forest_partition: codes",
                    codes.layout == Layout::kRowMajor && codes.contiguous());
  DeviceArray<std::int32_t> scratch(resources_, rows.size);
  kernels::launch_forest_partition(codes.data, codes.cols, rows.data, batch.nodes, batch.begin.data,
                                   batch.end.data, feature.data, bin.data, missing_left.data,
                                   batch.left_bins.data, scratch.data(), resources_.stream());
}

void CudaBackend::predict(MatrixView<const float> x, const ForestTrees& trees,
                          MatrixView<double> out) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_on(x, here, "forest_predict: x");
  check_on(out, here, "forest_predict: out");
  check_trees_on(trees, here, "forest_predict: trees");
  require_row_major("forest_predict: x", x.layout == Layout::kRowMajor);
  require_row_major("forest_predict: out", out.layout == Layout::kRowMajor && out.contiguous());
  if (out.rows != x.rows || out.cols != trees.value_size)
    throw Error("forest_predict: out is " + shape_of(out) + ", expected " + std::to_string(x.rows) +
                " x " + std::to_string(trees.value_size));
  const std::int64_t depth = check_trees(resources_, trees, x.cols);
  kernels::launch_forest_predict(x.data, x.rows, x.stride, arrays(trees, x.cols, depth), out.data,
                                 resources_.stream());
}

void CudaBackend::apply(MatrixView<const float> x, const ForestTrees& trees,
                        MatrixView<std::int32_t> leaves) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_on(x, here, "forest_apply: x");
  check_on(leaves, here, "forest_apply: leaves");
  check_trees_on(trees, here, "forest_apply: trees");
  require_row_major("forest_apply: x", x.layout == Layout::kRowMajor);
  require_row_major("forest_apply: leaves", leaves.layout == Layout::kRowMajor);
  if (leaves.rows != x.rows || leaves.cols != trees.n_trees())
    throw Error("forest_apply: leaves is " + shape_of(leaves) + ", expected " +
                std::to_string(x.rows) + " x " + std::to_string(trees.n_trees()));
  const std::int64_t depth = check_trees(resources_, trees, x.cols);
  kernels::launch_forest_apply(x.data, x.rows, x.stride, arrays(trees, x.cols, depth), leaves.data,
                               leaves.stride, resources_.stream());
}

}  // namespace tabula::cuda

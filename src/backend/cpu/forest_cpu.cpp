// The reference (host memory) versions of the histogram-forest primitives: Backend's default
// implementations, used by the CPU backend. Work is split into independent tasks that each own
// their output, and every sum is an integer, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "models/forest_math.hpp"
#include "tabula/backend.hpp"
#include "tabula/error.hpp"
#include "tabula/thread_pool.hpp"

namespace tabula {
namespace {

// Rows per histogram task: large nodes are cut into blocks so the top of a tree keeps every
// thread busy; the blocks' integer histograms are then added in block order.
constexpr std::int64_t kHistBlockRows = 32768;
// Rows per prediction task: a block is pushed through one tree at a time so the tree's nodes
// stay in cache while the block's rows use them.
constexpr std::int64_t kPredictBlockRows = 256;
// How far ahead the row loops prefetch a scattered row (enough to cover memory latency).
constexpr std::int64_t kPrefetchRows = 16;

void require_host(const Backend& backend, Device device, const char* primitive) {
  if (!device.is_cpu())
    throw DeviceError(std::string(primitive) + ": the host reference got memory on " +
                      device.to_string() + "; backend " + backend.device().to_string() +
                      " must implement this primitive");
}

template <typename T>
void require_size(const VectorView<T>& v, std::int64_t size, const char* primitive,
                  const char* what) {
  if (v.size < size)
    throw Error(std::string(primitive) + ": " + what + " has " + std::to_string(v.size) +
                " entries, needs " + std::to_string(size));
}

// A node packed into 16 bytes so a visit touches one cache line: the feature with the
// missing-value direction in its top bit, the threshold, and both children (absolute indices).
// A leaf points to itself on both sides (and reads feature 0), so a walk can take a fixed number
// of steps, the tree's depth, without testing for leaves: the loop has no data-dependent
// branch and the lanes' loads overlap.
struct PackedNode {
  std::int32_t feature;  // feature | (missing_left << 30); 0 for a leaf
  float threshold;
  std::int32_t left;
  std::int32_t right;
};
constexpr std::int32_t kMissingLeftBit = 1 << 30;

struct PackedForest {
  std::vector<PackedNode> nodes;
  std::vector<int> depth;  // per tree: edges on the longest root-to-leaf path
};

PackedForest pack(const ForestTrees& t) {
  const std::int64_t nodes = t.offsets.data[t.n_trees()] - t.offsets.data[0];
  const std::int64_t first = t.offsets.data[0];
  PackedForest packed;
  packed.nodes.resize(static_cast<std::size_t>(nodes));
  packed.depth.assign(static_cast<std::size_t>(t.n_trees()), 0);
  std::vector<std::pair<std::int64_t, int>> stack;  // (node, its depth)
  for (std::int64_t tree = 0; tree < t.n_trees(); ++tree) {
    const std::int64_t base = t.offsets.data[tree];
    for (std::int64_t g = base; g < t.offsets.data[tree + 1]; ++g) {
      PackedNode& p = packed.nodes[static_cast<std::size_t>(g - first)];
      const std::int32_t f = t.feature.data[g];
      p.threshold = t.threshold.data[g];
      if (f < 0) {
        p.feature = 0;
        p.left = p.right = static_cast<std::int32_t>(g - first);
        continue;
      }
      p.feature = f | (t.missing_left.data[g] ? kMissingLeftBit : 0);
      p.left = static_cast<std::int32_t>(base - first + t.left.data[g]);
      p.right = static_cast<std::int32_t>(base - first + t.right.data[g]);
    }
    int& depth = packed.depth[static_cast<std::size_t>(tree)];
    stack.assign(1, {base, 0});
    while (!stack.empty()) {
      const auto [g, d] = stack.back();
      stack.pop_back();
      depth = std::max(depth, d);
      if (t.feature.data[g] < 0) continue;
      stack.push_back({base + t.left.data[g], d + 1});
      stack.push_back({base + t.right.data[g], d + 1});
    }
  }
  return packed;
}

// Walks kLanes rows of x (starting at row i; lanes past `lanes` repeat the last row) through the
// tree rooted at `root` in lockstep for `depth` steps; leaf[l] gets each row's leaf (packed
// index). NaN goes to the learned side: v <= threshold is false for NaN.
constexpr int kLanes = 8;
inline void walk_lanes(const PackedNode* nodes, std::int32_t root, int depth,
                       MatrixView<const float> x, std::int64_t i, int lanes, std::int32_t* leaf) {
  // Element (row, f) is at base[l] + f * step: row-major rows are contiguous, column-major
  // ones strided; resolved once per lane rather than per visit.
  const bool row_major = x.layout == Layout::kRowMajor;
  const std::int64_t step = row_major ? 1 : x.stride;
  const float* base[kLanes];
  std::int32_t at[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const std::int64_t row = i + std::min(l, lanes - 1);
    base[l] = x.data + (row_major ? row * x.stride : row);
    at[l] = root;
  }
  for (int s = 0; s < depth; ++s) {
    for (int l = 0; l < kLanes; ++l) {
      const PackedNode& n = nodes[at[l]];
      const float v = base[l][(n.feature & (kMissingLeftBit - 1)) * step];
      const bool go_left = (v <= n.threshold) | ((v != v) & ((n.feature & kMissingLeftBit) != 0));
      at[l] = go_left ? n.left : n.right;
    }
  }
  for (int l = 0; l < lanes; ++l) leaf[l] = at[l];
}

}  // namespace

void Backend::forest_bin(MatrixView<const float> x, VectorView<const float> edges,
                         VectorView<const std::int32_t> offsets, MatrixView<std::uint8_t> codes) {
  constexpr const char* kName = "forest_bin";
  require_host(*this, x.device, kName);
  require_host(*this, codes.device, kName);
  require_host(*this, edges.device, kName);
  if (codes.rows != x.rows || codes.cols != x.cols || codes.layout != Layout::kRowMajor ||
      offsets.size != x.cols + 1)
    throw Error("forest_bin: x is " + std::to_string(x.rows) + " x " + std::to_string(x.cols) +
                ", codes " + std::to_string(codes.rows) + " x " + std::to_string(codes.cols) +
                " (must match, row-major), offsets " + std::to_string(offsets.size));
  // Each feature's edges padded with +inf to 255 entries: a branch-free binary search of
  // 8 fixed steps then counts the edges below a value (the padding never is).
  constexpr std::int64_t kPadded = 255;
  std::vector<float> padded(static_cast<std::size_t>(x.cols * kPadded),
                            std::numeric_limits<float>::infinity());
  for (std::int64_t j = 0; j < x.cols; ++j) {
    const std::int64_t count = offsets.data[j + 1] - offsets.data[j];
    if (count > kPadded - 1)
      throw Error("forest_bin: feature " + std::to_string(j) + " has " + std::to_string(count) +
                  " edges, at most 254");
    std::copy(edges.data + offsets.data[j], edges.data + offsets.data[j + 1],
              padded.begin() + j * kPadded);
  }
  parallel_blocks(x.rows, 16384, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0; j < x.cols; ++j) {
        const float* e = padded.data() + j * kPadded;
        const float v = x(i, j);
        std::int32_t pos = 0;
        for (std::int32_t step = 128; step > 0; step >>= 1) pos += e[pos + step - 1] < v ? step : 0;
        codes(i, j) = std::isnan(v) ? std::uint8_t{0} : static_cast<std::uint8_t>(1 + pos);
      }
    }
  });
}

void Backend::forest_histograms(MatrixView<const std::uint8_t> codes,
                                VectorView<const std::int32_t> rows,
                                MatrixView<const std::int64_t> channels, const ForestBatch& batch,
                                ForestHistShape shape, VectorView<std::int64_t> hist) {
  constexpr const char* kName = "forest_histograms";
  require_host(*this, codes.device, kName);
  require_host(*this, hist.device, kName);
  const std::int64_t m = batch.features_per_node;
  const std::int64_t k = shape.channels;
  const std::int64_t slot = shape.node_size(m);
  require_size(hist, batch.nodes * slot, kName, "hist");
  if (channels.cols != k || channels.layout != Layout::kRowMajor || !channels.contiguous())
    throw Error("forest_histograms: channels must be dense row-major n x " + std::to_string(k));

  // Tasks: (node, row block). Single-block nodes write their slot directly; multi-block nodes
  // write scratch slots that are added afterwards.
  struct Task {
    std::int64_t node, begin, end, scratch;  // scratch -1: write the node's slot
  };
  std::vector<Task> tasks;
  std::int64_t scratch_slots = 0;
  for (std::int64_t nd = 0; nd < batch.nodes; ++nd) {
    const std::int64_t b = batch.begin.data[nd], e = batch.end.data[nd];
    if (e - b <= kHistBlockRows) {
      tasks.push_back({nd, b, e, -1});
      continue;
    }
    for (std::int64_t s = b; s < e; s += kHistBlockRows)
      tasks.push_back({nd, s, std::min(e, s + kHistBlockRows), scratch_slots++});
  }
  std::vector<std::int64_t> scratch(static_cast<std::size_t>(scratch_slots * slot));
  parallel_for(static_cast<std::int64_t>(tasks.size()), [&](std::int64_t ti) {
    const Task& task = tasks[static_cast<std::size_t>(ti)];
    std::int64_t* out =
        task.scratch < 0 ? hist.data + task.node * slot : scratch.data() + task.scratch * slot;
    std::memset(out, 0, static_cast<std::size_t>(slot) * sizeof(std::int64_t));
    const std::int32_t* feats = batch.features.data + task.node * m;
    const std::int32_t* row_ids = rows.data;
    for (std::int64_t r = task.begin; r < task.end; ++r) {
      // Rows are scattered: fetch a later row's codes and channels while this one is added.
      if (r + kPrefetchRows < task.end) {
        const std::int64_t ahead = row_ids[r + kPrefetchRows];
        __builtin_prefetch(codes.data + ahead * codes.stride);
        __builtin_prefetch(channels.data + ahead * k);
      }
      const std::int64_t row = row_ids[r];
      const std::uint8_t* code = codes.data + row * codes.stride;
      const std::int64_t* ch = channels.data + row * k;
      if (k == 3) {  // the common binary-classification and regression shape, unrolled
        for (std::int64_t f = 0; f < m; ++f) {
          std::int64_t* h = out + (f * shape.bins + code[feats[f]]) * 3;
          h[0] += ch[0];
          h[1] += ch[1];
          h[2] += ch[2];
        }
      } else {
        for (std::int64_t f = 0; f < m; ++f) {
          std::int64_t* h = out + (f * shape.bins + code[feats[f]]) * k;
          for (std::int64_t c = 0; c < k; ++c) h[c] += ch[c];
        }
      }
    }
  });
  if (scratch_slots == 0) return;
  // Add the blocks of each multi-block node, in block order, in parallel over the slot.
  std::vector<std::pair<std::int64_t, std::int64_t>> spans;  // node -> first scratch, count
  std::vector<std::int64_t> span_node;
  for (const Task& t : tasks) {
    if (t.scratch < 0) continue;
    if (span_node.empty() || span_node.back() != t.node) {
      span_node.push_back(t.node);
      spans.push_back({t.scratch, 0});
    }
    ++spans.back().second;
  }
  constexpr std::int64_t kChunk = 4096;
  const std::int64_t chunks = (slot + kChunk - 1) / kChunk;
  parallel_for(static_cast<std::int64_t>(spans.size()) * chunks, [&](std::int64_t job) {
    const std::size_t s = static_cast<std::size_t>(job / chunks);
    const std::int64_t lo = (job % chunks) * kChunk, hi = std::min(slot, lo + kChunk);
    std::int64_t* out = hist.data + span_node[s] * slot;
    const auto [first, count] = spans[s];
    for (std::int64_t i = lo; i < hi; ++i) {
      std::int64_t sum = 0;
      for (std::int64_t b = 0; b < count; ++b) sum += scratch[(first + b) * slot + i];
      out[i] = sum;
    }
  });
}

void Backend::forest_hist_subtract(VectorView<const std::int64_t> parent_hist,
                                   VectorView<const std::int32_t> parent,
                                   VectorView<const std::int32_t> child,
                                   VectorView<const std::int32_t> dst, std::int64_t slot_size,
                                   VectorView<std::int64_t> hist) {
  constexpr const char* kName = "forest_hist_subtract";
  require_host(*this, parent_hist.device, kName);
  require_host(*this, hist.device, kName);
  if (parent.size != child.size || parent.size != dst.size)
    throw Error("forest_hist_subtract: parent, child and dst must have equal sizes");
  parallel_for(parent.size, [&](std::int64_t i) {
    const std::int64_t* p = parent_hist.data + parent.data[i] * slot_size;
    const std::int64_t* c = hist.data + child.data[i] * slot_size;
    std::int64_t* out = hist.data + dst.data[i] * slot_size;
    for (std::int64_t v = 0; v < slot_size; ++v) out[v] = p[v] - c[v];
  });
}

void Backend::forest_best_splits(VectorView<const std::int64_t> hist, const ForestBatch& batch,
                                 ForestHistShape shape, VectorView<const std::int32_t> n_bins,
                                 ForestSplitRule rule, const ForestSplits& out) {
  constexpr const char* kName = "forest_best_splits";
  require_host(*this, hist.device, kName);
  require_host(*this, out.feature.device, kName);
  const std::int64_t m = batch.features_per_node;
  const std::int64_t k = shape.channels;
  const std::int64_t slot = shape.node_size(m);
  require_size(hist, batch.nodes * slot, kName, "hist");
  require_size(out.feature, batch.nodes, kName, "feature");
  parallel_for(batch.nodes, [&](std::int64_t nd) {
    const std::int64_t* node_hist = hist.data + nd * slot;
    std::int64_t* total = out.total.data + nd * out.total.stride;
    // Every row falls in exactly one bin of the first feature: its bins sum to the node.
    for (std::int64_t c = 0; c < k; ++c) {
      std::int64_t sum = 0;
      for (std::int64_t b = 0; b < shape.bins; ++b) sum += node_hist[b * k + c];
      total[c] = sum;
    }
    const forest::SplitRule split_rule{static_cast<forest::Criterion>(rule.criterion),
                                       rule.min_samples_leaf};
    const double parent_g = forest::weighted_impurity(total, k, split_rule.criterion);
    std::vector<std::int64_t> scratch(static_cast<std::size_t>(2 * k));
    forest::FeatureSplit best{0.0, 0, 0, false};
    std::int64_t best_f = -1;
    for (std::int64_t f = 0; f < m; ++f) {
      const std::int32_t feature = batch.features.data[nd * m + f];
      const bool before = best.found;
      const double before_gain = best.gain;
      forest::scan_feature(node_hist + f * shape.bins * k, total, k, n_bins.data[feature],
                           split_rule, parent_g, scratch.data(), scratch.data() + k, best);
      if (best.found && (!before || best.gain > before_gain)) best_f = f;
    }
    out.feature.data[nd] = best.found ? batch.features.data[nd * m + best_f] : -1;
    out.bin.data[nd] = best.found ? best.bin : 0;
    out.missing_left.data[nd] = best.found ? best.missing_left : 0;
    out.gain.data[nd] = best.found ? best.gain : 0.0;
    std::int64_t* left = out.left.data + nd * out.left.stride;
    for (std::int64_t c = 0; c < k; ++c) left[c] = 0;
    if (!best.found) return;
    // Recompute the winning side's sums from the histogram rather than keeping a copy per
    // candidate.
    const std::int64_t* h = node_hist + best_f * shape.bins * k;
    for (std::int32_t b = 1; b <= best.bin; ++b)
      for (std::int64_t c = 0; c < k; ++c) left[c] += h[b * k + c];
    if (best.missing_left)
      for (std::int64_t c = 0; c < k; ++c) left[c] += h[c];
  });
}

void Backend::forest_partition(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                               const ForestBatch& batch, VectorView<const std::int32_t> feature,
                               VectorView<const std::int32_t> bin,
                               VectorView<const std::uint8_t> missing_left) {
  constexpr const char* kName = "forest_partition";
  require_host(*this, codes.device, kName);
  require_host(*this, rows.device, kName);
  parallel_for(batch.nodes, [&](std::int64_t nd) {
    const std::int64_t b = batch.begin.data[nd], e = batch.end.data[nd];
    const std::int32_t f = feature.data[nd];
    const std::int32_t t = bin.data[nd];
    const bool ml = missing_left.data[nd] != 0;
    std::vector<std::int32_t> right;
    right.reserve(static_cast<std::size_t>(e - b));
    std::int64_t w = b;
    for (std::int64_t r = b; r < e; ++r) {
      if (r + kPrefetchRows < e)
        __builtin_prefetch(codes.data + rows.data[r + kPrefetchRows] * codes.stride + f);
      const std::int32_t row = rows.data[r];
      const std::uint8_t code = codes.data[row * codes.stride + f];
      const bool go_left = code == 0 ? ml : code <= t;
      if (go_left)
        rows.data[w++] = row;
      else
        right.push_back(row);
    }
    std::copy(right.begin(), right.end(), rows.data + w);
  });
}

void Backend::forest_predict(MatrixView<const float> x, const ForestTrees& trees,
                             MatrixView<double> out) {
  constexpr const char* kName = "forest_predict";
  require_host(*this, x.device, kName);
  require_host(*this, out.device, kName);
  const std::int64_t v = trees.value_size;
  if (out.rows != x.rows || out.cols != v || out.layout != Layout::kRowMajor)
    throw Error("forest_predict: out must be " + std::to_string(x.rows) + " x " +
                std::to_string(v) + " row-major");
  const std::int64_t n_trees = trees.n_trees();
  const PackedForest packed = pack(trees);
  const std::int64_t first = trees.offsets.data[0];
  parallel_blocks(x.rows, kPredictBlockRows, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t c = 0; c < v; ++c) out(i, c) = 0.0;
    std::int32_t leaf[kLanes];
    for (std::int64_t t = 0; t < n_trees; ++t) {
      const auto root = static_cast<std::int32_t>(trees.offsets.data[t] - first);
      for (std::int64_t i = begin; i < end; i += kLanes) {
        const int lanes = static_cast<int>(std::min<std::int64_t>(kLanes, end - i));
        walk_lanes(packed.nodes.data(), root, packed.depth[static_cast<std::size_t>(t)], x, i,
                   lanes, leaf);
        for (int l = 0; l < lanes; ++l) {
          const double* value = trees.values.data + (first + leaf[l]) * v;
          for (std::int64_t c = 0; c < v; ++c) out(i + l, c) += value[c];
        }
      }
    }
    const double scale = n_trees > 0 ? 1.0 / static_cast<double>(n_trees) : 0.0;
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t c = 0; c < v; ++c) out(i, c) *= scale;
  });
}

void Backend::forest_apply(MatrixView<const float> x, const ForestTrees& trees,
                           MatrixView<std::int32_t> leaves) {
  constexpr const char* kName = "forest_apply";
  require_host(*this, x.device, kName);
  require_host(*this, leaves.device, kName);
  const std::int64_t n_trees = trees.n_trees();
  if (leaves.rows != x.rows || leaves.cols != n_trees)
    throw Error("forest_apply: leaves must be " + std::to_string(x.rows) + " x " +
                std::to_string(n_trees));
  const PackedForest packed = pack(trees);
  const std::int64_t first = trees.offsets.data[0];
  parallel_blocks(x.rows, kPredictBlockRows, [&](std::int64_t begin, std::int64_t end) {
    std::int32_t leaf[kLanes];
    for (std::int64_t t = 0; t < n_trees; ++t) {
      const std::int64_t base = trees.offsets.data[t] - first;
      for (std::int64_t i = begin; i < end; i += kLanes) {
        const int lanes = static_cast<int>(std::min<std::int64_t>(kLanes, end - i));
        walk_lanes(packed.nodes.data(), static_cast<std::int32_t>(base),
                   packed.depth[static_cast<std::size_t>(t)], x, i, lanes, leaf);
        for (int l = 0; l < lanes; ++l)
          leaves(i + l, t) = static_cast<std::int32_t>(leaf[l] - base);
      }
    }
  });
}

}  // namespace tabula

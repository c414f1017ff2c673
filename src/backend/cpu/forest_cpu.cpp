// The CPU backend's histogram-forest ops (ForestOps), the reference the other backends are
// tested against. Work is split into independent tasks that each own
// their output, and every sum is an integer, so results do not depend on the thread count.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/cpu/category_walk.hpp"
#include "backend/cpu/cpu_backend.hpp"
#include "backend/forest_channels.hpp"
#include "backend/forest_math.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

// Rows per histogram task: large nodes are cut into blocks so the top of a tree keeps every
// thread busy; the blocks' integer histograms are then added in block order.
constexpr std::int64_t kHistBlockRows = 32768;
// How far ahead the histogram and partition passes prefetch a scattered row's code and
// channels (their loop bodies are cheap, so far ahead): 128 rows, against 32 before, took
// 1M x 28 (20 trees) from 2.72 to 2.38 s (medians of 4 alternated runs; 64 and 256 did less
// well).
constexpr std::int64_t kPrefetchColumn = 128;
// Rows per bin of a node from which a feature-major histogram alternates its rows between two
// histograms (add_rows): below, adding the second one in costs more than the waits it saves.
constexpr std::int64_t kAlternateRowsPerBin = 4;

void require_host(const Backend& backend, Device device, const char* primitive) {
  if (!device.is_cpu())
    throw DeviceError(std::string(primitive) + ": the " + backend.device().to_string() +
                      " backend got memory on " + device.to_string());
}

template <typename T>
void require_size(const VectorView<T>& v, std::int64_t size, const char* primitive,
                  const char* what) {
  if (v.size < size)
    throw Error(std::string(primitive) + ": " + what + " has " + std::to_string(v.size) +
                " entries, needs " + std::to_string(size));
}

// ---- Traversal ------------------------------------------------------------------------------
// The trees are re-laid out for the walk when a primitive is called (the model's arrays, the
// artifact and the CUDA kernel keep the plain layout): each tree breadth-first, so its top levels
// share a few cache lines; the two children of a node side by side, right then left; one compact
// node per visit. Rows are copied per block into a scratch buffer of 2d floats per row: the
// features as given, then the same features with NaN replaced by -inf. A node whose missing
// values go left reads the second copy (its `slot` is feature + d), where NaN compares as
// -inf <= threshold, i.e. goes left; the first copy's NaN fails every <= test and goes right.
// A step is then one comparison with no missing-value test:
//   pos = child + (row[slot] <= threshold)
// Leaves have threshold NaN (the test is always false) and child = themselves, so a walk takes
// a fixed number of steps, the tree's depth, without testing for leaves.
// Rows walked together through a tree: independent chains of loads that overlap.
constexpr int kLanes = 16;

template <typename Index>
struct WalkNode {
  float threshold;
  Index slot;   // (feature, + d when missing values go left) x kLanes: see fill_rows
  Index child;  // the (right, left) pair, relative to the tree's first node; a leaf: itself
};
static_assert(sizeof(WalkNode<std::uint16_t>) == 8);

template <typename Index>
struct WalkForest {
  std::vector<WalkNode<Index>> nodes;
  std::vector<std::int64_t> first;    // per tree: its first node in `nodes`
  std::vector<int> depth;             // per tree: edges on the longest root-to-leaf path
  std::vector<std::int32_t> node_id;  // per node: its index in the caller's tree (for apply)
  std::vector<double> values;         // per node: value_size values (for predict)
};

// Lays out `t` for rows of d features, leaf values and caller node ids in walk order.
template <typename Index>
WalkForest<Index> lay_out(const ForestTrees& t, std::int64_t d) {
  const std::int64_t origin = t.offsets.data[0];
  const std::int64_t total = t.offsets.data[t.n_trees()] - origin;
  const std::int64_t v = t.value_size;
  WalkForest<Index> w;
  w.nodes.resize(static_cast<std::size_t>(total));
  w.node_id.resize(static_cast<std::size_t>(total));
  w.values.resize(static_cast<std::size_t>(total * v));
  w.first.resize(static_cast<std::size_t>(t.n_trees()));
  w.depth.assign(static_cast<std::size_t>(t.n_trees()), 0);
  std::vector<int> level;
  for (std::int64_t tree = 0; tree < t.n_trees(); ++tree) {
    const std::int64_t base = t.offsets.data[tree];
    const std::int64_t first = base - origin;
    const std::int64_t size = t.offsets.data[tree + 1] - base;
    w.first[static_cast<std::size_t>(tree)] = first;
    // Breadth-first: position p holds caller node node_id[first + p]; `next` is the next free
    // position, handed out in pairs.
    WalkNode<Index>* out = w.nodes.data() + first;
    std::int32_t* id = w.node_id.data() + first;
    level.assign(static_cast<std::size_t>(size), 0);
    id[0] = 0;
    std::int64_t next = 1;
    for (std::int64_t p = 0; p < size; ++p) {
      if (p >= next)
        throw Error("forest traversal: tree " + std::to_string(tree) + " has unreachable nodes");
      const std::int64_t g = base + id[p];
      const std::int32_t f = t.feature.data[g];
      std::copy_n(t.values.data + g * v, v, w.values.data() + (first + p) * v);
      w.depth[static_cast<std::size_t>(tree)] =
          std::max(w.depth[static_cast<std::size_t>(tree)], level[static_cast<std::size_t>(p)]);
      if (f < 0) {
        out[p] = {std::numeric_limits<float>::quiet_NaN(), 0, static_cast<Index>(p)};
        continue;
      }
      const float threshold = t.threshold.data[g];
      const std::int32_t right = t.right.data[g], left = t.left.data[g];
      if (f >= d || std::isnan(threshold) || next + 2 > size || left <= 0 || left >= size ||
          right <= 0 || right >= size)
        throw Error("forest traversal: tree " + std::to_string(tree) + " node " +
                    std::to_string(g - base) + " is malformed (feature " + std::to_string(f) +
                    " of " + std::to_string(d) + ")");
      const bool missing_left = t.missing_left.data[g] != 0;
      out[p] = {threshold, static_cast<Index>((f + (missing_left ? d : 0)) * kLanes),
                static_cast<Index>(next)};
      id[next] = right;
      id[next + 1] = left;
      level[static_cast<std::size_t>(next)] = level[static_cast<std::size_t>(next + 1)] =
          level[static_cast<std::size_t>(p)] + 1;
      next += 2;
    }
  }
  return w;
}

// True when every tree and every slot index fits in 16 bits (8-byte nodes).
bool fits_short_nodes(const ForestTrees& t, std::int64_t d) {
  if (2 * d * kLanes > 65536) return false;
  for (std::int64_t tree = 0; tree < t.n_trees(); ++tree)
    if (t.offsets.data[tree + 1] - t.offsets.data[tree] > 65536) return false;
  return true;
}

// The layout of one forest for rows of d features, in one of the two node sizes; kept in
// ForestTrees::cache between calls.
struct PreparedWalk {
  std::int64_t d = 0, n_trees = 0, first = 0, nodes = 0;
  const std::int32_t* feature = nullptr;  // identity of the arrays it was built from
  bool short_nodes = true;
  WalkForest<std::uint16_t> short_forest;
  WalkForest<std::uint32_t> long_forest;

  bool matches(const ForestTrees& t, std::int64_t cols) const {
    return d == cols && n_trees == t.n_trees() && first == t.offsets.data[0] &&
           nodes == t.offsets.data[t.n_trees()] - t.offsets.data[0] && feature == t.feature.data;
  }
};
constexpr std::uint64_t kPreparedWalkKey = 0x7461627577616c6bULL;  // "tabuwalk"

std::shared_ptr<const PreparedWalk> prepare(const ForestTrees& t, std::int64_t d) {
  if (t.cache != nullptr) {
    auto entry = std::static_pointer_cast<const PreparedWalk>(t.cache->find(kPreparedWalkKey));
    if (entry && entry->matches(t, d)) return entry;
  }
  auto walk = std::make_shared<PreparedWalk>();
  walk->d = d;
  walk->n_trees = t.n_trees();
  walk->first = t.offsets.data[0];
  walk->nodes = t.offsets.data[t.n_trees()] - t.offsets.data[0];
  walk->feature = t.feature.data;
  walk->short_nodes = fits_short_nodes(t, d);
  if (walk->short_nodes)
    walk->short_forest = lay_out<std::uint16_t>(t, d);
  else
    walk->long_forest = lay_out<std::uint32_t>(t, d);
  if (t.cache != nullptr) t.cache->store(kPreparedWalkKey, walk);
  return walk;
}

// Rows i .. i + count of x into buf, by lane group: group g holds rows g * kLanes .. as
// 2d slots x kLanes floats, slot j < d = feature j, slot d + j = feature j with NaN as -inf. A
// node's slot (premultiplied by kLanes) plus the lane is then the address, with no per-lane
// row pointer. Rows past `count` up to `padded` (a multiple of kLanes) are zeros.
void fill_rows(MatrixView<const float> x, std::int64_t i, std::int64_t count, std::int64_t padded,
               float* buf) {
  const std::int64_t d = x.cols;
  constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
  std::fill(buf, buf + padded * 2 * d, 0.0f);
  for (std::int64_t r = 0; r < count; ++r) {
    float* group = buf + (r / kLanes) * kLanes * 2 * d + r % kLanes;
    for (std::int64_t j = 0; j < d; ++j) {
      const float v = x(i + r, j);
      group[j * kLanes] = v;
      group[(d + j) * kLanes] = v != v ? kMinusInf : v;
    }
  }
}

// Walks the kLanes rows of one lane group of the block buffer through one tree for `depth`
// steps; pos[l] gets each row's leaf (position within the tree).
template <typename Index>
inline void walk_lanes(const WalkNode<Index>* tree, int depth, const float* group,
                       std::uint32_t* pos) {
  std::uint32_t at[kLanes];
  for (int l = 0; l < kLanes; ++l) at[l] = 0;
  for (int s = 0; s < depth; ++s) {
    for (int l = 0; l < kLanes; ++l) {
      const WalkNode<Index> n = tree[at[l]];
      at[l] = n.child + (group[n.slot + l] <= n.threshold ? 1u : 0u);
    }
  }
  for (int l = 0; l < kLanes; ++l) pos[l] = at[l];
}

// Rows per block: the block's scratch rows (2d floats each) and sums stay in L2 while each tree
// is walked by all of them, so a tree's nodes are fetched once per block.
constexpr std::int64_t kWalkBlockRows = 2048;

template <typename Index>
void predict_rows(MatrixView<const float> x, const WalkForest<Index>& w, std::int64_t v,
                  MatrixView<double> out) {
  const std::int64_t d = x.cols;
  const auto n_trees = static_cast<std::int64_t>(w.first.size());
  const double scale = n_trees > 0 ? 1.0 / static_cast<double>(n_trees) : 0.0;
  parallel_blocks(x.rows, kWalkBlockRows, [&](std::int64_t begin, std::int64_t end) {
    const std::int64_t count = end - begin;
    const std::int64_t padded = (count + kLanes - 1) / kLanes * kLanes;
    std::vector<float> buf(static_cast<std::size_t>(padded * 2 * d));
    fill_rows(x, begin, count, padded, buf.data());
    // Sums in tree order per row, then one multiplication: the same arithmetic as a plain
    // loop over trees, so results do not depend on the blocking.
    std::vector<double> sum(static_cast<std::size_t>(padded * v), 0.0);
    std::uint32_t pos[kLanes];
    for (std::int64_t t = 0; t < n_trees; ++t) {
      const std::int64_t first = w.first[static_cast<std::size_t>(t)];
      const WalkNode<Index>* tree = w.nodes.data() + first;
      const double* values = w.values.data() + first * v;
      const int depth = w.depth[static_cast<std::size_t>(t)];
      for (std::int64_t r = 0; r < padded; r += kLanes) {
        walk_lanes(tree, depth, buf.data() + r * 2 * d, pos);
        double* s = sum.data() + r * v;
        if (v == 2) {
          for (int l = 0; l < kLanes; ++l) {
            s[2 * l] += values[2 * pos[l]];
            s[2 * l + 1] += values[2 * pos[l] + 1];
          }
        } else {
          for (int l = 0; l < kLanes; ++l)
            for (std::int64_t c = 0; c < v; ++c) s[l * v + c] += values[pos[l] * v + c];
        }
      }
    }
    for (std::int64_t r = 0; r < count; ++r)
      for (std::int64_t c = 0; c < v; ++c)
        out(begin + r, c) = sum[static_cast<std::size_t>(r * v + c)] * scale;
  });
}

template <typename Index>
void apply_rows(MatrixView<const float> x, const WalkForest<Index>& w,
                MatrixView<std::int32_t> leaves) {
  const std::int64_t d = x.cols;
  const auto n_trees = static_cast<std::int64_t>(w.first.size());
  parallel_blocks(x.rows, kWalkBlockRows, [&](std::int64_t begin, std::int64_t end) {
    const std::int64_t count = end - begin;
    const std::int64_t padded = (count + kLanes - 1) / kLanes * kLanes;
    std::vector<float> buf(static_cast<std::size_t>(padded * 2 * d));
    fill_rows(x, begin, count, padded, buf.data());
    std::uint32_t pos[kLanes];
    for (std::int64_t t = 0; t < n_trees; ++t) {
      const std::int64_t first = w.first[static_cast<std::size_t>(t)];
      const std::int32_t* id = w.node_id.data() + first;
      for (std::int64_t r = 0; r < padded; r += kLanes) {
        walk_lanes(w.nodes.data() + first, w.depth[static_cast<std::size_t>(t)],
                   buf.data() + r * 2 * d, pos);
        const int lanes = static_cast<int>(std::min<std::int64_t>(kLanes, count - r));
        for (int l = 0; l < lanes; ++l) leaves(begin + r + l, t) = id[pos[l]];
      }
    }
  });
}

}  // namespace

void cpu::CpuBackend::bin(MatrixView<const float> x, VectorView<const float> edges,
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
  // Blocks of rows, feature by feature within a block: a feature's 1 KB of edges stays in L1
  // for the block's rows (whose searches are independent, so they overlap), where row by row
  // every feature's table is reloaded (wide data: 784 tables, 784 KB, more than L2).
  constexpr std::int64_t kRowBlock = 64;
  // Searches run kLockstep at a time: pixels (20,000 x 784), one tree, one thread: 0.52 ->
  // 0.43 s; 1M x 28, 5 trees: 0.73 -> 0.64 s (16 lanes did no better).
  constexpr int kLockstep = 8;
  parallel_blocks(x.rows, 16384, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; b += kRowBlock) {
      const std::int64_t block_end = std::min(end, b + kRowBlock);
      for (std::int64_t j = 0; j < x.cols; ++j) {
        const float* e = padded.data() + j * kPadded;
        // Rows i .. last (at most kLockstep) searched step by step side by side: independent
        // chains the core overlaps (lanes past `last` repeat it and are not written).
        const auto search = [&](std::int64_t i, std::int64_t last) {
          float v[kLockstep];
          std::int32_t pos[kLockstep] = {};
          for (int l = 0; l < kLockstep; ++l) v[l] = x(std::min(i + l, last), j);
          for (std::int32_t step = 128; step > 0; step >>= 1)
            for (int l = 0; l < kLockstep; ++l) pos[l] += e[pos[l] + step - 1] < v[l] ? step : 0;
          for (int l = 0; l < kLockstep && i + l <= last; ++l)
            codes(i + l, j) =
                std::isnan(v[l]) ? std::uint8_t{0} : static_cast<std::uint8_t>(1 + pos[l]);
        };
        std::int64_t i = b;
        for (; i + kLockstep <= block_end; i += kLockstep) search(i, i + kLockstep - 1);
        if (i < block_end) search(i, block_end - 1);
      }
    }
  });
}

namespace {

// Histogram of rows row_ids[begin .. end) over the m features `feats` into out (zeroed). The
// rows' channels are gathered once into scratch (in row order, read sequentially after).
// Feature-major codes are read one feature at a time, so a node's ascending rows read each
// column in address order; row-major codes one row at a time, its m codes from one line when
// the row is short. Rows are scattered in deep nodes: codes are prefetched ahead.
// batch.ordered_channels, when set: one row of k channels per entry of the row index array.
void check_ordered_channels(const ForestBatch& batch, std::int64_t rows, std::int64_t k,
                            const char* primitive) {
  const MatrixView<std::int64_t>& o = batch.ordered_channels;
  if (o.data == nullptr) return;
  if (o.rows != rows || o.cols != k || k <= 0 || o.layout != Layout::kRowMajor || !o.contiguous())
    throw Error(std::string(primitive) + ": ordered channels must be dense row-major " +
                std::to_string(rows) + " x " + std::to_string(k));
}

// batch.ordered_codes, when set: one row of d codes per entry of the row index array, with a
// stride of 16, 32 or 64 (what copy_code_row moves).
void check_ordered_codes(const ForestBatch& batch, std::int64_t rows, std::int64_t d,
                         const char* primitive) {
  const MatrixView<std::uint8_t>& o = batch.ordered_codes;
  if (o.data == nullptr) return;
  if (o.rows != rows || o.cols != d || o.layout != Layout::kRowMajor ||
      (o.stride != 16 && o.stride != 32 && o.stride != 64) || o.stride < d)
    throw Error(std::string(primitive) + ": ordered codes must be row-major " +
                std::to_string(rows) + " x " + std::to_string(d) +
                " with a stride of 16, 32 or 64");
}

// batch.left_rows, when set: a count within 0 .. rows of each node.
void check_left_rows(const ForestBatch& batch) {
  if (batch.left_rows.data == nullptr) return;
  require_size(batch.left_rows, batch.nodes, "forest_partition", "left_rows");
  for (std::int64_t nd = 0; nd < batch.nodes; ++nd) {
    const std::int64_t rows = batch.end.data[nd] - batch.begin.data[nd];
    if (batch.left_rows.data[nd] < 0 || batch.left_rows.data[nd] > rows)
      throw Error("forest_partition: left_rows of node " + std::to_string(nd) + " is " +
                  std::to_string(batch.left_rows.data[nd]) + ", outside 0 .. its " +
                  std::to_string(rows) + " rows");
  }
}

// Ordered rows are added a group of features at a time, kFeatureGroup, the last group taking
// up to kFeatureGroup - 1 more (m = 5: one group, not 4 + 1): the group's columns and histogram
// pointers sit in registers and its adds are unrolled, about 6 instructions an add against 11
// for a loop over the features (1M x 28, 150 iterations, 2 threads: the histograms' CPU time
// -30%). The rows are passed over once per group in runs of kRowsPerPass, which stay in L2
// (48 bytes a row on 1M x 28) between the groups' passes.
constexpr int kFeatureGroup = 4;
constexpr std::int64_t kRowsPerPass = 4096;

// Adds rows [0, count) (codes at `row`, `stride` apart; kChannels channels each in g) to the
// histograms of features columns[0 .. kGroup), hist[j] being column j's histogram.
template <int kChannels, int kGroup>
void add_feature_group(const std::uint8_t* row, std::int64_t stride, std::int64_t count,
                       const std::int64_t* g, const std::int32_t* columns,
                       std::int64_t* const* hist) {
  std::int32_t column[kGroup];
  std::int64_t* h[kGroup];
  for (int j = 0; j < kGroup; ++j) {
    column[j] = columns[j];
    h[j] = hist[j];
  }
  for (std::int64_t r = 0; r < count; ++r, row += stride) {
    std::int64_t own[kChannels];  // the row's channels, read once for the group
    forest::copy_channels(own, g + r * kChannels, kChannels);
#pragma GCC unroll 8
    for (int j = 0; j < kGroup; ++j)
      forest::add_channels(h[j] + std::int64_t{row[column[j]]} * kChannels, own, kChannels);
  }
}

// add_feature_group for a run-time group of 1 .. 2 kFeatureGroup - 1 features: the instances
// in a table indexed by the group's size less one.
template <int kChannels, std::size_t... kSizeLessOne>
constexpr auto feature_group_table(std::index_sequence<kSizeLessOne...>) {
  using Add = void (*)(const std::uint8_t*, std::int64_t, std::int64_t, const std::int64_t*,
                       const std::int32_t*, std::int64_t* const*);
  return std::array<Add, sizeof...(kSizeLessOne)>{
      &add_feature_group<kChannels, static_cast<int>(kSizeLessOne) + 1>...};
}

template <int kChannels>
void add_feature_group(std::int64_t group, const std::uint8_t* row, std::int64_t stride,
                       std::int64_t count, const std::int64_t* g, const std::int32_t* columns,
                       std::int64_t* const* hist) {
  static constexpr auto kTable =
      feature_group_table<kChannels>(std::make_index_sequence<2 * kFeatureGroup - 1>{});
  kTable[static_cast<std::size_t>(group - 1)](row, stride, count, g, columns, hist);
}

// The histogram of ordered rows begin .. end: codes (ordered_codes' rows) and channels g read
// in order, a row's m codes from its one or two lines.
// kChannels: the channel count when it is known at compile time (the common two and three:
// features in unrolled groups, add_feature_group), 0 when it is shape.channels.
template <int kChannels>
void add_ordered_rows(const MatrixView<std::uint8_t>& codes, std::int64_t begin, std::int64_t end,
                      const std::int64_t* g, const std::int32_t* feats, std::int64_t m,
                      ForestHistShape shape, std::int64_t* out) {
  const std::int64_t k = kChannels > 0 ? kChannels : shape.channels;
  if constexpr (kChannels == 0) {
    const std::uint8_t* row = codes.data + begin * codes.stride;
    for (std::int64_t r = 0; r < end - begin; ++r, row += codes.stride)
      for (std::int64_t f = 0; f < m; ++f)
        forest::add_channels(out + (f * shape.bins + row[feats[f]]) * k, g + r * k, k);
  } else {
    std::int64_t* hist[2 * kFeatureGroup - 1];
    for (std::int64_t first = begin; first < end; first += kRowsPerPass) {
      const std::int64_t count = std::min(kRowsPerPass, end - first);
      const std::uint8_t* rows = codes.data + first * codes.stride;
      const std::int64_t* channels = g + (first - begin) * k;
      for (std::int64_t f = 0; f < m;) {
        // Groups of four; the last takes up to three more (m = 5: one pass of five, not 4 + 1).
        const std::int64_t group = m - f < 2 * kFeatureGroup ? m - f : kFeatureGroup;
        for (std::int64_t j = 0; j < group; ++j) hist[j] = out + (f + j) * shape.bins * k;
        add_feature_group<kChannels>(group, rows, codes.stride, count, channels, feats + f, hist);
        f += group;
      }
    }
  }
}

void add_ordered_rows(const MatrixView<std::uint8_t>& codes, std::int64_t begin, std::int64_t end,
                      const std::int64_t* g, const std::int32_t* feats, std::int64_t m,
                      ForestHistShape shape, std::int64_t* out) {
  if (shape.channels == 2)
    add_ordered_rows<2>(codes, begin, end, g, feats, m, shape, out);
  else if (shape.channels == 3)
    add_ordered_rows<3>(codes, begin, end, g, feats, m, shape, out);
  else
    add_ordered_rows<0>(codes, begin, end, g, feats, m, shape, out);
}

// ordered: the rows' channels by position (ForestBatch::ordered_channels), or null to gather
// them from `channels` by row id. ordered_codes likewise (ForestBatch::ordered_codes), or empty
// to read `codes` by row id.
void add_rows(MatrixView<const std::uint8_t> codes, const MatrixView<std::uint8_t>& ordered_codes,
              const std::int32_t* row_ids, std::int64_t begin, std::int64_t end,
              const std::int64_t* channels, const std::int64_t* ordered, const std::int32_t* feats,
              std::int64_t m, ForestHistShape shape, std::int64_t* out) {
  const std::int64_t k = shape.channels;
  const std::int64_t count = end - begin;
  const std::int32_t* ids = row_ids + begin;
  const std::int64_t* g = ordered ? ordered + begin * k : nullptr;
  if (g == nullptr) {
    thread_local std::vector<std::int64_t> gathered;
    gathered.resize(static_cast<std::size_t>(count * k));
    for (std::int64_t r = 0; r < count; ++r) {
      if (r + kPrefetchColumn < count) {  // a row's channels may straddle two lines
        const std::int64_t* later = channels + std::int64_t{ids[r + kPrefetchColumn]} * k;
        __builtin_prefetch(later);
        __builtin_prefetch(later + k - 1);
      }
      forest::copy_channels(gathered.data() + r * k, channels + std::int64_t{ids[r]} * k, k);
    }
    g = gathered.data();
  }
  if (ordered_codes.data != nullptr) {
    add_ordered_rows(ordered_codes, begin, end, g, feats, m, shape, out);
    return;
  }
  const std::int64_t ahead = std::max<std::int64_t>(0, count - kPrefetchColumn);
  if (codes.layout == Layout::kColMajor) {
    // Nodes of many rows per bin alternate their rows between the feature's histogram and a
    // second one added in at the end: rows in one bin (a pixel at 0 in most rows) otherwise
    // wait on each other's adds, each add's load on the store before it (pixels, 20,000 x 784:
    // 40% of this loop's samples on the add of the loaded bin and its store).
    thread_local std::vector<std::int64_t> odd_rows;
    const bool alternate = count >= kAlternateRowsPerBin * shape.bins;
    if (alternate) odd_rows.resize(static_cast<std::size_t>(shape.bins * k));
    for (std::int64_t f = 0; f < m; ++f) {
      const std::uint8_t* column = codes.data + std::int64_t{feats[f]} * codes.stride;
      std::int64_t* h = out + f * shape.bins * k;
      for (std::int64_t r = 0; r < std::min(count, kPrefetchColumn); ++r)
        __builtin_prefetch(column + ids[r]);
      std::int64_t r = 0;
      if (alternate) {
        std::int64_t* odd = odd_rows.data();
        std::fill(odd_rows.begin(), odd_rows.end(), 0);
        for (; r + 1 < count; r += 2) {
          if (r + 1 < ahead) {
            __builtin_prefetch(column + ids[r + kPrefetchColumn]);
            __builtin_prefetch(column + ids[r + 1 + kPrefetchColumn]);
          }
          forest::add_channels(h + std::int64_t{column[ids[r]]} * k, g + r * k, k);
          forest::add_channels(odd + std::int64_t{column[ids[r + 1]]} * k, g + (r + 1) * k, k);
        }
        for (std::int64_t i = 0; i < shape.bins * k; ++i) h[i] += odd[i];
      }
      for (; r < count; ++r) {
        if (r < ahead) __builtin_prefetch(column + ids[r + kPrefetchColumn]);
        forest::add_channels(h + std::int64_t{column[ids[r]]} * k, g + r * k, k);
      }
    }
    return;
  }
  for (std::int64_t r = 0; r < std::min(count, kPrefetchColumn); ++r)
    __builtin_prefetch(codes.data + std::int64_t{ids[r]} * codes.stride);
  for (std::int64_t r = 0; r < count; ++r) {
    if (r < ahead)
      __builtin_prefetch(codes.data + std::int64_t{ids[r + kPrefetchColumn]} * codes.stride);
    const std::uint8_t* code = codes.data + std::int64_t{ids[r]} * codes.stride;
    for (std::int64_t f = 0; f < m; ++f)
      forest::add_channels(out + (f * shape.bins + code[feats[f]]) * k, g + r * k, k);
  }
}

}  // namespace

// long: the checks, the task plan (node blocks of kHistBlockRows) and the integer reduction in
// block order that makes the sums thread-count independent; one plan, read in one place.
void cpu::CpuBackend::histograms(MatrixView<const std::uint8_t> codes,
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
  check_ordered_channels(batch, rows.size, k, kName);
  check_ordered_codes(batch, rows.size, codes.cols, kName);

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
  // Kept by the calling thread between calls (boosting builds a root of many blocks per tree);
  // every task zeroes what it writes.
  thread_local std::vector<std::int64_t> block_scratch;
  if (static_cast<std::int64_t>(block_scratch.size()) < scratch_slots * slot)
    block_scratch.resize(static_cast<std::size_t>(scratch_slots * slot));
  std::int64_t* scratch = block_scratch.data();
  // Too few tasks to keep the threads busy (one small node: leaf-wise boosting): each task's
  // features are also cut into groups, which write disjoint parts of the same slot.
  const auto n_tasks = static_cast<std::int64_t>(tasks.size());
  const std::int64_t wanted = 2 * std::int64_t{thread_count()};
  const std::int64_t groups =
      parallel_available() && n_tasks < wanted ? std::min(m, (wanted + n_tasks - 1) / n_tasks) : 1;
  parallel_for(n_tasks * groups, [&](std::int64_t job) {
    const Task& task = tasks[static_cast<std::size_t>(job / groups)];
    const std::int64_t group = job % groups;
    const std::int64_t first = group * m / groups, last = (group + 1) * m / groups;
    std::int64_t* out =
        (task.scratch < 0 ? hist.data + task.node * slot : scratch + task.scratch * slot) +
        first * shape.bins * k;
    std::memset(out, 0,
                static_cast<std::size_t>((last - first) * shape.bins * k) * sizeof(std::int64_t));
    const std::int32_t* feats = batch.features.data + task.node * m + first;
    add_rows(codes, batch.ordered_codes, rows.data, task.begin, task.end, channels.data,
             batch.ordered_channels.data, feats, last - first, shape, out);
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

void cpu::CpuBackend::hist_subtract(VectorView<const std::int64_t> parent_hist,
                                    VectorView<const std::int32_t> parent,
                                    VectorView<const std::int32_t> child,
                                    VectorView<const std::int32_t> dst, std::int64_t slot_size,
                                    VectorView<std::int64_t> hist) {
  constexpr const char* kName = "forest_hist_subtract";
  require_host(*this, parent_hist.device, kName);
  require_host(*this, hist.device, kName);
  if (parent.size != child.size || parent.size != dst.size)
    throw Error("forest_hist_subtract: parent, child and dst must have equal sizes");
  // Slots cut into chunks: leaf-wise boosting subtracts one node's slot at a time.
  constexpr std::int64_t kChunk = 8192;
  const std::int64_t chunks = std::max<std::int64_t>(1, (slot_size + kChunk - 1) / kChunk);
  parallel_for(parent.size * chunks, [&](std::int64_t job) {
    const std::int64_t i = job / chunks;
    const std::int64_t lo = (job % chunks) * kChunk, hi = std::min(slot_size, lo + kChunk);
    const std::int64_t* p = parent_hist.data + parent.data[i] * slot_size;
    const std::int64_t* c = hist.data + child.data[i] * slot_size;
    std::int64_t* out = hist.data + dst.data[i] * slot_size;
    for (std::int64_t v = lo; v < hi; ++v) out[v] = p[v] - c[v];
  });
}

void cpu::CpuBackend::best_splits(VectorView<const std::int64_t> hist, const ForestBatch& batch,
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
    const double parent_g = forest::weighted_impurity(total, k, rule.criterion);
    std::vector<std::int64_t> scratch(static_cast<std::size_t>(2 * k));
    forest::FeatureSplit best{0.0, 0, 0, false};
    std::int64_t best_f = -1;
    for (std::int64_t f = 0; f < m; ++f) {
      const std::int32_t feature = batch.features.data[nd * m + f];
      const bool before = best.found;
      const double before_gain = best.gain;
      forest::scan_feature(node_hist + f * shape.bins * k, total, k, n_bins.data[feature], rule,
                           parent_g, scratch.data(), scratch.data() + k, best);
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

namespace {

// Rows per partition task: a large node is cut into blocks partitioned side by side, so the
// top of a tree (one node at a time in leaf-wise boosting) keeps every thread busy.
constexpr std::int64_t kPartitionBlockRows = 32768;
// Nodes of at most this many rows, partitioned in place whole, move each row once into a
// scratch copy (in L1/L2 at this size) and copy it back; larger ones compact the left rows in
// place and move the right ones through a buffer (the scratch round trip measured slower on
// 1M x 28's large nodes).
constexpr std::int64_t kMoveOnceRows = 1024;

// What moves with a row when a node is partitioned: its id, and its ordered channels (k values)
// and ordered codes (kStride bytes) when the batch keeps them.
template <int kStride>
struct RowArrays {
  std::int32_t* ids;
  std::int64_t* channels;  // null: none
  std::uint8_t* codes;     // null: none
  std::int64_t k;

  void move(const RowArrays& to, std::int64_t to_pos, std::int64_t from_pos) const {
    to.ids[to_pos] = ids[from_pos];
    if (channels) forest::copy_channels(to.channels + to_pos * k, channels + from_pos * k, k);
    if (codes)
      forest::copy_code_row<kStride>(to.codes + to_pos * kStride, codes + from_pos * kStride);
  }

  // Rows p and q trade places.
  void swap(std::int64_t p, std::int64_t q) const {
    std::swap(ids[p], ids[q]);
    if (channels)
      for (std::int64_t c = 0; c < k; ++c) std::swap(channels[p * k + c], channels[q * k + c]);
    if (codes) {
      std::uint8_t row[kStride];
      forest::copy_code_row<kStride>(row, codes + p * kStride);
      forest::copy_code_row<kStride>(codes + p * kStride, codes + q * kStride);
      forest::copy_code_row<kStride>(codes + q * kStride, row);
    }
  }

  // Rows 0 .. n-1 to positions to_pos .. to_pos + n - 1 of `to`, array by array.
  void copy_run(const RowArrays& to, std::int64_t to_pos, std::int64_t n) const {
    std::copy_n(ids, n, to.ids + to_pos);
    if (channels) std::copy_n(channels, n * k, to.channels + to_pos * k);
    if (codes) std::copy_n(codes, n * kStride, to.codes + to_pos * kStride);
  }
};

// Growable arrays for moved rows, kept by a thread between calls.
template <int kStride>
struct RowScratch {
  std::vector<std::int32_t> ids;
  std::vector<std::int64_t> channels;
  std::vector<std::uint8_t> codes;

  // Arrays for n rows of `like`'s kind.
  RowArrays<kStride> arrays_for(const RowArrays<kStride>& like, std::int64_t n) {
    const auto grow = [](auto& v, std::int64_t size) {
      if (static_cast<std::int64_t>(v.size()) < size) v.resize(static_cast<std::size_t>(size));
    };
    grow(ids, n);
    if (like.channels) grow(channels, n * like.k);
    if (like.codes) grow(codes, n * kStride);
    return {ids.data(), like.channels ? channels.data() : nullptr,
            like.codes ? codes.data() : nullptr, like.k};
  }
};

// Rows per piece of the misplaced-row search, and row pairs per swap task.
constexpr std::int64_t kSwapPieceRows = 16384;
constexpr std::int64_t kSwapTaskPairs = 16384;
// How far ahead the swap pass prefetches the rows it will trade.
constexpr std::int64_t kPrefetchPairs = 8;

// Positions begin .. end of one side of a node, and how many of its rows belong on the other
// side (listed from position begin on in the misplaced-row array).
struct SwapPiece {
  std::int64_t node, begin, end;
  bool left_side;
  std::int64_t misplaced = 0;
};

// One side of a node: its pieces in position order and the misplaced rows before each.
struct SwapSide {
  std::vector<const SwapPiece*> pieces;
  std::vector<std::int64_t> before;

  std::int64_t total() const {
    return pieces.empty() ? 0 : before.back() + pieces.back()->misplaced;
  }
};

// Walks a side's misplaced rows from the q-th on: next() gives each one's position.
class MisplacedCursor {
 public:
  MisplacedCursor(const SwapSide& side, std::int64_t q, const std::int32_t* at)
      : side_(&side), at_(at) {
    piece_ = static_cast<std::size_t>(std::upper_bound(side.before.begin(), side.before.end(), q) -
                                      side.before.begin() - 1);
    index_ = q - side.before[piece_];
  }
  std::int64_t next() {
    while (index_ == side_->pieces[piece_]->misplaced) {
      ++piece_;
      index_ = 0;
    }
    return at_[side_->pieces[piece_]->begin + index_++];
  }

 private:
  const SwapSide* side_;
  const std::int32_t* at_;
  std::size_t piece_;
  std::int64_t index_;  // within the piece
};

// Trades the misplaced rows first .. last - 1 of a node's left side with those of its right.
template <int kStride>
void trade_misplaced_rows(const RowArrays<kStride>& arrays, const SwapSide& left_side,
                          const SwapSide& right_side, std::int64_t first, std::int64_t last,
                          const std::int32_t* at) {
  MisplacedCursor left(left_side, first, at), right(right_side, first, at);
  MisplacedCursor left_ahead = left, right_ahead = right;
  const auto prefetch = [&](std::int64_t p) {
    if (arrays.codes) __builtin_prefetch(arrays.codes + p * kStride, 1);
    if (arrays.channels) __builtin_prefetch(arrays.channels + p * arrays.k, 1);
  };
  for (std::int64_t q = 0; q < std::min(kPrefetchPairs, last - first); ++q) {
    prefetch(left_ahead.next());
    prefetch(right_ahead.next());
  }
  for (std::int64_t q = first; q < last; ++q) {
    if (q + kPrefetchPairs < last) {
      prefetch(left_ahead.next());
      prefetch(right_ahead.next());
    }
    arrays.swap(left.next(), right.next());
  }
}

// The in-place partition with each node's left count known (ForestBatch::left_rows): a node's
// positions are its left side (its first left_rows) and its right side. Pieces of each side
// list their misplaced rows (going to the other side) by position, in parallel; then the q-th
// misplaced row of the left side trades places with the q-th of the right side, in parallel
// tasks over q. Only misplaced rows move (a quarter of an even split's rows, in random order),
// and each moves once, against every row moved once through a buffer by a stable partition;
// ping-pong arrays (every row moved once into a second set) took 2.3x its CPU time on 1M x 28
// (perf, 100 trees, two threads). goes_left(block)(r): the side of the row at position r of the
// block's node.
template <int kStride, typename Block, typename GoesLeft>
void swap_misplaced_rows(const RowArrays<kStride>& arrays, const ForestBatch& batch,
                         std::int64_t n_rows, const GoesLeft& goes_left) {
  std::vector<SwapPiece> pieces;
  for (std::int64_t nd = 0; nd < batch.nodes; ++nd) {
    const std::int64_t b = batch.begin.data[nd], e = batch.end.data[nd];
    const std::int64_t split = b + batch.left_rows.data[nd];
    for (std::int64_t s = b; s < split; s += kSwapPieceRows)
      pieces.push_back({nd, s, std::min(split, s + kSwapPieceRows), true});
    for (std::int64_t s = split; s < e; s += kSwapPieceRows)
      pieces.push_back({nd, s, std::min(e, s + kSwapPieceRows), false});
  }
  // A piece's misplaced positions, from its first position on (the caller's, kept).
  thread_local std::vector<std::int32_t> misplaced_at;
  if (static_cast<std::int64_t>(misplaced_at.size()) < n_rows)
    misplaced_at.resize(static_cast<std::size_t>(n_rows));
  std::int32_t* const at = misplaced_at.data();
  parallel_for(static_cast<std::int64_t>(pieces.size()), [&](std::int64_t i) {
    SwapPiece& piece = pieces[static_cast<std::size_t>(i)];
    const auto left_of = goes_left(Block{piece.node, piece.begin, piece.end});
    std::int32_t* out = at + piece.begin;
    std::int64_t found = 0;
    for (std::int64_t r = piece.begin; r < piece.end; ++r) {
      out[found] = static_cast<std::int32_t>(r);  // branch-free: kept only when misplaced
      found += left_of(r) != piece.left_side;
    }
    piece.misplaced = found;
  });
  std::vector<SwapSide> sides(static_cast<std::size_t>(2 * batch.nodes));  // node's left, right
  for (const SwapPiece& piece : pieces) {
    SwapSide& side = sides[static_cast<std::size_t>(2 * piece.node + (piece.left_side ? 0 : 1))];
    side.before.push_back(side.total());
    side.pieces.push_back(&piece);
  }
  struct Task {
    std::int64_t node, first, last;  // pairs first .. last - 1
  };
  std::vector<Task> tasks;
  for (std::int64_t nd = 0; nd < batch.nodes; ++nd) {
    const std::int64_t pairs = sides[static_cast<std::size_t>(2 * nd)].total();
    if (pairs != sides[static_cast<std::size_t>(2 * nd + 1)].total())
      throw Error("forest_partition: left_rows of node " + std::to_string(nd) + " (" +
                  std::to_string(batch.left_rows.data[nd]) + ") contradicts the rows' codes");
    for (std::int64_t q = 0; q < pairs; q += kSwapTaskPairs)
      tasks.push_back({nd, q, std::min(pairs, q + kSwapTaskPairs)});
  }
  parallel_for(static_cast<std::int64_t>(tasks.size()), [&](std::int64_t t) {
    const Task& task = tasks[static_cast<std::size_t>(t)];
    trade_misplaced_rows(arrays, sides[static_cast<std::size_t>(2 * task.node)],
                         sides[static_cast<std::size_t>(2 * task.node + 1)], task.first, task.last,
                         at);
  });
}

// forest_partition's body; kStride: batch.ordered_codes' stride when it is set. With
// batch.left_rows, swap_misplaced_rows; otherwise a stable partition: each side keeps its rows'
// order, whatever the blocking or thread count. A large node is cut into blocks partitioned
// side by side when threads are free.
// - A node taken whole: up to kMoveOnceRows rows, each row moved once into a scratch
//   copy of the node at its final place, copied back (nothing when already in order); larger,
//   left rows compacted forwards, right ones through a buffer.
// - A node cut into blocks: each block's rows go to scratch arrays at the block's own
//   positions (left ones from its start, right ones from its end backwards), then every block's
//   two runs are copied to their final places.
// long: the block plan, the three kinds of block pass and the placement of blocks' runs.
template <int kStride>
void partition_rows(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                    const ForestBatch& batch, VectorView<const std::int32_t> feature,
                    VectorView<const std::int32_t> bin,
                    VectorView<const std::uint8_t> missing_left) {
  // A feature's code of row i is column[i * row_step] (row-major or feature-major codes).
  const bool feature_major = codes.layout == Layout::kColMajor;
  const std::int64_t row_step = feature_major ? 1 : codes.stride;
  const std::int64_t feature_step = feature_major ? codes.stride : 1;
  const RowArrays<kStride> arrays{rows.data, batch.ordered_channels.data, batch.ordered_codes.data,
                                  batch.ordered_channels.cols};
  struct Block {
    std::int64_t node, begin, end, left = 0;
    bool whole = false;  // the node's only block
  };
  // goes_left(block)(r): the side of the row at position r of the block's node.
  const auto goes_left = [&](const Block& block) {
    const std::int32_t split_feature = feature.data[block.node];
    const std::uint8_t* column = codes.data + std::int64_t{split_feature} * feature_step;
    const std::int32_t threshold = bin.data[block.node];
    const bool ml = missing_left.data[block.node] != 0;
    // A categorical split: the node's bin set decides instead of the threshold and ml.
    const std::uint8_t* sets = batch.left_bins.data
                                   ? batch.left_bins.data + block.node * kForestCategorySetBytes
                                   : nullptr;
    // By row id from a feature-major column even beside ordered codes: n bytes that stay in
    // cache, against a line per two ordered rows (ForestOps::partition).
    const bool by_id = !arrays.codes || feature_major;
    return [=, &arrays](std::int64_t r) {
      if (r + kPrefetchColumn < block.end && by_id)
        __builtin_prefetch(column + std::int64_t{rows.data[r + kPrefetchColumn]} * row_step);
      const std::uint8_t code = by_id ? column[std::int64_t{rows.data[r]} * row_step]
                                      : arrays.codes[r * kStride + split_feature];
      return sets ? forest::bin_in_set(sets, code) : (code == 0 ? ml : code <= threshold);
    };
  };
  if (batch.left_rows.data != nullptr)
    return swap_misplaced_rows<kStride, Block>(arrays, batch, rows.size, goes_left);
  std::vector<Block> blocks;
  const bool parallel = parallel_available();
  const std::int64_t block_rows = parallel ? kPartitionBlockRows : rows.size + 1;
  bool any_cut = false;
  for (std::int64_t nd = 0; nd < batch.nodes; ++nd) {
    const std::int64_t b = batch.begin.data[nd], e = batch.end.data[nd];
    if (e - b <= block_rows) {
      blocks.push_back({nd, b, e, 0, true});
      continue;
    }
    any_cut = true;
    for (std::int64_t s = b; s < e; s += block_rows)
      blocks.push_back({nd, s, std::min(e, s + block_rows)});
  }
  thread_local RowScratch<kStride> cut_scratch;  // the calling thread's, shared by the tasks
  const RowArrays<kStride> scratch =
      any_cut ? cut_scratch.arrays_for(arrays, rows.size) : RowArrays<kStride>{};
  const auto n_blocks = static_cast<std::int64_t>(blocks.size());
  // Branch-free moves below (the side is a coin flip for the predictor): the destination is
  // selected, or in place every row is written to both sides and only its own side's count
  // advances (w <= r).
  parallel_for(n_blocks, [&](std::int64_t i) {
    Block& block = blocks[static_cast<std::size_t>(i)];
    const auto left_of = goes_left(block);
    if (block.whole && block.end - block.begin <= kMoveOnceRows) {
      // The left rows are counted (a code read per row), then each row moves once, to its
      // final place in a scratch copy of the node, copied back array by array: one scattered
      // row move and one sequential copy per row (both sides were written for every row, and
      // the right rows moved a third time).
      // Nothing moves when no left row follows a right one (one side empty included: half
      // of the two-row nodes).
      const std::int64_t n = block.end - block.begin;
      std::int64_t n_left = 0;
      bool seen_right = false, out_of_place = false;
      for (std::int64_t r = block.begin; r < block.end; ++r) {
        const bool go_left = left_of(r);
        n_left += go_left;
        out_of_place |= seen_right & go_left;
        seen_right |= !go_left;
      }
      if (!out_of_place) return;
      thread_local RowScratch<kStride> node_scratch;
      const RowArrays<kStride> moved = node_scratch.arrays_for(arrays, n);
      std::int64_t left = 0, right = n_left;
      for (std::int64_t r = block.begin; r < block.end; ++r) {
        const bool go_left = left_of(r);
        arrays.move(moved, go_left ? left : right, r);
        left += go_left;
        right += !go_left;
      }
      moved.copy_run(arrays, block.begin, n);
    } else if (block.whole) {
      thread_local RowScratch<kStride> right_scratch;
      const RowArrays<kStride> right = right_scratch.arrays_for(arrays, block.end - block.begin);
      std::int64_t w = block.begin, n_right = 0;
      for (std::int64_t r = block.begin; r < block.end; ++r) {
        const bool go_left = left_of(r);
        arrays.move(arrays, w, r);
        arrays.move(right, n_right, r);
        w += go_left;
        n_right += !go_left;
      }
      for (std::int64_t q = 0; q < n_right; ++q) right.move(arrays, w + q, q);
    } else {
      std::int64_t left = block.begin, right = block.end - 1;
      for (std::int64_t r = block.begin; r < block.end; ++r) {
        const bool go_left = left_of(r);
        arrays.move(scratch, go_left ? left : right, r);
        left += go_left;
        right -= !go_left;
      }
      block.left = left - block.begin;
    }
  });
  if (!any_cut) return;
  // Final places: a node's left rows block by block, then its right rows.
  std::vector<std::int64_t> left_at(blocks.size()), right_at(blocks.size());
  for (std::int64_t i = 0; i < n_blocks;) {
    const std::int64_t node = blocks[static_cast<std::size_t>(i)].node;
    std::int64_t j = i, left = batch.begin.data[node];
    for (; j < n_blocks && blocks[static_cast<std::size_t>(j)].node == node; ++j) {
      left_at[static_cast<std::size_t>(j)] = left;
      left += blocks[static_cast<std::size_t>(j)].left;
    }
    for (std::int64_t right = left; i < j; ++i) {
      const Block& block = blocks[static_cast<std::size_t>(i)];
      right_at[static_cast<std::size_t>(i)] = right;
      right += block.end - block.begin - block.left;
    }
  }
  parallel_for(n_blocks, [&](std::int64_t i) {
    const Block& block = blocks[static_cast<std::size_t>(i)];
    if (block.whole) return;
    const std::int64_t to_left = left_at[static_cast<std::size_t>(i)] - block.begin;
    for (std::int64_t r = block.begin; r < block.begin + block.left; ++r)
      scratch.move(arrays, to_left + r, r);
    // The right run was written backwards from the block's end.
    std::int64_t to = right_at[static_cast<std::size_t>(i)];
    for (std::int64_t r = block.end - 1; r >= block.begin + block.left; --r)
      scratch.move(arrays, to++, r);
  });
}

}  // namespace

void cpu::CpuBackend::partition(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                                const ForestBatch& batch, VectorView<const std::int32_t> feature,
                                VectorView<const std::int32_t> bin,
                                VectorView<const std::uint8_t> missing_left) {
  constexpr const char* kName = "forest_partition";
  require_host(*this, codes.device, kName);
  require_host(*this, rows.device, kName);
  check_ordered_channels(batch, rows.size, batch.ordered_channels.cols, kName);
  // Ordered codes move with their rows whatever columns they hold (the histograms' codes).
  check_ordered_codes(batch, rows.size, batch.ordered_codes.cols, kName);
  check_left_rows(batch);
  if (batch.left_bins.data != nullptr)
    require_size(batch.left_bins, batch.nodes * kForestCategorySetBytes, kName, "left_bins");
  if (batch.ordered_codes.stride == 64)
    partition_rows<64>(codes, rows, batch, feature, bin, missing_left);
  else if (batch.ordered_codes.stride == 16)
    partition_rows<16>(codes, rows, batch, feature, bin, missing_left);
  else
    partition_rows<32>(codes, rows, batch, feature, bin, missing_left);
}

void cpu::CpuBackend::predict(MatrixView<const float> x, const ForestTrees& trees,
                              MatrixView<double> out) {
  constexpr const char* kName = "forest_predict";
  require_host(*this, x.device, kName);
  require_host(*this, out.device, kName);
  const std::int64_t v = trees.value_size;
  if (out.rows != x.rows || out.cols != v || out.layout != Layout::kRowMajor)
    throw Error("forest_predict: out must be " + std::to_string(x.rows) + " x " +
                std::to_string(v) + " row-major");
  if (trees.n_trees() == 0) {
    for (std::int64_t i = 0; i < x.rows; ++i)
      for (std::int64_t c = 0; c < v; ++c) out(i, c) = 0.0;
    return;
  }
  if (x.rows == 0) return;
  if (trees.category_set.size > 0) return cpu::predict_with_categories(x, trees, out);
  const std::shared_ptr<const PreparedWalk> walk = prepare(trees, x.cols);
  if (walk->short_nodes)
    predict_rows(x, walk->short_forest, v, out);
  else
    predict_rows(x, walk->long_forest, v, out);
}

void cpu::CpuBackend::apply(MatrixView<const float> x, const ForestTrees& trees,
                            MatrixView<std::int32_t> leaves) {
  constexpr const char* kName = "forest_apply";
  require_host(*this, x.device, kName);
  require_host(*this, leaves.device, kName);
  const std::int64_t n_trees = trees.n_trees();
  if (leaves.rows != x.rows || leaves.cols != n_trees)
    throw Error("forest_apply: leaves must be " + std::to_string(x.rows) + " x " +
                std::to_string(n_trees));
  if (x.rows == 0 || n_trees == 0) return;
  if (trees.category_set.size > 0) return cpu::apply_with_categories(x, trees, leaves);
  const std::shared_ptr<const PreparedWalk> walk = prepare(trees, x.cols);
  if (walk->short_nodes)
    apply_rows(x, walk->short_forest, leaves);
  else
    apply_rows(x, walk->long_forest, leaves);
}

}  // namespace tabula

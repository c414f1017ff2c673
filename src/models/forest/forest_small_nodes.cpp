// The exact host path for small nodes. A histogram primitive pays features x bins x channels per
// node (zeroing and scanning every bin) whatever its rows; deep trees have thousands of nodes of
// a few rows, where that cost is almost all of the fit. Here each drawn feature's rows are added
// into a bins x channels scratch histogram whose touched bins are marked in a bitmap, and the
// scan (forest_math.hpp's scan_feature) runs over the touched bins only, compacted in ascending
// order with bin 0 (missing) and bin 1 always present. Empty bins are skipped by the full scan
// too, so the same thresholds are evaluated on the same integer sums in the same order: the
// split is the one forest_best_splits would return, bit for bit, on any device.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "backend/forest_channels.hpp"
#include "backend/forest_math.hpp"
#include "core/first_max.hpp"
#include "models/forest/forest_builder.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::forest {
namespace {

// (node, feature) scans per parallel task: enough to amortise a task's scratch histogram.
constexpr std::int64_t kScansPerTask = 16;
// How far ahead the row loop prefetches a scattered row's code.
constexpr std::int32_t kPrefetchRows = 16;
// How far ahead the gather of a node's drawn codes prefetches a row's lines (up to a row's
// d / 64 + 1 lines each).
constexpr std::int32_t kPrefetchWideRows = 8;

// Nodes of at least this many rows mark their bins in byte flags (FeatureScanner::take_flags).
constexpr std::int32_t kFlaggedRows = 8;

// Regression nodes of at most this many rows take FeatureScanner::scan_tiny: a sorting network
// over the rows' (code, row) keys instead of the histogram, bitmap and compaction.
constexpr std::int32_t kTinyRows = 8;

inline void compare_exchange(std::uint16_t& a, std::uint16_t& b) {
  const std::uint16_t low = std::min(a, b), high = std::max(a, b);
  a = low;
  b = high;
}

// Sorts 8 keys ascending (an optimal 19-comparator network; the first 4 keys alone, when the
// last 4 are padding above them, by its 5-comparator prefix for 4).
inline void sort_keys(std::uint16_t* k, bool four) {
  if (four) {
    compare_exchange(k[0], k[1]), compare_exchange(k[2], k[3]);
    compare_exchange(k[0], k[2]), compare_exchange(k[1], k[3]);
    compare_exchange(k[1], k[2]);
    return;
  }
  compare_exchange(k[0], k[2]), compare_exchange(k[1], k[3]);
  compare_exchange(k[4], k[6]), compare_exchange(k[5], k[7]);
  compare_exchange(k[0], k[4]), compare_exchange(k[1], k[5]);
  compare_exchange(k[2], k[6]), compare_exchange(k[3], k[7]);
  compare_exchange(k[0], k[1]), compare_exchange(k[2], k[3]);
  compare_exchange(k[4], k[5]), compare_exchange(k[6], k[7]);
  compare_exchange(k[2], k[4]), compare_exchange(k[3], k[5]);
  compare_exchange(k[1], k[4]), compare_exchange(k[3], k[6]);
  compare_exchange(k[1], k[2]), compare_exchange(k[3], k[4]), compare_exchange(k[5], k[6]);
}

// v's storage with room for n elements; grows, never shrinks (contents not kept on growth).
template <class T>
T* room(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// Whether fewer than two bits of the 256 are set (std::popcount is a library call on baseline
// x86-64).
inline bool fewer_than_two(const std::array<std::uint64_t, 4>& bits) {
  bool seen = false, two = false;
  for (const std::uint64_t w : bits) {
    two = two || (w & (w - 1)) != 0 || (seen && w != 0);
    seen = seen || w != 0;
  }
  return !two;
}

// Moves k channels from `from` to `to` and zeroes `from`.
inline void move_channels(std::int64_t* from, std::int64_t* to, std::int64_t k) {
  copy_channels(to, from, k);
  if (k == 3) {
    from[0] = from[1] = from[2] = 0;
    return;
  }
  for (std::int64_t c = 0; c < k; ++c) from[c] = 0;
}

// The channels of the nodes' rows by position in the tree's row list (rows.rows[r]'s at r), so
// a scan reads them sequentially instead of gathering rows: packed (classifiers whose rows each
// have one class channel) or all k channels. Only the positions of the given nodes are set; the
// storage is the arena's, reused across levels and trees.
struct PositionChannels {
  const ClassWeight* packed = nullptr;
  const std::int64_t* dense = nullptr;

  PositionChannels(const TreeConfig& config, std::int64_t tree, const TreeRows& rows,
                   const std::vector<NodeRows>& nodes, HistArena& arena) {
    const std::int64_t k = config.channels;
    // From the arena's ordered channels when the tree keeps them (in order), else gathered by
    // row id.
    const std::int64_t* ordered = arena.ordered_ready ? arena.ordered.data() : nullptr;
    const auto n = static_cast<std::size_t>(rows.rows.size);
    if (config.n_classes > 0 && !ordered) {
      const ClassWeight* by_id = packed_by_id(config, tree, rows, arena);
      if (by_id) {
        if (arena.packed.size() < n) arena.packed.resize(n);
        ClassWeight* out = arena.packed.data();
        const std::int32_t* ids = rows.rows.data;
        parallel_for(static_cast<std::int64_t>(nodes.size()), [&](std::int64_t i) {
          const NodeRows& node = nodes[static_cast<std::size_t>(i)];
          for (std::int32_t r = node.begin; r < node.end; ++r) out[r] = by_id[ids[r]];
        });
        packed = out;
        return;
      }
    }
    const auto gather = [&](auto&& one) {
      parallel_for(static_cast<std::int64_t>(nodes.size()), [&](std::int64_t i) {
        const NodeRows& node = nodes[static_cast<std::size_t>(i)];
        for (std::int32_t r = node.begin; r < node.end; ++r) {
          if (ordered) {
            one(r, ordered + std::int64_t{r} * k);
            continue;
          }
          if (r + kPrefetchRows < node.end)
            __builtin_prefetch(rows.channels.data +
                               std::int64_t{rows.rows.data[r + kPrefetchRows]} * k);
          one(r, rows.channels.data + static_cast<std::int64_t>(rows.rows.data[r]) * k);
        }
      });
    };
    if (config.n_classes > 0 && ordered) {
      if (arena.packed.size() < n) arena.packed.resize(n);
      ClassWeight* out = arena.packed.data();
      std::atomic<bool> one_class{true};
      gather([&](std::int32_t r, const std::int64_t* ch) {
        if (!pack(ch, k, out[r])) one_class.store(false, std::memory_order_relaxed);
      });
      if (one_class.load()) {
        packed = out;
        return;
      }
    }
    if (ordered) {  // already by position
      dense = ordered;
      return;
    }
    if (arena.dense.size() < n * static_cast<std::size_t>(k))
      arena.dense.resize(n * static_cast<std::size_t>(k));
    std::int64_t* out = arena.dense.data();
    gather([&](std::int32_t r, const std::int64_t* ch) { copy_channels(out + r * k, ch, k); });
    dense = out;
  }

 private:
  // A classifier row's channels as (weight, class, count); false when more than one class
  // channel is non-zero.
  static bool pack(const std::int64_t* ch, std::int64_t k, ClassWeight& out) {
    std::int32_t cls = 0, nonzero = 0;
    for (std::int64_t c = 1; c < k; ++c)
      if (ch[c] != 0) cls = static_cast<std::int32_t>(c - 1), ++nonzero;
    out = {ch[1 + cls], cls, static_cast<std::int32_t>(ch[0])};
    return nonzero <= 1;
  }

  // The tree's row-list channels packed by row id (arena.packed_ids, built once per tree), or
  // null when a row has more than one class channel.
  static const ClassWeight* packed_by_id(const TreeConfig& config, std::int64_t tree,
                                         const TreeRows& rows, HistArena& arena) {
    if (arena.packed_tree != tree) {
      const std::int64_t k = config.channels;
      const std::int32_t* ids = rows.rows.data;
      std::int32_t most = 0;
      for (std::int64_t p = 0; p < rows.rows.size; ++p) most = std::max(most, ids[p]);
      if (arena.packed_ids.size() <= static_cast<std::size_t>(most))
        arena.packed_ids.resize(static_cast<std::size_t>(most) + 1);
      bool one_class = true;
      for (std::int64_t p = 0; p < rows.rows.size; ++p) {
        const std::int64_t id = ids[p];
        one_class = pack(rows.channels.data + id * k, k, arena.packed_ids[id]) && one_class;
      }
      arena.packed_tree = tree;
      arena.packed_one_class = one_class;
    }
    return arena.packed_one_class ? arena.packed_ids.data() : nullptr;
  }
};

// Gini's scan of one feature of a node whose class weights total at most kExactGiniWeight,
// straight from the scratch histogram. Every class weight, square, product and sum of them is
// then an integer of magnitude at most 2^53, exact in float64 in any order, so the class weights
// are float64 in vectors of lanes (kVecs x lanes >= classes, padding lanes zero; GNU vector
// types: pairs on SSE2, quads on AVX2): per threshold sl = sum of left^2 and cross = sum of
// left x (left - 2 total) are formed lane-parallel and sr = sum total^2 + cross, the integers
// scan_feature's integer gini forms, whatever the vector width; both sides' divisions are one
// two-lane division (each lane correctly rounded, as alone). So the gains are scan_feature's bit
// for bit, and so is the choice: scan_feature takes the first strictly larger gain over the
// missing-right thresholds, then the missing-left ones; here each sequence keeps its own first
// maximum (BestThreshold) and the missing-left one wins only when strictly larger.
using GiniPair = double __attribute__((vector_size(16)));
// 3 to 16 classes take the vector scan (two keep scan_feature's three channels in registers).
inline constexpr std::int64_t kGiniClasses = 16;

#if defined(__x86_64__) && !defined(__clang__)
// Quads: on AVX2 a bin's 10 class weights (pixels) are 3 vector operations per step, not 5.
#define TABULA_GINI_QUADS 1
using GiniQuad = double __attribute__((vector_size(32)));
// Every function taking or returning a quad is inlined into the AVX2 scan (scan_gini_quads):
// no call passes one, so the baseline ABI's warning about them does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#define TABULA_GINI_INLINE inline __attribute__((always_inline))
#else
#define TABULA_GINI_QUADS 0
#define TABULA_GINI_INLINE inline
#endif

template <typename V>
inline constexpr int kGiniWidth = static_cast<int>(sizeof(V) / sizeof(double));

// A vector from (to) kGiniWidth<V> doubles anywhere; by value, so the vector stays in a
// register.
template <typename V>
TABULA_GINI_INLINE V load_lanes(const double* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V>
TABULA_GINI_INLINE void store_lanes(double* p, V v) {
  std::memcpy(p, &v, sizeof(V));
}

// The sums of two vectors' lanes, {sum of a, sum of b}, as a tree of adds: the lanes hold
// integers below 2^53, whose sum is exact in any order, so the shortest chain is taken.
TABULA_GINI_INLINE GiniPair lane_sums(GiniPair a, GiniPair b) {
  return GiniPair{a[0], b[0]} + GiniPair{a[1], b[1]};
}
#if TABULA_GINI_QUADS
TABULA_GINI_INLINE GiniPair lane_sums(GiniQuad a, GiniQuad b) {
  const GiniQuad s = GiniQuad{a[0], b[0], a[2], b[2]} + GiniQuad{a[1], b[1], a[3], b[3]};
  return GiniPair{s[0], s[1]} + GiniPair{s[2], s[3]};
}
#endif
template <typename V>
TABULA_GINI_INLINE double lane_sum(V v) {
  const GiniPair s = lane_sums(v, v);
  return s[0];
}

// The first largest gain of a sequence of thresholds (scan_feature's rule: a later one wins only
// when strictly larger) and its index in the sequence. Kept by FirstMax from -infinity: a valid
// gain is finite (integer sums), so the first valid one is taken, as the rule takes the first
// candidate.
struct BestThreshold {
  bool found = false;
  double gain = 0.0;
  int bin = 0;
};

inline BestThreshold best_of(const FirstMax& thresholds) {
  return {thresholds.found(), thresholds.value(), static_cast<int>(thresholds.index())};
}

// Whether a feature's best missing-left threshold beats its best missing-right one: scan_feature
// evaluates the missing-left sequence second, so only when strictly larger.
inline bool missing_left_wins(const BestThreshold& right_missing,
                              const BestThreshold& left_missing) {
  return left_missing.found && (!right_missing.found || left_missing.gain > right_missing.gain);
}

// A node's class totals in lanes (padding zero) and what every threshold's gain needs.
template <typename V, int kVecs>
struct GiniNode {
  static constexpr int kWidth = kGiniWidth<V>;
  V twice_all[kVecs] = {};  // 2 x the class totals
  double w_all = 0.0, sq_all = 0.0, parent_g = 0.0;
  std::int64_t rows = 0, min_leaf = 0;

  TABULA_GINI_INLINE GiniNode(const std::int64_t* total, std::int64_t classes, std::int64_t leaf,
                              double parent)
      : parent_g(parent), rows(total[0]), min_leaf(leaf) {
    for (int g = 0; g < kVecs; ++g) {
      for (int lane = 0; lane < kWidth; ++lane) {
        const std::int64_t c = kWidth * g + lane;
        const double all = c < classes ? static_cast<double>(total[1 + c]) : 0.0;
        twice_all[g][lane] = 2 * all;
        w_all += all;
        sq_all += all * all;
      }
    }
  }

  // Adds a threshold's left class weights `left` (one vector) to its sums: sq, of left^2, and
  // cross, of left x (left - 2 all), whose total is the right side's sum of squares less the
  // node's (sum (all - left)^2 - sum all^2).
  TABULA_GINI_INLINE void add_left(V left, int g, V& sq, V& cross) const {
    sq += left * left;
    cross += left * (left - twice_all[g]);
  }

  // The gain of a threshold whose left side has weight w_left and sums {sum sq, sum cross}
  // (add_left): gini_from_sums of each side, both divisions in one.
  TABULA_GINI_INLINE double gain(double w_left, GiniPair sums) const {
    const double w_right = w_all - w_left;
    const GiniPair q = (sums + GiniPair{0.0, sq_all}) / GiniPair{w_left, w_right};
    const double gl = w_left > 0 ? w_left - q[0] : 0.0;
    const double gr = w_right > 0 ? w_right - q[1] : 0.0;
    return parent_g - gl - gr;
  }
  TABULA_GINI_INLINE bool valid(std::int64_t left_count) const {
    return left_count >= min_leaf && rows - left_count >= min_leaf;
  }
};

// A gini scan's scratch: the feature's histogram (weights: bins x lanes, counts: bins; zero
// between scans) and the left sums after each evaluated threshold, in scan order.
struct GiniScratch {
  double* weights;
  std::int64_t* counts;
  double* prefix;               // thresholds x lanes
  std::int64_t* prefix_counts;  // thresholds
  std::int32_t* prefix_bins;    // thresholds: the threshold's bin
};

// The missing-right thresholds of the bins in `bins` (bin 0 not among them), ascending: the
// left sums are the prefix sums, stored in scan order (threshold t's at t; *thresholds: how
// many), and the histogram is zeroed as it is read (no second pass over the bins).
// BestThreshold::bin is the threshold's index t.
template <typename V, int kVecs>
TABULA_GINI_INLINE BestThreshold gini_right_missing(const GiniNode<V, kVecs>& node, GiniScratch& s,
                                                    const std::array<std::uint64_t, 4>& bins,
                                                    int* thresholds) {
  constexpr int kLanes = kVecs * kGiniWidth<V>;
  V left[kVecs] = {};
  double wl = 0.0;
  std::int64_t left_count = 0;
  FirstMax best;  // a local: in registers
  int t = 0;
  for (int w = 0; w < 4; ++w) {
    for (std::uint64_t bits = bins[static_cast<std::size_t>(w)]; bits != 0; bits &= bits - 1) {
      const int b = w * 64 + std::countr_zero(bits);
      double* h = s.weights + b * kLanes;
      double* prefix = s.prefix + t * kLanes;
      V sq{}, cross{}, bin_weight{};
#pragma GCC unroll 8
      for (int g = 0; g < kVecs; ++g) {
        const V hg = load_lanes<V>(h + kGiniWidth<V> * g);
        store_lanes(h + kGiniWidth<V> * g, V{});
        bin_weight += hg;
        left[g] += hg;
        store_lanes(prefix + kGiniWidth<V> * g, left[g]);
        node.add_left(left[g], g, sq, cross);
      }
      wl += lane_sum(bin_weight);
      left_count += std::exchange(s.counts[b], 0);
      s.prefix_counts[t] = left_count;
      s.prefix_bins[t] = b;
      best.offer(node.valid(left_count), node.gain(wl, lane_sums(sq, cross)), t);
      ++t;
    }
  }
  *thresholds = t;
  return best_of(best);
}

// The missing-left thresholds: the prefix sums gini_right_missing left, plus bin 0's (miss,
// miss_count).
template <typename V, int kVecs>
TABULA_GINI_INLINE BestThreshold gini_left_missing(const GiniNode<V, kVecs>& node,
                                                   const GiniScratch& s, const V* miss,
                                                   std::int64_t miss_count, int thresholds) {
  constexpr int kLanes = kVecs * kGiniWidth<V>;
  FirstMax best;
  for (int t = 0; t < thresholds; ++t) {
    const double* prefix = s.prefix + t * kLanes;
    V sq{}, cross{}, wl{};
#pragma GCC unroll 8
    for (int g = 0; g < kVecs; ++g) {
      const V lg = load_lanes<V>(prefix + kGiniWidth<V> * g) + miss[g];
      wl += lg;
      node.add_left(lg, g, sq, cross);
    }
    best.offer(node.valid(s.prefix_counts[t] + miss_count),
               node.gain(lane_sum(wl), lane_sums(sq, cross)), t);
  }
  return best_of(best);
}

// Feature j's split from its histogram (s; bins: those rows fell in), as scan() returns it,
// with the left sums into `left` (channels entries); leaves the histogram zero.
template <typename V, int kVecs>
TABULA_GINI_INLINE FeatureSplit scan_gini_lanes(GiniScratch& s,
                                                const std::array<std::uint64_t, 4>& bins,
                                                const std::int64_t* total, std::int64_t classes,
                                                std::int64_t min_leaf, double parent_g,
                                                std::int64_t* left) {
  constexpr int kWidth = kGiniWidth<V>;
  const GiniNode<V, kVecs> node(total, classes, min_leaf, parent_g);
  // Bin 0 (missing values) apart, read and zeroed here.
  V miss[kVecs];
#pragma GCC unroll 8
  for (int g = 0; g < kVecs; ++g) {
    miss[g] = load_lanes<V>(s.weights + kWidth * g);
    store_lanes(s.weights + kWidth * g, V{});
  }
  const std::int64_t miss_count = std::exchange(s.counts[0], 0);
  std::array<std::uint64_t, 4> evaluated = bins;
  evaluated[0] = (evaluated[0] | 2) & ~std::uint64_t{1};  // bin 1 always
  int thresholds = 0;
  const BestThreshold right_missing = gini_right_missing(node, s, evaluated, &thresholds);
  const BestThreshold left_missing =
      miss_count > 0 ? gini_left_missing(node, s, miss, miss_count, thresholds) : BestThreshold{};
  const bool ml = missing_left_wins(right_missing, left_missing);
  const BestThreshold& best = ml ? left_missing : right_missing;
  if (!best.found) return FeatureSplit{0.0, 0, 0, false};
  // Prefix sums at the threshold, plus the missing rows when they go left.
  const double* prefix = s.prefix + best.bin * kVecs * kWidth;
  left[0] = s.prefix_counts[best.bin] + (ml ? miss_count : 0);
  for (std::int64_t c = 0; c < classes; ++c)
    left[1 + c] = static_cast<std::int64_t>(prefix[c] + (ml ? miss[c / kWidth][c % kWidth] : 0.0));
  const std::int64_t right_count = total[0] - left[0];
  // A node without missing rows sends future missing values to the larger child.
  return {best.gain, s.prefix_bins[best.bin],
          static_cast<std::uint8_t>(miss_count > 0 ? ml : left[0] > right_count), true};
}

// The scans by vector count, one instance each (the lanes live in registers).
using GiniScan = FeatureSplit (*)(GiniScratch&, const std::array<std::uint64_t, 4>&,
                                  const std::int64_t*, std::int64_t, std::int64_t, double,
                                  std::int64_t*);

template <int kVecs>
FeatureSplit scan_gini_pairs(GiniScratch& s, const std::array<std::uint64_t, 4>& bins,
                             const std::int64_t* total, std::int64_t classes, std::int64_t min_leaf,
                             double parent_g, std::int64_t* left) {
  return scan_gini_lanes<GiniPair, kVecs>(s, bins, total, classes, min_leaf, parent_g, left);
}

#if TABULA_GINI_QUADS
template <int kVecs>
__attribute__((target("avx2"))) FeatureSplit scan_gini_quads(
    GiniScratch& s, const std::array<std::uint64_t, 4>& bins, const std::int64_t* total,
    std::int64_t classes, std::int64_t min_leaf, double parent_g, std::int64_t* left) {
  return scan_gini_lanes<GiniQuad, kVecs>(s, bins, total, classes, min_leaf, parent_g, left);
}
#endif

// set_gini_vector_width's setting (0: automatic).
std::atomic<int> requested_gini_width{0};

bool cpu_runs_quads() {
#if TABULA_GINI_QUADS
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// scan_feature's gain of a regression threshold whose left side has weight l1 and weighted
// target sum l2 (channels 1 and 2): weighted_impurity's arithmetic on each side, with the two
// divisions in one two-lane division (each lane correctly rounded, as alone).
inline double squared_error_gain(double parent_g, const std::int64_t* total, std::int64_t l1,
                                 std::int64_t l2) {
  const GiniPair w{static_cast<double>(l1), static_cast<double>(total[1] - l1)};
  const GiniPair s{static_cast<double>(l2), static_cast<double>(total[2] - l2)};
  const GiniPair impurity = -(s * s) / w;
  return parent_g - (w[0] > 0 ? impurity[0] : 0.0) - (w[1] > 0 ? impurity[1] : 0.0);
}

// The squared-error split of one feature from its histogram (hist: bins x 3 channels {count,
// weight, weighted target}; touched: the bins rows fell in), as scan_feature finds it over the
// compacted bins: bin 1 and the touched bins but 0 in ascending order, missing values right,
// then (when some) left; a later threshold wins only when strictly larger, and the gains are
// the same numbers (squared_error_gain). Zeroes the histogram as it reads it, with no move to
// a compact copy first; the left sums after each threshold go to prefix (thresholds x 3) and
// the thresholds' bins to threshold_bins. left: the split's left sums, when one is found.
FeatureSplit scan_squared_error(std::int64_t* hist, const std::array<std::uint64_t, 4>& touched,
                                const std::int64_t* total, std::int64_t min_leaf, double parent_g,
                                std::int64_t* prefix, std::int32_t* threshold_bins,
                                std::int64_t* left) {
  const std::int64_t miss[3] = {hist[0], hist[1], hist[2]};  // bin 0: missing values
  hist[0] = hist[1] = hist[2] = 0;
  std::array<std::uint64_t, 4> evaluated = touched;
  evaluated[0] = (evaluated[0] | 2) & ~std::uint64_t{1};  // bin 1 always
  FirstMax right_keeper;
  std::int64_t l0 = 0, l1 = 0, l2 = 0;
  int thresholds = 0;
  for (int w = 0; w < 4; ++w) {
    for (std::uint64_t bits = evaluated[static_cast<std::size_t>(w)]; bits != 0; bits &= bits - 1) {
      const int b = w * 64 + std::countr_zero(bits);
      std::int64_t* h = hist + b * 3;
      l0 += std::exchange(h[0], 0);
      l1 += std::exchange(h[1], 0);
      l2 += std::exchange(h[2], 0);
      std::int64_t* p = prefix + thresholds * 3;
      p[0] = l0, p[1] = l1, p[2] = l2;
      threshold_bins[thresholds] = b;
      right_keeper.offer(l0 >= min_leaf && total[0] - l0 >= min_leaf,
                         squared_error_gain(parent_g, total, l1, l2), thresholds);
      ++thresholds;
    }
  }
  FirstMax left_keeper;
  for (int t = 0; miss[0] > 0 && t < thresholds; ++t) {
    const std::int64_t* p = prefix + t * 3;
    const std::int64_t count = p[0] + miss[0];
    left_keeper.offer(count >= min_leaf && total[0] - count >= min_leaf,
                      squared_error_gain(parent_g, total, p[1] + miss[1], p[2] + miss[2]), t);
  }
  const BestThreshold right_missing = best_of(right_keeper), left_missing = best_of(left_keeper);
  const bool ml = missing_left_wins(right_missing, left_missing);
  const BestThreshold& best = ml ? left_missing : right_missing;
  if (!best.found) return FeatureSplit{0.0, 0, 0, false};
  for (int c = 0; c < 3; ++c) left[c] = prefix[best.bin * 3 + c] + (ml ? miss[c] : 0);
  // A node without missing rows sends future missing values to the larger child.
  return {best.gain, threshold_bins[best.bin],
          static_cast<std::uint8_t>(miss[0] > 0 ? ml : left[0] > total[0] - left[0]), true};
}

// The vector scan for `classes` classes on this CPU and its lanes per bin (vectors x width).
struct GiniScanChoice {
  GiniScan scan = nullptr;
  int lanes = 0;
};
inline GiniScanChoice choose_gini_scan(std::int64_t classes) {
  if (classes < 3 || classes > kGiniClasses) return {};
#if TABULA_GINI_QUADS
  if (gini_vector_width() == 4) {
    static constexpr GiniScan kQuads[kGiniClasses / 4] = {scan_gini_quads<1>, scan_gini_quads<2>,
                                                          scan_gini_quads<3>, scan_gini_quads<4>};
    const std::int64_t vecs = (classes + 3) / 4;
    return {kQuads[vecs - 1], static_cast<int>(4 * vecs)};
  }
#endif
  static constexpr GiniScan kPairs[kGiniClasses / 2] = {
      scan_gini_pairs<1>, scan_gini_pairs<2>, scan_gini_pairs<3>, scan_gini_pairs<4>,
      scan_gini_pairs<5>, scan_gini_pairs<6>, scan_gini_pairs<7>, scan_gini_pairs<8>};
  const std::int64_t vecs = (classes + 1) / 2;
  return {kPairs[vecs - 1], static_cast<int>(2 * vecs)};
}

// Scans one feature of one node; owns the scratch histogram (zero between scans).
class FeatureScanner {
 public:
  FeatureScanner(const BinnedMatrix& bins, const TreeConfig& config, const TreeRows& rows,
                 const PositionChannels& channels)
      : bins_(bins),
        rows_(rows),
        channels_(channels),
        rule_{config.criterion, config.min_samples_leaf},
        k_(config.channels),
        hist_(static_cast<std::size_t>(bins.max_bins() * config.channels), 0),
        compact_(hist_.size()),
        map_(static_cast<std::size_t>(bins.max_bins())),
        scratch_(static_cast<std::size_t>(2 * config.channels)),
        threshold_bins_(static_cast<std::size_t>(bins.max_bins())),
        dense_regression_(channels.dense != nullptr && config.channels == 3 &&
                          config.criterion == ForestCriterion::kSquaredError),
        gini_(config.criterion == ForestCriterion::kGini && config.n_classes > 0
                  ? choose_gini_scan(config.channels - 1)
                  : GiniScanChoice{}) {
    if (gini_.scan) {
      const auto lanes = static_cast<std::size_t>(bins.max_bins() * gini_.lanes);
      bin_weights_.assign(lanes, 0.0);
      bin_counts_.assign(static_cast<std::size_t>(bins.max_bins()), 0);
      gini_prefix_.resize(lanes);
      gini_prefix_counts_.resize(static_cast<std::size_t>(bins.max_bins()));
    }
    if (dense_regression_) regression_prefix_.resize(static_cast<std::size_t>(bins.max_bins() * 3));
  }

  // Feature j's best split of the node on its own (bin: the real bin), as scan_feature finds it
  // in the full histogram.
  // local: the node's codes of feature j by position (at (r - node.begin) * step: a gathered
  // block, step 1, or the ordered codes' rows), or null to read the tree's codes by row id.
  // left: k entries, set to the split's left-child sums when one is found (the compact bins up
  // to the threshold, plus bin 0 when missing values go left: the rows that go left).
  // constant: set when every row of the node falls in one bin.
  // pairs: the node's two-bin sums (two_bin_sums), or null.
  FeatureSplit scan(const NodeRows& node, std::int32_t j, const std::uint8_t* local,
                    std::int64_t step, const std::int64_t* pairs, std::int64_t* left,
                    bool& constant) {
    // The node's impurity, once per node (a division; a node's scans mostly share a scanner).
    if (parent_node_ != node.id) {
      parent_node_ = node.id;
      parent_g_ = weighted_impurity(node.total, k_, rule_.criterion);
    }
    const double parent_g = parent_g_;
    if (dense_regression_ && local && node.end - node.begin == 2) {
      FeatureSplit best{0.0, 0, 0, false};
      if (scan_two(node, local, step, parent_g, left, constant, best)) return best;
    }
    if (dense_regression_ && local && node.end - node.begin <= kTinyRows) {
      FeatureSplit best{0.0, 0, 0, false};
      if (bins_.n_bins()[static_cast<std::size_t>(j)] <= 3
              ? scan_tiny_binary(node, local, step, parent_g, left, constant, best)
              : scan_tiny(node, local, step, parent_g, left, constant, best))
        return best;
    }
    if (gini_.scan && channels_.packed && gini_sums_exact(node.total, k_, rule_.criterion))
      return scan_gini(node, j, local, step, parent_g, left, constant);
    if (dense_regression_ && local && bins_.n_bins()[static_cast<std::size_t>(j)] > 3)
      return scan_regression(node, j, local, step, parent_g, left, constant);
    const std::int32_t n = compact_feature(node, j, local, step, pairs);
    // Compacted bins are the touched ones plus bins 0 and 1, which may be empty.
    std::int32_t nonempty = 0;
    for (std::int32_t t = 0; t < n && nonempty < 2; ++t) nonempty += compact_[t * k_] > 0;
    constant = nonempty < 2;
    FeatureSplit best{0.0, 0, 0, false};
    scan_feature(compact_.data(), node.total, k_, n, rule_, parent_g, scratch_.data(),
                 scratch_.data() + k_, best);
    if (!best.found) return best;
    std::fill(left, left + k_, 0);
    for (std::int32_t t = best.missing_left ? 0 : 1; t <= best.bin; ++t)
      add_channels(left, compact_.data() + std::int64_t{t} * k_, k_);
    best.bin = map_[static_cast<std::size_t>(best.bin)];
    return best;
  }

 private:
  // scan() for a gini node whose class weights total at most kExactGiniWeight: feature j's
  // rows summed into float64 lanes and scanned in place by scan_gini_lanes.
  FeatureSplit scan_gini(const NodeRows& node, std::int32_t j, const std::uint8_t* local,
                         std::int64_t step, double parent_g, std::int64_t* left, bool& constant) {
    const std::int64_t lanes = gini_.lanes;
    double* weights = bin_weights_.data();
    std::int64_t* counts = bin_counts_.data();
    const std::array<std::uint64_t, 4> touched =
        accumulate_feature(node, j, local, step, [&](std::uint8_t b, std::int32_t r) {
          const ClassWeight& p = channels_.packed[r];
          counts[b] += p.count;
          weights[b * lanes + p.cls] += static_cast<double>(p.weight);
        });
    // Channel 0 counts row-list entries (ForestHistShape), so a touched bin is never empty.
    constant = fewer_than_two(touched);
    GiniScratch scratch{weights, counts, gini_prefix_.data(), gini_prefix_counts_.data(),
                        threshold_bins_.data()};
    return gini_.scan(scratch, touched, node.total, k_ - 1, rule_.min_samples_leaf, parent_g, left);
  }

  // scan() for a regression node above kTinyRows and a feature of more than three bins: the
  // node's rows summed into the scratch histogram and scanned in place (scan_squared_error).
  FeatureSplit scan_regression(const NodeRows& node, std::int32_t j, const std::uint8_t* local,
                               std::int64_t step, double parent_g, std::int64_t* left,
                               bool& constant) {
    const std::array<std::uint64_t, 4> touched = accumulate_dense(node, local, step, j);
    constant = fewer_than_two(touched);  // a touched bin has rows: its count is not zero
    return scan_squared_error(hist_.data(), touched, node.total, rule_.min_samples_leaf, parent_g,
                              regression_prefix_.data(), threshold_bins_.data(), left);
  }

  // Calls add(bin, r) for each row position r of the node with feature j's code of its row
  // (see accumulate); returns the touched bins.
  template <typename Add>
  std::array<std::uint64_t, 4> accumulate_feature(const NodeRows& node, std::int32_t j,
                                                  const std::uint8_t* local,
                                                  std::int64_t local_step, Add add) {
    std::array<std::uint64_t, 4> touched{};
    // Feature j's code of a row: code[row * step] (local: by position).
    const MatrixView<const std::uint8_t> codes = bins_.codes();
    const std::uint8_t* code = local           ? local
                               : rows_.columns ? rows_.columns + j * bins_.rows()
                                               : codes.data + j;
    const std::int64_t step = local ? local_step : rows_.columns ? 1 : codes.stride;
    const bool flags = node.end - node.begin >= kFlaggedRows;
    if (local) {
      flags ? accumulate<true, true>(node, code, step, touched, add)
            : accumulate<true, false>(node, code, step, touched, add);
    } else {
      flags ? accumulate<false, true>(node, code, step, touched, add)
            : accumulate<false, false>(node, code, step, touched, add);
    }
    if (flags) touched = take_flags(j);
    return touched;
  }

  // scan_tiny for a node of two rows: a feature either ties them (constant) or sends the one
  // with the lower code left, and that split's gain depends only on which row goes left. So
  // the two possible gains are computed once per node (cached by node id: a scanner lives in
  // one round of one tree) with scan_tiny's arithmetic, and each feature picks one: the same
  // results as scan_tiny's, bit for bit. false: a code is 0 (missing), nothing done.
  bool scan_two(const NodeRows& node, const std::uint8_t* local, std::int64_t step, double parent_g,
                std::int64_t* left, bool& constant, FeatureSplit& best) {
    const std::uint8_t a = local[0], b = local[step];
    if (a == 0 || b == 0) return false;
    constant = a == b;
    if (constant) return true;
    if (two_node_ != node.id) {
      two_node_ = node.id;
      for (int lower = 0; lower < 2; ++lower) {
        const std::int64_t* l = channels_.dense + (std::int64_t{node.begin} + lower) * 3;
        const std::int64_t r0 = node.total[0] - l[0];
        TwoRowSplit& out = two_[lower];
        out.valid = l[0] >= rule_.min_samples_leaf && r0 >= rule_.min_samples_leaf;
        out.gain = squared_error_gain(parent_g, node.total, l[1], l[2]);
        out.missing_left = l[0] > r0 ? 1 : 0;
      }
    }
    const int lower = b < a ? 1 : 0;
    const TwoRowSplit& split = two_[lower];
    if (!split.valid) return true;
    best = {split.gain, std::min(a, b), split.missing_left, true};
    copy_channels(left, channels_.dense + (std::int64_t{node.begin} + lower) * 3, 3);
    return true;
  }

  // scan for a regression node of at most kTinyRows rows without missing codes (false, nothing
  // done, when a row's code is 0): its rows sorted by (code, row), the left sums after each,
  // and the thresholds between distinct codes evaluated in ascending order. These are the
  // touched bins' thresholds that scan_feature evaluates (its bin 1, when empty, sends no row
  // left and is refused by min_samples_leaf >= 1), on the same integer sums with the same
  // arithmetic and the same strict-improvement rule: the same split, bit for bit. A row's
  // count channel is 1, so a touched bin is never skipped as empty there.
  bool scan_tiny(const NodeRows& node, const std::uint8_t* local, std::int64_t step,
                 double parent_g, std::int64_t* left, bool& constant, FeatureSplit& best) {
    const std::int32_t n = node.end - node.begin;
    std::array<std::uint16_t, kTinyRows> key;
    key.fill(0xFFFF);  // padding sorts last
    bool missing = false;
    for (std::int32_t r = 0; r < n; ++r) {
      const std::uint8_t b = local[r * step];
      missing |= b == 0;
      key[static_cast<std::size_t>(r)] = static_cast<std::uint16_t>(b << 3 | r);
    }
    if (missing) return false;
    sort_keys(key.data(), n <= 4);
    const std::int64_t* dense = channels_.dense + std::int64_t{node.begin} * 3;
    std::array<std::array<std::int64_t, 3>, kTinyRows> sums;  // left sums after sorted row p
    std::int64_t l0 = 0, l1 = 0, l2 = 0;
    std::uint32_t cuts = 0;  // bit p: sorted rows p and p + 1 differ in code
    for (std::int32_t p = 0; p + 1 < n; ++p) {
      const std::int64_t* ch = dense + (key[static_cast<std::size_t>(p)] & 7) * 3;
      l0 += ch[0], l1 += ch[1], l2 += ch[2];
      sums[static_cast<std::size_t>(p)] = {l0, l1, l2};
      cuts |= std::uint32_t{(key[static_cast<std::size_t>(p)] >> 3) !=
                            (key[static_cast<std::size_t>(p) + 1] >> 3)}
              << p;
    }
    constant = cuts == 0;
    FirstMax keeper;
    for (; cuts != 0; cuts &= cuts - 1) {
      const int p = std::countr_zero(cuts);
      const std::int64_t* l = sums[static_cast<std::size_t>(p)].data();
      keeper.offer(l[0] >= rule_.min_samples_leaf && node.total[0] - l[0] >= rule_.min_samples_leaf,
                   squared_error_gain(parent_g, node.total, l[1], l[2]), p);
    }
    const BestThreshold chosen = best_of(keeper);
    if (chosen.found) {
      const std::int64_t* l = sums[static_cast<std::size_t>(chosen.bin)].data();
      copy_channels(left, l, 3);
      best = {chosen.gain, key[static_cast<std::size_t>(chosen.bin)] >> 3,
              static_cast<std::uint8_t>(l[0] > node.total[0] - l[0] ? 1 : 0), true};
    }
    return true;
  }

  // scan_tiny for a feature of at most three bins (missing, two values: one-hot columns): its
  // one threshold, between the two values, sends the rows of code 1 left, summed with masks;
  // no sort. The same split as scan_tiny's, from the same sums.
  bool scan_tiny_binary(const NodeRows& node, const std::uint8_t* local, std::int64_t step,
                        double parent_g, std::int64_t* left, bool& constant, FeatureSplit& best) {
    const std::int32_t n = node.end - node.begin;
    const std::int64_t* dense = channels_.dense + std::int64_t{node.begin} * 3;
    std::int64_t l0 = 0, l1 = 0, l2 = 0;
    bool missing = false;
    for (std::int32_t r = 0; r < n; ++r) {
      const std::uint8_t b = local[r * step];
      missing |= b == 0;
      const std::int64_t take = -std::int64_t{b == 1};
      l0 += dense[r * 3] & take;
      l1 += dense[r * 3 + 1] & take;
      l2 += dense[r * 3 + 2] & take;
    }
    if (missing) return false;
    const std::int64_t r0 = node.total[0] - l0;
    constant = l0 == 0 || r0 == 0;  // a row's count channel is at least 1
    if (constant || l0 < rule_.min_samples_leaf || r0 < rule_.min_samples_leaf) return true;
    left[0] = l0, left[1] = l1, left[2] = l2;
    best = {squared_error_gain(parent_g, node.total, l1, l2), 1,
            static_cast<std::uint8_t>(l0 > r0 ? 1 : 0), true};
    return true;
  }

  // Sums of feature j's histogram over the node into compact_ (touched bins in ascending order,
  // bins 0 and 1 always), their real bins into map_; returns how many. Leaves hist_ all zero.
  std::int32_t compact_feature(const NodeRows& node, std::int32_t j, const std::uint8_t* local,
                               std::int64_t local_step, const std::int64_t* pairs) {
    if (local && channels_.dense && k_ == 3 && bins_.n_bins()[static_cast<std::size_t>(j)] <= 3) {
      if (pairs) return compact_pair(node, pairs + std::int64_t{j} * 6);
      return local_step == 1 ? compact_binary<1>(node, local, 1)
                             : compact_binary<0>(node, local, local_step);
    }
    std::int64_t* hist = hist_.data();
    std::array<std::uint64_t, 4> touched =
        local && !channels_.packed ? accumulate_dense(node, local, local_step, j)
        : channels_.packed
            ? accumulate_feature(node, j, local, local_step,
                                 [&](std::uint8_t b, std::int32_t r) {
                                   const ClassWeight& p = channels_.packed[r];
                                   std::int64_t* h = hist + b * k_;
                                   h[0] += p.count;
                                   h[1 + p.cls] += p.weight;
                                 })
            : accumulate_feature(node, j, local, local_step, [&](std::uint8_t b, std::int32_t r) {
                add_channels(hist + b * k_, channels_.dense + std::int64_t{r} * k_, k_);
              });
    touched[0] |= 3;  // bins 0 and 1 take part in every scan
    std::int32_t n = 0;
    for (int w = 0; w < 4; ++w) {
      for (std::uint64_t bits = touched[static_cast<std::size_t>(w)]; bits != 0; bits &= bits - 1) {
        const int b = w * 64 + std::countr_zero(bits);
        move_channels(hist + b * k_, compact_.data() + n * k_, k_);
        map_[static_cast<std::size_t>(n++)] = b;
      }
    }
    return n;
  }

  // Calls add(bin, r) for the node's rows and marks their bins in `touched`, or with kFlags in
  // flag_ (take_flags reads them). kLocal: the codes are code[(r - node.begin) * step] (by
  // position), else code[rows[r] * step] (by row id).
  template <bool kLocal, bool kFlags, typename Add>
  void accumulate(const NodeRows& node, const std::uint8_t* code, std::int64_t step,
                  std::array<std::uint64_t, 4>& touched, Add& add) {
    const std::int32_t* row_ids = rows_.rows.data;
    for (std::int32_t r = node.begin; r < node.end; ++r) {
      std::uint8_t b;
      if constexpr (kLocal) {
        b = code[(r - node.begin) * step];
      } else {
        if (r + kPrefetchRows < node.end)
          __builtin_prefetch(code + std::int64_t{row_ids[r + kPrefetchRows]} * step);
        b = code[std::int64_t{row_ids[r]} * step];
      }
      if constexpr (kFlags)
        flag_[b] = 1;
      else
        touched[b >> 6] |= std::uint64_t{1} << (b & 63);
      add(b, r);
    }
  }

  // accumulate_feature for dense channels by position (nodes above kTinyRows: flagged), in a
  // loop of its own (through accumulate_feature's, diamonds' fit took 7% longer).
  std::array<std::uint64_t, 4> accumulate_dense(const NodeRows& node, const std::uint8_t* code,
                                                std::int64_t step, std::int32_t j) {
    std::int64_t* hist = hist_.data();
    std::uint8_t* flag = flag_.data();
    const std::int64_t* dense = channels_.dense + std::int64_t{node.begin} * k_;
    const std::int32_t rows = node.end - node.begin;
    for (std::int32_t r = 0; r < rows; ++r) {
      const std::uint8_t b = code[r * step];
      flag[b] = 1;
      add_channels(hist + b * k_, dense + std::int64_t{r} * k_, k_);
    }
    return take_flags(j);
  }

  // The bins marked in flag_ (feature j's), clearing the marks. A row's mark as a plain byte
  // store instead of an or into a bitmap word: the ors chain through memory when rows share a
  // word (every code below 64 does), which costs more than this pass once a node has
  // kFlaggedRows rows.
  std::array<std::uint64_t, 4> take_flags(std::int32_t j) {
    std::array<std::uint64_t, 4> touched{};
    std::uint8_t* flag = flag_.data();
    const std::int32_t bins = bins_.n_bins()[static_cast<std::size_t>(j)];
    for (std::int32_t w = 0; w * 64 < bins; ++w) {
      std::uint64_t bits = 0;
#if defined(__SSE2__)
      for (int q = 0; q < 4; ++q) {
        const __m128i f = _mm_loadu_si128(reinterpret_cast<const __m128i*>(flag + w * 64 + q * 16));
        bits |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(
                    _mm_movemask_epi8(_mm_cmpeq_epi8(f, _mm_setzero_si128())) ^ 0xFFFF))
                << (q * 16);
      }
#else
      for (int i = 0; i < 64; ++i) bits |= std::uint64_t{flag[w * 64 + i]} << i;
#endif
      touched[static_cast<std::size_t>(w)] = bits;
      std::memset(flag + w * 64, 0, 64);
    }
    return touched;
  }

  // compact_feature for a feature of at most three bins (missing, and two values: one-hot
  // columns) with three dense channels: the sums of bins 0 and 1 are kept in registers with
  // masks, bin 2's is the node's total less theirs. The general loop's per-row add to memory
  // and bitmap update chain row after row on the same two bins.
  template <int kStep>
  std::int32_t compact_binary(const NodeRows& node, const std::uint8_t* local,
                              std::int64_t run_time_step) {
    const std::int64_t step = kStep > 0 ? kStep : run_time_step;
    const std::int64_t* dense = channels_.dense + std::int64_t{node.begin} * 3;
    const std::int32_t rows = node.end - node.begin;
    // Bin 1's sums, then bin 0's (missing) in a second pass only when a row is missing: six
    // sums in one pass spilled to the stack, each add then waiting on the last one's store.
    std::int64_t a0 = 0, a1 = 0, a2 = 0, missing_rows = 0;
    for (std::int32_t r = 0; r < rows; ++r) {
      const std::uint8_t b = local[r * step];
      const std::int64_t* ch = dense + std::int64_t{r} * 3;
      const std::int64_t first = -std::int64_t{b == 1};
      missing_rows += b == 0;
      a0 += ch[0] & first;
      a1 += ch[1] & first;
      a2 += ch[2] & first;
    }
    std::int64_t m0 = 0, m1 = 0, m2 = 0;
    for (std::int32_t r = 0; missing_rows > 0 && r < rows; ++r) {
      if (local[r * step] != 0) continue;
      const std::int64_t* ch = dense + std::int64_t{r} * 3;
      m0 += ch[0], m1 += ch[1], m2 += ch[2];
    }
    std::int64_t* out = compact_.data();
    out[0] = m0, out[1] = m1, out[2] = m2;
    out[3] = a0, out[4] = a1, out[5] = a2;
    map_[0] = 0;
    map_[1] = 1;
    const std::int64_t* total = node.total;
    if (total[0] - m0 - a0 == 0) return 2;  // bin 2 untouched
    out[6] = total[0] - m0 - a0;
    out[7] = total[1] - m1 - a1;
    out[8] = total[2] - m2 - a2;
    map_[2] = 2;
    return 3;
  }

  // compact_binary's result from the node's precomputed bin 0 and bin 2 sums (6 entries):
  // bin 1's are the node's total less those, the same integers as compact_binary's.
  std::int32_t compact_pair(const NodeRows& node, const std::int64_t* pair) {
    std::int64_t* out = compact_.data();
    const std::int64_t* total = node.total;
    for (int c = 0; c < 3; ++c) {
      out[c] = pair[c];
      out[3 + c] = total[c] - pair[c] - pair[3 + c];
      out[6 + c] = pair[3 + c];
    }
    map_[0] = 0;
    map_[1] = 1;
    map_[2] = 2;
    return pair[3] == 0 ? 2 : 3;  // bin 2 untouched: two compact bins
  }

  const BinnedMatrix& bins_;
  const TreeRows& rows_;
  const PositionChannels& channels_;
  ForestSplitRule rule_;
  std::int64_t k_;
  std::vector<std::int64_t> hist_;            // max_bins x channels, zero between scans
  std::vector<std::int64_t> compact_;         // touched bins x channels
  std::vector<std::int32_t> map_;             // compact index -> bin
  std::array<std::uint8_t, 256> flag_{};      // accumulate's bins seen, zero between scans
  std::vector<std::int64_t> scratch_;         // scan_feature's left and right sums
  std::vector<std::int32_t> threshold_bins_;  // a scan's thresholds' bins, in scan order
  // Regression's dense channels: scan_two, scan_tiny and scan_regression apply.
  bool dense_regression_;
  std::vector<std::int64_t> regression_prefix_;  // scan_regression's left sums by threshold
  // scan_two's gains for node two_node_ when its row `lower` (0 or 1) goes left.
  struct TwoRowSplit {
    double gain = 0.0;
    std::uint8_t missing_left = 0;
    bool valid = false;
  };
  std::int32_t two_node_ = -1;
  // scan()'s impurity of node parent_node_ (ids are unique in a tree; a scanner lives in one
  // round of one tree).
  std::int32_t parent_node_ = -1;
  double parent_g_ = 0.0;
  std::array<TwoRowSplit, 2> two_;
  // The vector gini scan (scan_gini_lanes; none: not used); its scratch histogram of class
  // weights and counts (bins x lanes and bins, zero between scans).
  GiniScanChoice gini_;
  std::vector<double> bin_weights_;
  std::vector<std::int64_t> bin_counts_;
  // Its left sums by threshold (GiniScratch).
  std::vector<double> gini_prefix_;
  std::vector<std::int64_t> gini_prefix_counts_;
};

// Features of at most three bins (missing, two values: one-hot columns), as bits.
std::uint64_t two_bin_features(const BinnedMatrix& bins) {
  std::uint64_t mask = 0;
  for (std::int64_t j = 0; j < std::min<std::int64_t>(bins.cols(), 64); ++j)
    if (bins.n_bins()[static_cast<std::size_t>(j)] <= 3) mask |= std::uint64_t{1} << j;
  return mask;
}

// Bin 0's and bin 2's sums (3 channels each) of every feature in `two_bin` over n rows of
// ordered codes (`stride` bytes per row, stride 32 or 64) into out (d x 6, zeroed here): one
// pass over the rows adds a row's channels to the few features where it is missing or takes
// the second value (a one-hot row: one per group), instead of a masked add per row and
// feature in each feature's scan.
void two_bin_sums(const std::uint8_t* codes, std::int64_t stride, std::int32_t n,
                  const std::int64_t* dense, std::uint64_t two_bin, std::int64_t d,
                  std::int64_t* out) {
  std::fill(out, out + d * 6, 0);
  for (std::int32_t r = 0; r < n; ++r) {
    const std::uint8_t* c = codes + r * stride;
    std::uint64_t zero = 0, two = 0;
#if defined(__SSE2__)
    for (std::int64_t q = 0; q < stride / 16; ++q) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + q * 16));
      zero |= std::uint64_t{static_cast<std::uint16_t>(
                  _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())))}
              << (q * 16);
      two |= std::uint64_t{static_cast<std::uint16_t>(
                 _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(2))))}
             << (q * 16);
    }
#else
    for (std::uint64_t bits = two_bin; bits != 0; bits &= bits - 1) {
      const int f = std::countr_zero(bits);
      zero |= std::uint64_t{c[f] == 0} << f;
      two |= std::uint64_t{c[f] == 2} << f;
    }
#endif
    const std::int64_t* ch = dense + std::int64_t{r} * 3;
    for (std::uint64_t bits = two & two_bin; bits != 0; bits &= bits - 1)
      add_channels(out + std::countr_zero(bits) * 6 + 3, ch, 3);
    for (std::uint64_t bits = zero & two_bin; bits != 0; bits &= bits - 1)
      add_channels(out + std::countr_zero(bits) * 6, ch, 3);
  }
}

// two_bin_sums of the round's nodes above kTinyRows when the tree keeps ordered codes and
// three dense channels: node w's at the result + pair_slot[w] (pair_slot[w] -1: none; null
// result: no node). Storage in arena.small.
const std::int64_t* round_pair_sums(const BinnedMatrix& bins, const TreeConfig& config,
                                    const PositionChannels& channels,
                                    const std::vector<NodeRows>& nodes,
                                    const std::vector<std::size_t>& which, HistArena& arena,
                                    const std::int64_t*& pair_slot) {
  std::int64_t* slot = room(arena.small.pair_slot, which.size());
  pair_slot = slot;
  const std::uint8_t* ordered = arena.code_stride > 0 ? arena.ordered_codes.data() : nullptr;
  const std::uint64_t two_bin =
      ordered && channels.dense && config.channels == 3 ? two_bin_features(bins) : 0;
  std::int64_t values = 0;
  for (std::size_t w = 0; w < which.size(); ++w) {
    const NodeRows& node = nodes[which[w]];
    slot[w] = -1;
    if (two_bin == 0 || node.end - node.begin <= kTinyRows) continue;
    slot[w] = values;
    values += bins.cols() * 6;
  }
  if (values == 0) return nullptr;
  std::int64_t* sums = room(arena.small.pair_sums, static_cast<std::size_t>(values));
  parallel_for(static_cast<std::int64_t>(which.size()), [&](std::int64_t w) {
    if (slot[w] < 0) return;
    const NodeRows& node = nodes[which[static_cast<std::size_t>(w)]];
    two_bin_sums(ordered + std::int64_t{node.begin} * arena.code_stride, arena.code_stride,
                 node.end - node.begin, channels.dense + std::int64_t{node.begin} * 3, two_bin,
                 bins.cols(), sums + slot[w]);
  });
  return sums;
}

// One draw round for `nodes`: every (node, drawn feature) scan in parallel, then per node the
// features in draw order, a later one winning only with a strictly larger gain (so the result
// is forest_best_splits' whatever the task boundaries).
// long: a round's two phases (parallel scans, then the per-node pick in draw order) share the
// scan results and their indexing; split, the determinism argument would span two functions.
// constant: per node, the features known constant (words bitmap words each): drawn ones are
// skipped (no valid split), and those found constant here are added.
void one_round(const BinnedMatrix& bins, const TreeConfig& config, std::int64_t tree,
               const TreeRows& rows, const PositionChannels& channels,
               const std::vector<NodeRows>& nodes, const std::vector<std::size_t>& which,
               std::int64_t round, HistArena& arena, std::uint64_t* constant, std::int64_t words,
               std::vector<Split>& splits) {
  const std::int64_t m = config.max_features;
  SmallNodeScratch& scratch = arena.small;
  std::int32_t* features = room(scratch.features, which.size() * static_cast<std::size_t>(m));
  std::int64_t* first = room(scratch.first, which.size() + 1);  // node w's scans: first[w] ..
  first[0] = 0;
  for (std::size_t w = 0; w < which.size(); ++w) {
    const std::int64_t count =
        draw_features(config, bins.cols(), tree, nodes[which[w]].id, round, features + first[w]);
    first[w + 1] = first[w] + count;
  }
  const auto scans = static_cast<std::size_t>(first[which.size()]);
  std::int32_t* node_of = room(scratch.node_of, scans);
  for (std::size_t w = 0; w < which.size(); ++w)
    std::fill(node_of + first[w], node_of + first[w + 1], static_cast<std::int32_t>(w));
  // Scans still to run: drawn features not known constant on their node.
  std::uint8_t* active = room(scratch.active, scans);
  for (std::size_t t = 0; t < scans; ++t) {
    const std::uint64_t* known = constant + which[static_cast<std::size_t>(node_of[t])] * words;
    const auto f = static_cast<std::uint32_t>(features[t]);
    active[t] = ((known[f >> 6] >> (f & 63)) & 1) == 0;
  }
  // A node's drawn features' codes are gathered row by row (a row's codes share a few cache
  // lines) into a node-local feature-major block that its scans read in order, unless the
  // feature-major codes touch fewer lines (a node dense in a short column).
  // Cache lines read: row-wise, r x (lines a row's drawn codes span, at most d / 64 + 1);
  // feature-major, per drawn feature min(r, the column's lines). The cheaper way is taken.
  // With ordered codes (HistArena::ordered_codes) the node's rows are one block already: the
  // scans read them in place (diamonds, 10 trees: 0.93 -> 0.77 s against gathering them).
  std::int64_t* local = room(scratch.local, which.size() + 1);
  local[0] = 0;
  const std::int64_t row_lines = bins.cols() / 64 + 1, column_lines = bins.rows() / 64 + 1;
  const std::uint8_t* ordered = arena.code_stride > 0 ? arena.ordered_codes.data() : nullptr;
  for (std::size_t w = 0; w < which.size(); ++w) {
    const NodeRows& node = nodes[which[w]];
    const std::int64_t r = node.end - node.begin, count = first[w + 1] - first[w];
    const bool row_wise =
        r * std::min(count, row_lines) <= count * std::min(r, column_lines) || !rows.columns;
    local[w + 1] = local[w] + (row_wise && !ordered ? r * count : 0);
  }
  std::uint8_t* gathered = room(arena.codes, static_cast<std::size_t>(local[which.size()]));
  const MatrixView<const std::uint8_t> codes = bins.codes();
  parallel_for(static_cast<std::int64_t>(which.size()), [&](std::int64_t w) {
    const auto uw = static_cast<std::size_t>(w);
    if (local[uw + 1] == local[uw]) return;
    const NodeRows& node = nodes[which[uw]];
    const std::int64_t rn = node.end - node.begin, count = first[uw + 1] - first[uw];
    const std::int32_t* feats = features + first[uw];
    std::uint8_t* out = gathered + local[uw];
    // The active scans' features and their blocks in `out`.
    thread_local std::vector<std::int32_t> take_feature;
    thread_local std::vector<std::int64_t> take_offset;
    take_feature.clear();
    take_offset.clear();
    for (std::int64_t f = 0; f < count; ++f) {
      if (!active[static_cast<std::size_t>(first[uw] + f)]) continue;
      take_feature.push_back(feats[f]);
      take_offset.push_back(f * rn - node.begin);
    }
    const auto taken = static_cast<std::int64_t>(take_feature.size());
    // A row's drawn codes are spread over its line span: every line from the first drawn code
    // to the last is fetched ahead (a wide row's codes are one miss per line, not one).
    std::int32_t lo = 0, hi = 0;
    if (taken > 0) {
      const auto [a, b] = std::minmax_element(take_feature.begin(), take_feature.end());
      lo = *a;
      hi = *b;
    }
    for (std::int32_t r = node.begin; r < node.end; ++r) {
      if (!ordered && r + kPrefetchWideRows < node.end) {
        const std::uint8_t* ahead =
            codes.data + std::int64_t{rows.rows.data[r + kPrefetchWideRows]} * codes.stride;
        for (std::int32_t off = lo; off < hi; off += 64) __builtin_prefetch(ahead + off);
        __builtin_prefetch(ahead + hi);
      }
      const std::uint8_t* src = ordered
                                    ? ordered + std::int64_t{r} * arena.code_stride
                                    : codes.data + std::int64_t{rows.rows.data[r]} * codes.stride;
      for (std::int64_t f = 0; f < taken; ++f)
        out[take_offset[static_cast<std::size_t>(f)] + r] =
            src[take_feature[static_cast<std::size_t>(f)]];
    }
  });
  const std::int64_t* pair_slot = nullptr;
  const std::int64_t* pair_sums =
      round_pair_sums(bins, config, channels, nodes, which, arena, pair_slot);
  FeatureSplit* found = room(scratch.found, scans);
  std::uint8_t* found_constant = room(scratch.found_constant, scans);
  std::int64_t* found_left =
      room(scratch.found_left, scans * static_cast<std::size_t>(config.channels));
  // A few blocks per thread: each builds one scanner (its scratch histogram) for many scans.
  const auto all = static_cast<std::int64_t>(scans);
  const std::int64_t block =
      std::max<std::int64_t>(kScansPerTask, all / (4 * std::int64_t{thread_count()}));
  parallel_blocks(all, block, [&](std::int64_t begin, std::int64_t end) {
    FeatureScanner scanner(bins, config, rows, channels);
    for (std::int64_t t = begin; t < end; ++t) {
      found[t] = FeatureSplit{0.0, 0, 0, false};
      found_constant[t] = 0;
      if (!active[static_cast<std::size_t>(t)]) continue;  // no valid split
      const auto w = static_cast<std::size_t>(node_of[static_cast<std::size_t>(t)]);
      const NodeRows& node = nodes[which[w]];
      const std::uint8_t* own = local[w + 1] > local[w]
                                    ? gathered + local[w] + (t - first[w]) * (node.end - node.begin)
                                    : nullptr;
      std::int64_t step = 1;
      if (ordered) {
        own = ordered + std::int64_t{node.begin} * arena.code_stride +
              features[static_cast<std::size_t>(t)];
        step = arena.code_stride;
      }
      bool is_constant = false;
      found[t] = scanner.scan(node, features[t], own, step,
                              pair_slot[w] >= 0 ? pair_sums + pair_slot[w] : nullptr,
                              found_left + t * config.channels, is_constant);
      found_constant[t] = is_constant;
    }
  });
  parallel_for(static_cast<std::int64_t>(which.size()), [&](std::int64_t w) {
    const auto uw = static_cast<std::size_t>(w);
    Split& out = splits[which[uw]];
    std::uint64_t* known = constant + which[uw] * words;
    for (std::int64_t t = first[uw]; t < first[uw + 1]; ++t) {
      if (!found_constant[static_cast<std::size_t>(t)]) continue;
      const auto f = static_cast<std::uint32_t>(features[static_cast<std::size_t>(t)]);
      known[f >> 6] |= std::uint64_t{1} << (f & 63);
    }
    const FeatureSplit* best = nullptr;
    std::int64_t best_t = -1;
    for (std::int64_t t = first[uw]; t < first[uw + 1]; ++t) {
      const FeatureSplit& f = found[static_cast<std::size_t>(t)];
      if (f.found && (best == nullptr || f.gain > best->gain)) {
        best = &f;
        best_t = t;
      }
    }
    if (best == nullptr) return;
    out.feature = features[static_cast<std::size_t>(best_t)];
    out.bin = best->bin;
    out.missing_left = best->missing_left;
    out.gain = best->gain;
    const std::int64_t* left = found_left + best_t * config.channels;
    out.left.assign(left, left + config.channels);
  });
}

}  // namespace

int set_gini_vector_width(int width) {
  if (width != 0 && width != 2 && width != 4)
    throw std::invalid_argument("gini vector width: 0, 2 or 4, not " + std::to_string(width));
  return requested_gini_width.exchange(width);
}

int gini_vector_width() {
  const int requested = requested_gini_width.load(std::memory_order_relaxed);
  return requested != 2 && cpu_runs_quads() ? 4 : 2;
}

std::vector<std::uint8_t> feature_major_codes(const BinnedMatrix& bins) {
  if (!bins.backend().uses_host_memory()) return {};
  const MatrixView<const std::uint8_t> codes = bins.codes();
  const std::int64_t n = bins.rows(), d = bins.cols();
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n * d));
  // Blocks of 64 rows: each feature's 64 codes are written as one cache line.
  constexpr std::int64_t kBlock = 64;
  parallel_blocks(n, 16 * kBlock, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; b += kBlock) {
      const std::int64_t e = std::min(end, b + kBlock);
      for (std::int64_t j = 0; j < d; ++j)
        for (std::int64_t i = b; i < e; ++i)
          out[static_cast<std::size_t>(j * n + i)] = codes.data[i * codes.stride + j];
    }
  });
  return out;
}

std::vector<Split> small_node_splits(const BinnedMatrix& bins, const TreeConfig& config,
                                     std::int64_t tree, const TreeRows& rows,
                                     const std::vector<NodeRows>& nodes, std::int64_t round,
                                     HistArena& arena) {
  std::vector<Split> splits(nodes.size());
  std::vector<std::size_t> which(nodes.size());
  std::iota(which.begin(), which.end(), std::size_t{0});
  const PositionChannels channels(config, tree, rows, nodes, arena);
  const std::int64_t words = (bins.cols() + 63) / 64;
  std::vector<std::uint64_t> constant(nodes.size() * static_cast<std::size_t>(words), 0);
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].constant != nullptr)
      std::copy(nodes[i].constant, nodes[i].constant + words, constant.begin() + i * words);
  for (;; ++round) {
    one_round(bins, config, tree, rows, channels, nodes, which, round, arena, constant.data(),
              words, splits);
    // Redraws for the nodes still without a valid split.
    if (!config.redraw_features || (round + 1) * config.max_features >= bins.cols()) break;
    std::erase_if(which, [&](std::size_t i) { return splits[i].feature >= 0; });
    if (which.empty()) break;
  }
  for (std::size_t i = 0; i < nodes.size(); ++i)
    splits[i].constant.assign(constant.begin() + i * words, constant.begin() + (i + 1) * words);
  return splits;
}

}  // namespace tabula::forest

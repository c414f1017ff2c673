// Grows one histogram tree with Backend's forest primitives: level-wise (histogram subtraction
// when every feature is a candidate at every node) or best-first when max_leaf_nodes is set.
// Small nodes take an exact host path on host-memory backends (forest_small_nodes.cpp): it
// finds the same split as the histogram primitives at a cost that follows the node's rows.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "backend/forest_math.hpp"
#include "models/forest/hist_reduce.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula::forest {

/// TreeConfig::scatter_min_bytes by default: about where half an all-reduce's bytes take longer
/// than a collective's latency (25 Gb/s, 20 us, log2(32) steps: ~300 kB).
inline constexpr std::int64_t kScatterMinBytes = std::int64_t{256} << 10;

/// TreeConfig::overlap_batches by default.
inline constexpr std::int64_t kOverlapBatches = 4;

/// Everything about a fit that every tree shares, resolved to counts and channel units.
struct TreeConfig {
  std::int64_t max_depth = 0;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  std::int64_t max_features = 1;    // drawn per node, 1..d
  std::int64_t max_leaf_nodes = 0;  // 0: level-wise growth
  double min_impurity_decrease = 0.0;
  ForestCriterion criterion = ForestCriterion::kGini;
  std::int64_t channels = 0;
  int n_classes = 0;        // 0: regression
  double target_scale = 1;  // regression: quantised target = (y - center) * scale
  double target_center = 0;
  std::uint64_t seed = 0;
  /// scikit-learn's rule: a node whose drawn features give no valid split draws max_features
  /// more (continuing the same random permutation) until one does or none are left. false: such
  /// a node becomes a leaf (tabula before redraw_features existed).
  bool redraw_features = true;
  /// Nodes of at most this many rows take the exact host path when the backend's memory is host
  /// memory (0: never). Either path gives the same split.
  std::int64_t small_node_rows = 16384;
  /// Null: one process. Otherwise the tree's rows are this rank's share: every histogram built
  /// is summed over the ranks (int64, exact) before splits are chosen, and small nodes take the
  /// histogram path too (small_node_rows 0), so every rank grows one process's tree.
  Communicator* comm = nullptr;
  /// With comm: a batch of histograms of at least this many bytes is reduce-scattered over
  /// (node, feature) units and each rank scans its units (hist_reduce.hpp); smaller batches,
  /// where a second collective's latency costs more than the bytes saved, are all-reduced.
  std::int64_t scatter_min_bytes = kScatterMinBytes;
  /// With comm (when it takes calls from any thread): a batch of at least overlap_batches x
  /// scatter_min_bytes is cut into this many node batches, each reduce-scattered on a second
  /// thread while the next is built; 1: no overlap. The splits do not change.
  std::int64_t overlap_batches = kOverlapBatches;
};

/// Per-class weights (n_classes entries) from a class_weight parameter: "" (all 1), "balanced" /
/// "balanced_subsample" (total / (n_classes x class count), counts weighted by `counts`, the
/// per-row draw counts, or 1 per row when null), or "class:weight,..." (others 1). y: class
/// indices. InputError naming `model` for a bad entry. comm (null: one process): the counts
/// of "balanced" are summed over every rank's rows.
std::vector<double> class_weights(const std::string& spec, std::span<const double> y, int n_classes,
                                  const std::vector<std::int32_t>* counts,
                                  const std::string& model = "forest",
                                  Communicator* comm = nullptr);

/// Histogram buffers reused by every level of every tree of one fit, so the level loop neither
/// allocates nor faults in fresh pages (grown on demand, never shrunk).
/// A classifier row's only non-zero channels: 0 (count) and 1 + cls (weight).
struct ClassWeight {
  std::int64_t weight;
  std::int32_t cls;
  std::int32_t count;
};

/// Per-round scratch of the small-node path (forest_small_nodes.cpp), per (node, drawn feature)
/// scan or per node. Grown on demand and never shrunk, and only the entries a round uses are
/// written: a deep tree's levels neither allocate, zero nor fault in their scan arrays anew.
struct SmallNodeScratch {
  std::vector<std::int32_t> features;  // the drawn features, scan by scan
  std::vector<std::int64_t> first;     // node w's scans: first[w] .. first[w + 1]
  std::vector<std::int32_t> node_of;   // a scan's node (its index in the round's node list)
  std::vector<std::uint8_t> active;    // a scan's feature is not known constant on its node
  std::vector<std::int64_t> local;     // node w's gathered codes at local[w] .. local[w + 1]
  std::vector<FeatureSplit> found;     // a scan's best split
  std::vector<std::uint8_t> found_constant;
  std::vector<std::int64_t> found_left;  // a scan's left sums, channels per scan
  std::vector<std::int64_t> pair_slot;   // node w's two-bin sums at pair_sums + pair_slot[w]
  std::vector<std::int64_t> pair_sums;   // per such node, d x (bin 0, bin 2) x 3 channels
};

struct HistArena {
  Buffer<std::int64_t> level;   // this level's histograms
  Buffer<std::int64_t> parent;  // the previous level's, kept for subtraction
  // Host scratch of the small-node path: the nodes' channels by row position.
  std::vector<ClassWeight> packed;
  // A classifier tree's channels packed by row id (TreeRows::channels' rows of the row list),
  // built at the tree's first small-node level: later levels gather 16 bytes per row from it
  // instead of k channels. packed_tree: the tree they are of (-1: none); packed_one_class: every
  // row has one class channel (else the dense channels are used).
  std::vector<ClassWeight> packed_ids;
  std::int64_t packed_tree = -1;
  bool packed_one_class = false;
  std::vector<std::int64_t> dense;
  std::vector<std::uint8_t> codes;  // small nodes' drawn codes, gathered per node
  SmallNodeScratch small;
  /// Host backends: the tree's channels by row position (TreeRows::channels[rows[p]] at p),
  /// gathered once per tree and moved with the rows by every partition
  /// (ForestBatch::ordered_channels), so histograms and the small-node path read them in order.
  /// ordered_ready: set for the tree being grown.
  std::vector<std::int64_t> ordered;
  bool ordered_ready = false;
  /// Host backends, rows of at most 64 codes: the tree's codes by row position likewise
  /// (bins.codes() row rows[p] at row p, `code_stride` bytes per row), moved by every partition
  /// (ForestBatch::ordered_codes). Empty when not kept.
  std::vector<std::uint8_t> ordered_codes;
  std::int64_t code_stride = 0;
  /// Distributed fits: the summed copy of a kept level (all-reduced; the level itself stays
  /// this rank's own, the parent of the next level's subtraction), and what was sent.
  Buffer<std::int64_t> reduced;
  ReductionStats reduction;
  /// `buffer` with room for at least `size` values (its contents are not kept on growth).
  static Buffer<std::int64_t>& reserve(Backend& backend, Buffer<std::int64_t>& buffer,
                                       std::int64_t size);
};

/// One tree's training rows on the backend: the row index list (rows with a positive count)
/// and channels (n x channels, row-major int64; see ForestHistShape), plus their sums.
struct TreeRows {
  VectorView<std::int32_t> rows;
  MatrixView<const std::int64_t> channels;
  std::vector<std::int64_t> total;
  /// Optional, host memory: the codes feature-major (d x bins.rows(), see feature_major_codes),
  /// read by the small-node path: a node's rows are ascending, so one feature's codes of a node
  /// share cache lines there, while row-major codes put every row on its own line.
  const std::uint8_t* columns = nullptr;
};

/// bins' codes transposed to feature-major (d x n); empty unless the backend's memory is host
/// memory (the small-node path that reads them runs only there).
std::vector<std::uint8_t> feature_major_codes(const BinnedMatrix& bins);

/// Bytes per row of HistArena::ordered_codes that grow_tree keeps for `bins` on `backend`: 32 or
/// 64 on host backends for rows of at most 64 codes, else 0 (codes read by row id; TreeRows::
/// columns is then worth building).
std::int64_t ordered_code_stride(const Backend& backend, const BinnedMatrix& bins);

/// Writes the host codes of rows ids[0 .. n) (null: rows 0 .. n - 1) in that order into `out`,
/// `stride` (ordered_code_stride) bytes per row, in parallel. The bytes of a row past its
/// bins.cols() codes are not meaningful (nothing reads them).
void copy_ordered_codes(const BinnedMatrix& bins, const std::int32_t* ids, std::int64_t n,
                        std::int64_t stride, std::uint8_t* out);
/// The same from any row-major host codes (gradient boosting's feature bundles).
void copy_ordered_codes(MatrixView<const std::uint8_t> codes, const std::int32_t* ids,
                        std::int64_t n, std::int64_t stride, std::uint8_t* out);

/// Grows tree `tree` and returns it as a model of one tree; adds its impurity decreases per
/// feature (in channel units) to `importance` (d entries). `arena` is reused by the trees that
/// one worker grows (not shared between concurrent trees).
ForestModel grow_tree(Backend& backend, const BinnedMatrix& bins, const TreeConfig& config,
                      std::int64_t tree, const TreeRows& rows, std::vector<double>& importance,
                      HistArena& arena);

/// Features round*m .. min((round + 1) * m, d) - 1 of node `node`'s random permutation of the d
/// features (m = config.max_features; round 0 is the node's first draw, later rounds are
/// redraws); returns how many were written to `out`. All d when m == d and round == 0.
std::int64_t draw_features(const TreeConfig& config, std::int64_t d, std::int64_t tree,
                           std::int32_t node, std::int64_t round, std::int32_t* out);

/// A short array of T kept inline up to N entries, on the heap beyond: a node's sums and
/// constant-feature bitmap are a few words, and every evaluated node made one to three heap
/// allocations for them (malloc/free ~6% of a deep regression forest's fit).
template <typename T, std::size_t N>
class InlineVector {
 public:
  template <typename It>
  void assign(It first, It last) {
    size_ = static_cast<std::size_t>(std::distance(first, last));
    if (size_ <= N) {
      heap_.clear();
      std::copy(first, last, inline_.begin());
    } else {
      heap_.assign(first, last);
    }
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return size_ <= N ? inline_.data() : heap_.data(); }
  const T* data() const { return size_ <= N ? inline_.data() : heap_.data(); }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  operator std::span<const T>() const { return {data(), size_}; }

 private:
  std::size_t size_ = 0;
  std::array<T, N> inline_{};
  std::vector<T> heap_;  // used only when size_ > N
};

/// A node's channel sums (regression's 3, two or three classes' 3 or 4 inline).
using NodeSums = InlineVector<std::int64_t, 4>;
/// A node's constant-feature bitmap (up to 128 features inline).
using FeatureBits = InlineVector<std::uint64_t, 2>;

/// A node's best split (feature -1: none valid) in channel units.
struct Split {
  std::int32_t feature = -1;
  std::int32_t bin = 0;
  std::uint8_t missing_left = 0;
  double gain = 0.0;
  NodeSums left;
  /// Features known constant on the node's rows (a bitmap of d bits; empty: none known), so
  /// also on its children's: they skip them, as no split on them is valid.
  FeatureBits constant;
};

/// The rows and sums of one node (rows[begin .. end) of TreeRows::rows).
struct NodeRows {
  std::int32_t id = 0;
  std::int32_t begin = 0;
  std::int32_t end = 0;
  const std::int64_t* total = nullptr;  // channels entries
  /// Features known constant on these rows (d bits), or null.
  const std::uint64_t* constant = nullptr;
};

/// Best splits of small nodes on the host (bins, rows and channels in host memory), starting at
/// draw round `round` and redrawing while config.redraw_features allows: the split that the
/// histogram primitives would give for the same features. In parallel over nodes. Drawn
/// features known constant are skipped; each split's `constant` adds those its scans found.
std::vector<Split> small_node_splits(const BinnedMatrix& bins, const TreeConfig& config,
                                     std::int64_t tree, const TreeRows& rows,
                                     const std::vector<NodeRows>& nodes, std::int64_t round,
                                     HistArena& arena);

/// The float64 lanes per vector of small_node_splits' gini scan: 0 picks the widest the CPU runs
/// (4 with AVX2, else 2), 2 or 4 force one (tests: every width gives the same trees; 4 is taken
/// only where the CPU has AVX2). Returns the previous setting.
int set_gini_vector_width(int width);

/// The width the gini scan takes now (2 or 4).
int gini_vector_width();

}  // namespace tabula::forest

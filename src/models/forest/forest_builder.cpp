#include "models/forest/forest_builder.hpp"

#include <algorithm>
#include <future>
#include <limits>
#include <numeric>
#include <queue>
#include <span>
#include <utility>

#include "backend/forest_channels.hpp"
#include "backend/forest_math.hpp"
#include "models/device_data.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::forest {
namespace {

// Histograms of one level are kept for subtraction only while they fit in this budget; above it
// a level is evaluated in chunks and every child's histogram is built.
constexpr std::int64_t kHistBudgetBytes = std::int64_t{256} << 20;
// Host backends keep the channels in row order (HistArena::ordered) up to this many channels
// per row: regression and two or three classes. Each partition then moves them (k int64 per
// row) instead of each histogram and small-node pass gathering them by row id: 1M x 28 (two
// classes), 20 trees: 2.61 -> 2.26 s; diamonds (regression) 0.82 -> 0.76 s; pixels (ten
// classes, 11 channels moved per row) no better, so wider rows keep the gather.
constexpr std::int64_t kMaxOrderedChannels = 4;

struct Node {
  std::int32_t id = 0;
  std::int32_t begin = 0;
  std::int32_t end = 0;
  std::int64_t depth = 0;
  NodeSums total;
  std::int32_t parent_slot = -1;  // parent's histogram slot in the previous level, if kept
  std::int32_t sibling = -1;      // index of the sibling in the same list, if evaluated too
  FeatureBits constant;           // features known constant here (see Split)
};

class TreeGrower {
 public:
  TreeGrower(Backend& backend, const BinnedMatrix& bins, const TreeConfig& config,
             std::int64_t tree, const TreeRows& rows, std::vector<double>& importance,
             HistArena& arena)
      : backend_(backend),
        bins_(bins),
        config_(config),
        tree_(tree),
        rows_(rows),
        importance_(importance),
        arena_(arena),
        small_nodes_(backend.uses_host_memory() && config.small_node_rows > 0),
        // The exact path gathers each row's codes and channels once more than the histogram
        // primitive, which instead zeroes and scans features x bins x channels per node: it
        // pays off below about half that many rows.
        small_rows_(std::min(config.small_node_rows,
                             config.max_features * bins.max_bins() * config.channels / 2)),
        shape_{bins.max_bins(), config.channels},
        n_bins_(backend, bins.n_bins()) {
    arena_.ordered_ready = small_nodes_ && config.channels <= kMaxOrderedChannels;
    if (arena_.ordered_ready) order_channels();
    arena_.code_stride = ordered_code_stride(backend, bins);
    if (arena_.code_stride > 0) order_codes();
    double root_weight = 0.0;
    if (config.n_classes > 0) {
      for (std::int64_t c = 1; c < config.channels; ++c)
        root_weight += static_cast<double>(rows.total[static_cast<std::size_t>(c)]);
    } else {
      root_weight = static_cast<double>(rows.total[1]);
    }
    // Converts a decrease in channel units to scikit-learn's impurity_improvement.
    gain_to_improvement_ = 1.0 / root_weight;
    if (config.n_classes == 0) gain_to_improvement_ /= config.target_scale * config.target_scale;
  }

  void grow() {
    Node root;
    root.id = add_node(rows_.total);
    root.begin = 0;
    root.end = static_cast<std::int32_t>(rows_.rows.size);
    root.total.assign(rows_.total.begin(), rows_.total.end());
    if (config_.max_leaf_nodes > 0)
      grow_best_first(std::move(root));
    else
      grow_level_wise(std::move(root));
  }

  // The finished tree as a model of one tree (its arrays moved out).
  ForestModel take(std::int64_t value_size) {
    ForestModel one = std::move(grown_);
    one.value_size = value_size;
    one.offsets.push_back(static_cast<std::int64_t>(one.feature.size()));
    return one;
  }

 private:
  std::int32_t add_node(std::span<const std::int64_t> total) {
    const std::int32_t id = grown_.add_leaf(total[0]);
    if (config_.n_classes > 0) {
      double w = 0.0;
      for (std::int64_t c = 1; c < config_.channels; ++c)
        w += static_cast<double>(total[static_cast<std::size_t>(c)]);
      for (std::int64_t c = 1; c < config_.channels; ++c)
        grown_.values.push_back(w > 0 ? static_cast<double>(total[static_cast<std::size_t>(c)]) / w
                                      : 0.0);
    } else {
      const double w = static_cast<double>(total[1]);
      const double mean = w > 0 ? static_cast<double>(total[2]) / w : 0.0;
      grown_.values.push_back(mean / config_.target_scale + config_.target_center);
    }
    return id;
  }

  // arena_.ordered = the tree's channels by row position: the one gather by row id of the tree.
  void order_channels() {
    const std::int64_t n = rows_.rows.size, k = config_.channels;
    arena_.ordered.resize(static_cast<std::size_t>(n * k));
    std::int64_t* out = arena_.ordered.data();
    const std::int32_t* ids = rows_.rows.data;
    for (std::int64_t p = 0; p < n; ++p)
      std::copy_n(rows_.channels.data + std::int64_t{ids[p]} * k, k, out + p * k);
  }

  // arena_.ordered_codes = the tree's codes by row position, padded rows of code_stride bytes.
  void order_codes() {
    arena_.ordered_codes.resize(static_cast<std::size_t>(rows_.rows.size * arena_.code_stride));
    copy_ordered_codes(bins_, rows_.rows.data, rows_.rows.size, arena_.code_stride,
                       arena_.ordered_codes.data());
  }

  MatrixView<std::uint8_t> ordered_codes() {
    if (arena_.code_stride == 0) return {};
    return {arena_.ordered_codes.data(), rows_.rows.size,   bins_.cols(),
            arena_.code_stride,          Layout::kRowMajor, Device::cpu()};
  }

  MatrixView<std::int64_t> ordered_channels() {
    if (!arena_.ordered_ready) return {};
    return MatrixView<std::int64_t>::row_major(arena_.ordered.data(), rows_.rows.size,
                                               config_.channels);
  }

  bool can_split(const Node& node) const {
    const std::int64_t count = node.total[0];
    if (node.depth >= config_.max_depth || count < config_.min_samples_split ||
        count < 2 * config_.min_samples_leaf)
      return false;
    if (config_.n_classes > 0) {  // pure nodes are leaves
      int present = 0;
      for (std::int64_t c = 1; c < config_.channels; ++c)
        present += node.total[static_cast<std::size_t>(c)] > 0;
      if (present < 2) return false;
    }
    return true;
  }

  bool accept(const Split& split) const {
    if (split.feature < 0) return false;
    // Without a target-variance channel a regression node with zero decrease is treated as
    // constant (scikit-learn stops at zero impurity).
    if (config_.n_classes == 0 && !(split.gain > 0.0)) return false;
    if (config_.min_impurity_decrease > 0.0 &&
        split.gain * gain_to_improvement_ < config_.min_impurity_decrease)
      return false;
    return true;
  }

  // Features per node in draw round `round` (see draw_features).
  std::int64_t round_size(std::int64_t round) const {
    return std::min(config_.max_features, bins_.cols() - round * config_.max_features);
  }

  // Whether nodes[i] takes the exact host path: few rows, and no larger sibling to be derived
  // from its histogram.
  bool is_small(const std::vector<Node>& nodes, std::size_t i, bool subtract) const {
    const Node& node = nodes[i];
    if (!small_nodes_ || node.end - node.begin > small_rows_) return false;
    if (!subtract || node.sibling < 0) return true;
    const Node& sib = nodes[static_cast<std::size_t>(node.sibling)];
    return sib.end - sib.begin <= small_rows_;
  }

  // Best splits of `nodes` (draw round `round`, then redraws while allowed). Round 0 with every
  // feature drawn uses and keeps histograms for subtraction: siblings whose parent histogram is
  // in arena_.parent (have_parent) are derived, and this level's go to arena_.level with their
  // slots in *slot_of (-1: none).
  std::vector<Split> find_splits(const std::vector<Node>& nodes, std::int64_t round,
                                 bool have_parent, std::vector<std::int32_t>* slot_of) {
    const bool subtract = slot_of != nullptr;
    std::vector<std::int32_t> small, large;
    for (std::size_t i = 0; i < nodes.size(); ++i)
      (is_small(nodes, i, subtract) ? small : large).push_back(static_cast<std::int32_t>(i));
    std::vector<Split> splits(nodes.size());
    if (!small.empty()) {
      std::vector<NodeRows> node_rows;
      for (std::int32_t i : small) {
        const Node& node = nodes[static_cast<std::size_t>(i)];
        node_rows.push_back({node.id, node.begin, node.end, node.total.data(),
                             node.constant.empty() ? nullptr : node.constant.data()});
      }
      std::vector<Split> found =
          small_node_splits(bins_, config_, tree_, rows_, node_rows, round, arena_);
      for (std::size_t s = 0; s < small.size(); ++s)
        splits[static_cast<std::size_t>(small[s])] = std::move(found[s]);
    }
    if (slot_of) slot_of->assign(nodes.size(), -1);
    if (large.empty()) return splits;
    std::vector<Node> big;
    for (std::int32_t i : large) big.push_back(nodes[static_cast<std::size_t>(i)]);
    // Siblings are re-indexed within `big` (both are large when one is derived).
    std::vector<std::int32_t> index_in_big(nodes.size(), -1);
    for (std::size_t b = 0; b < large.size(); ++b)
      index_in_big[static_cast<std::size_t>(large[b])] = static_cast<std::int32_t>(b);
    for (Node& node : big)
      node.sibling = node.sibling >= 0 ? index_in_big[static_cast<std::size_t>(node.sibling)] : -1;
    std::vector<std::int32_t> big_slots;
    std::vector<Split> found = evaluate(big, round, have_parent, subtract ? &big_slots : nullptr);
    for (std::size_t b = 0; b < large.size(); ++b) {
      const auto i = static_cast<std::size_t>(large[b]);
      splits[i] = std::move(found[b]);
      splits[i].constant = nodes[i].constant;  // histograms find none: the parent's stand
      if (subtract) (*slot_of)[i] = big_slots[b];
    }
    // Redraws for the large nodes without a valid split (the small ones redrew already).
    if (!config_.redraw_features || (round + 1) * config_.max_features >= bins_.cols())
      return splits;
    std::vector<Node> retry;
    std::vector<std::int32_t> retry_of;
    for (std::int32_t i : large) {
      if (splits[static_cast<std::size_t>(i)].feature >= 0) continue;
      retry.push_back(nodes[static_cast<std::size_t>(i)]);
      retry.back().sibling = -1;
      retry_of.push_back(i);
    }
    if (retry.empty()) return splits;
    std::vector<Split> again = find_splits(retry, round + 1, false, nullptr);
    for (std::size_t r = 0; r < retry.size(); ++r)
      splits[static_cast<std::size_t>(retry_of[r])] = std::move(again[r]);
    return splits;
  }

  // Histograms and best splits of `nodes` (round `round`) through the backend primitives, in
  // arena_.level. With slot_of set, siblings whose parent histogram is in arena_.parent are
  // derived by subtraction and *slot_of gets each node's slot (the level's histograms are kept).
  std::vector<Split> evaluate(const std::vector<Node>& nodes, std::int64_t round, bool have_parent,
                              std::vector<std::int32_t>* slot_of) {
    const std::int64_t n = static_cast<std::int64_t>(nodes.size());
    const std::int64_t m = round_size(round);
    const std::int64_t slot = shape_.node_size(m);
    const std::int64_t slot_bytes = slot * static_cast<std::int64_t>(sizeof(std::int64_t));
    std::vector<Split> splits(static_cast<std::size_t>(n));
    if (n == 0) return splits;
    const bool fits = n * slot_bytes <= kHistBudgetBytes;
    if (!fits || slot_of == nullptr) {
      if (slot_of) slot_of->assign(static_cast<std::size_t>(n), -1);
      const std::int64_t chunk = std::max<std::int64_t>(1, kHistBudgetBytes / slot_bytes);
      for (std::int64_t first = 0; first < n; first += chunk) {
        std::vector<std::int32_t> order(static_cast<std::size_t>(std::min(chunk, n - first)));
        std::iota(order.begin(), order.end(), static_cast<std::int32_t>(first));
        Buffer<std::int64_t>& hist = HistArena::reserve(
            backend_, arena_.level, static_cast<std::int64_t>(order.size()) * slot);
        if (overlaps(static_cast<std::int64_t>(order.size()) * slot)) {
          overlapped_splits(nodes, order, round, hist, splits);
          continue;
        }
        build(nodes, order, round, hist);
        best_splits(nodes, order, round, hist, false, splits);
      }
      return splits;
    }
    // Slots: built nodes first, then nodes derived as parent - sibling.
    std::vector<std::int32_t> built, derived;
    for (std::int32_t i = 0; i < n; ++i) {
      const Node& node = nodes[static_cast<std::size_t>(i)];
      bool derive = false;
      if (have_parent && node.parent_slot >= 0 && node.sibling >= 0) {
        const Node& sib = nodes[static_cast<std::size_t>(node.sibling)];
        // Row counts over every rank (total[0]), so that all ranks derive the same nodes.
        const std::int64_t mine = node.total[0], theirs = sib.total[0];
        derive = mine > theirs || (mine == theirs && i > node.sibling);
      }
      (derive ? derived : built).push_back(i);
    }
    std::vector<std::int32_t> order = built;
    order.insert(order.end(), derived.begin(), derived.end());
    Buffer<std::int64_t>& hist = HistArena::reserve(backend_, arena_.level, n * slot);
    build(nodes, built, round, hist);
    if (!derived.empty()) {
      std::vector<std::int32_t> slot_of_node(static_cast<std::size_t>(n));
      for (std::int32_t s = 0; s < n; ++s) slot_of_node[static_cast<std::size_t>(order[s])] = s;
      std::vector<std::int32_t> parent, child, dst;
      for (std::int32_t i : derived) {
        const Node& node = nodes[static_cast<std::size_t>(i)];
        parent.push_back(node.parent_slot);
        child.push_back(slot_of_node[static_cast<std::size_t>(node.sibling)]);
        dst.push_back(slot_of_node[static_cast<std::size_t>(i)]);
      }
      DeviceVector<std::int32_t> dp(backend_, parent), dc(backend_, child), dd(backend_, dst);
      backend_.forest().hist_subtract(std::as_const(arena_.parent).view(), dp.view(), dc.view(),
                                      dd.view(), slot, hist.view());
    }
    best_splits(nodes, order, round, hist, true, splits);
    slot_of->assign(static_cast<std::size_t>(n), -1);
    for (std::int32_t s = 0; s < n; ++s) (*slot_of)[static_cast<std::size_t>(order[s])] = s;
    return splits;
  }

  // The codes the histogram and partition primitives read: feature-major when the tree has
  // them (host backends) and `feature_major` is preferred, row-major otherwise.
  MatrixView<const std::uint8_t> node_codes(bool feature_major) const {
    if (rows_.columns == nullptr || !feature_major) return bins_.codes();
    return {rows_.columns, bins_.rows(),      bins_.cols(),
            bins_.rows(),  Layout::kColMajor, bins_.codes().device};
  }

  // Histograms of nodes[order[i]] into slot first_slot + i of hist.
  void build(const std::vector<Node>& nodes, const std::vector<std::int32_t>& order,
             std::int64_t round, Buffer<std::int64_t>& hist, std::int64_t first_slot = 0) {
    if (order.empty()) return;
    const std::int64_t m = round_size(round);
    std::vector<std::int32_t> begin, end, features(order.size() * static_cast<std::size_t>(m));
    for (std::size_t s = 0; s < order.size(); ++s) {
      const Node& node = nodes[static_cast<std::size_t>(order[s])];
      begin.push_back(node.begin);
      end.push_back(node.end);
      draw_features(config_, bins_.cols(), tree_, node.id, round,
                    features.data() + s * static_cast<std::size_t>(m));
    }
    DeviceVector<std::int32_t> db(backend_, begin), de(backend_, end), df(backend_, features);
    ForestBatch batch;
    batch.nodes = static_cast<std::int64_t>(order.size());
    batch.begin = db.view();
    batch.end = de.view();
    batch.features = df.view();
    batch.features_per_node = m;
    batch.ordered_channels = ordered_channels();
    batch.ordered_codes = ordered_codes();
    // Feature-major when the drawn features are at most half a row: the columns stream in
    // for dense nodes and carry no undrawn codes (1M x 28, 5 drawn: 25% less fit time), while
    // a row's line holds all of them when most are drawn (43k x 26, all drawn: 10% more).
    const std::int64_t offset = first_slot * shape_.node_size(m);
    backend_.forest().histograms(node_codes(2 * m <= bins_.cols()), std::as_const(rows_.rows),
                                 rows_.channels, batch, shape_,
                                 {hist.data() + offset, hist.size() - offset, hist.device()});
  }

  // Best splits of the nodes whose histograms are in slots 0.. of hist (slot i: nodes[order[i]]).
  // With comm, hist holds this rank's rows only: the sums over the ranks are scanned (integer
  // sums, exact in any order, so every rank finds one process's splits). `kept`: hist is the
  // level kept for subtraction and must stay this rank's own (a summed copy is scanned).
  void best_splits(const std::vector<Node>& nodes, const std::vector<std::int32_t>& order,
                   std::int64_t round, Buffer<std::int64_t>& hist, bool kept,
                   std::vector<Split>& splits) {
    const std::int64_t m = round_size(round);
    const auto count = static_cast<std::int64_t>(order.size());
    std::vector<std::int32_t> features(order.size() * static_cast<std::size_t>(m));
    for (std::size_t s = 0; s < order.size(); ++s)
      draw_features(config_, bins_.cols(), tree_, nodes[static_cast<std::size_t>(order[s])].id,
                    round, features.data() + s * static_cast<std::size_t>(m));
    const std::int64_t values = count * shape_.node_size(m);
    VectorView<const std::int64_t> sums{hist.data(), values, hist.device()};
    std::vector<UnitSplit> found;
    bool scanned = false;
    if (config_.comm) {
      const HistBatch batch{count, m, shape_.bins * shape_.channels, config_.channels,
                            fits_int32(nodes, order)};
      std::span<std::int64_t> mine(hist.data(), static_cast<std::size_t>(values));
      const std::int64_t bytes = values * (batch.fits_int32 ? 4 : 8);
      if (scatter_pays(bytes, config_.comm->size(), config_.scatter_min_bytes)) {
        found = scattered_best_splits(
            *config_.comm, mine, batch, features,
            [&](const std::int64_t* part, std::int64_t units, const std::int32_t* unit_features) {
              return scan({part, units * shape_.node_size(1), Device::cpu()}, units, 1,
                          unit_features);
            },
            arena_.reduction);
        scanned = true;
      } else {
        if (kept) {
          Buffer<std::int64_t>& copy = HistArena::reserve(backend_, arena_.reduced, values);
          std::copy_n(hist.data(), values, copy.data());
          mine = std::span<std::int64_t>(copy.data(), static_cast<std::size_t>(values));
          sums.data = copy.data();
        }
        all_reduce_histograms(*config_.comm, mine, batch, arena_.reduction);
      }
    }
    if (!scanned) found = scan(sums, count, m, features.data());
    for (std::size_t s = 0; s < order.size(); ++s)
      assign(found[s], splits[static_cast<std::size_t>(order[s])]);
  }

  // Whether a batch of `values` histogram values is built and reduced in overlapped node
  // batches (the same answer on every rank: it depends on global numbers only).
  bool overlaps(std::int64_t values) const {
    if (!config_.comm || config_.overlap_batches < 2 || !config_.comm->calls_from_any_thread())
      return false;
    // int32 or not, the choice must not depend on it: the int64 size decides.
    return scatter_pays(
        values * 8, config_.comm->size(),
        std::max<std::int64_t>(1, config_.overlap_batches * config_.scatter_min_bytes));
  }

  // best_splits of build(nodes, order) with comm, overlapped: the nodes are cut into
  // overlap_batches contiguous batches; batch i's reduce-scatter runs on a second thread while
  // batch i + 1 is built (one collective at a time: it is joined before the next starts), then
  // every batch's units are scanned and their winners exchanged at once. Each batch splits its
  // own units over the ranks, so every node's split is the one best_splits finds.
  void overlapped_splits(const std::vector<Node>& nodes, const std::vector<std::int32_t>& order,
                         std::int64_t round, Buffer<std::int64_t>& hist,
                         std::vector<Split>& splits) {
    const std::int64_t m = round_size(round), slot = shape_.node_size(m);
    const auto count = static_cast<std::int64_t>(order.size());
    const std::int64_t batches = std::min(config_.overlap_batches, count);
    std::vector<std::int32_t> features(order.size() * static_cast<std::size_t>(m));
    for (std::size_t s = 0; s < order.size(); ++s)
      draw_features(config_, bins_.cols(), tree_, nodes[static_cast<std::size_t>(order[s])].id,
                    round, features.data() + s * static_cast<std::size_t>(m));
    std::vector<ScatteredUnits> parts(static_cast<std::size_t>(batches));
    std::vector<std::span<const std::int32_t>> batch_features;
    std::future<void> pending;
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::int64_t first = count * b / batches, end = count * (b + 1) / batches;
      const std::vector<std::int32_t> part(order.begin() + first, order.begin() + end);
      build(nodes, part, round, hist, first);
      batch_features.emplace_back(features.data() + first * m,
                                  static_cast<std::size_t>((end - first) * m));
      if (pending.valid()) pending.get();
      const HistBatch batch{end - first, m, shape_.bins * shape_.channels, config_.channels,
                            fits_int32(nodes, part)};
      const std::span<const std::int64_t> region(hist.data() + first * slot,
                                                 static_cast<std::size_t>((end - first) * slot));
      pending = std::async(std::launch::async, [this, &parts, b, region, batch] {
        parts[static_cast<std::size_t>(b)] =
            reduce_units(*config_.comm, region, batch, arena_.reduction);
      });
    }
    pending.get();
    const std::vector<std::vector<UnitSplit>> found = exchange_best_splits(
        *config_.comm, parts, batch_features,
        [&](const std::int64_t* sums, std::int64_t units, const std::int32_t* unit_features) {
          return scan({sums, units * shape_.node_size(1), Device::cpu()}, units, 1, unit_features);
        },
        arena_.reduction);
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::int64_t first = count * b / batches;
      for (std::size_t i = 0; i < found[static_cast<std::size_t>(b)].size(); ++i)
        assign(found[static_cast<std::size_t>(b)][i],
               splits[static_cast<std::size_t>(order[static_cast<std::size_t>(first) + i])]);
    }
  }

  static void assign(const UnitSplit& best, Split& split) {
    split.feature = best.found ? best.feature : -1;
    split.bin = best.bin;
    split.missing_left = best.missing_left;
    split.gain = best.gain;
    split.left.assign(best.left.begin(), best.left.end());
  }

  // Whether every partial sum of the histograms of nodes[order[..]] fits int32: classifier
  // channels (a count and class weights) are non-negative, so each is at most its node's total
  // over every rank.
  bool fits_int32(const std::vector<Node>& nodes, const std::vector<std::int32_t>& order) const {
    if (config_.n_classes == 0) return false;
    for (std::int32_t i : order)
      for (std::int64_t v : nodes[static_cast<std::size_t>(i)].total)
        if (v < 0 || v > std::numeric_limits<std::int32_t>::max()) return false;
    return true;
  }

  // The backend's best split of each of `count` histograms of `m` features (features: count x
  // m), the first maximal gain over its features.
  std::vector<UnitSplit> scan(VectorView<const std::int64_t> hist, std::int64_t count,
                              std::int64_t m, const std::int32_t* features) {
    const std::int64_t k = config_.channels;
    // DeviceVector views host vectors in place on host backends: the copy must outlive it.
    const std::vector<std::int32_t> drawn(features, features + count * m);
    DeviceVector<std::int32_t> df(backend_, drawn);
    ForestBatch batch;
    batch.nodes = count;
    batch.features = df.view();
    batch.features_per_node = m;
    Buffer<std::int32_t> feature(backend_, count), bin(backend_, count);
    Buffer<std::uint8_t> missing_left(backend_, count);
    Buffer<double> gain(backend_, count);
    Buffer<std::int64_t> left(backend_, count * k), total(backend_, count * k);
    ForestSplits out{feature.view(),
                     bin.view(),
                     missing_left.view(),
                     gain.view(),
                     left.matrix(count, k, Layout::kRowMajor),
                     total.matrix(count, k, Layout::kRowMajor)};
    backend_.forest().best_splits(hist, batch, shape_, n_bins_.view(),
                                  ForestSplitRule{config_.criterion, config_.min_samples_leaf},
                                  out);
    const auto h_feature = feature.to_host();
    const auto h_bin = bin.to_host();
    const auto h_ml = missing_left.to_host();
    const auto h_gain = gain.to_host();
    const auto h_left = left.to_host();
    std::vector<UnitSplit> found(static_cast<std::size_t>(count));
    for (std::size_t s = 0; s < found.size(); ++s) {
      UnitSplit& split = found[s];
      split.found = h_feature[s] >= 0;
      split.feature = h_feature[s];
      split.bin = h_bin[s];
      split.missing_left = h_ml[s];
      split.gain = h_gain[s];
      split.left.assign(h_left.begin() + static_cast<std::ptrdiff_t>(s * k),
                        h_left.begin() + static_cast<std::ptrdiff_t>((s + 1) * k));
    }
    return found;
  }

  // Partitions the rows of nodes[i] for each i in `which` by splits[i], records the splits in
  // the tree and returns the children (left, right per node, in order). The split nodes' sums
  // and bitmaps move to their children.
  std::vector<Node> split_nodes(std::vector<Node>& nodes, std::vector<Split>& splits,
                                const std::vector<std::int32_t>& which,
                                const std::vector<std::int32_t>& slot_of) {
    std::vector<Node> children;
    if (which.empty()) return children;
    std::vector<std::int32_t> begin, end, feature, bin;
    std::vector<std::uint8_t> ml;
    for (std::int32_t i : which) {
      const Node& node = nodes[static_cast<std::size_t>(i)];
      const Split& split = splits[static_cast<std::size_t>(i)];
      begin.push_back(node.begin);
      end.push_back(node.end);
      feature.push_back(split.feature);
      bin.push_back(split.bin);
      ml.push_back(split.missing_left);
    }
    DeviceVector<std::int32_t> db(backend_, begin), de(backend_, end), df(backend_, feature),
        dbin(backend_, bin);
    DeviceVector<std::uint8_t> dml(backend_, ml);
    ForestBatch batch;
    batch.nodes = static_cast<std::int64_t>(which.size());
    batch.begin = db.view();
    batch.end = de.view();
    batch.ordered_channels = ordered_channels();
    batch.ordered_codes = ordered_codes();
    // One feature per node: its column never holds more lines than the rows do.
    backend_.forest().partition(node_codes(true), rows_.rows, batch, df.view(), dbin.view(),
                                dml.view());
    children.reserve(2 * which.size());
    for (std::int32_t i : which) {
      Node& node = nodes[static_cast<std::size_t>(i)];
      Split& split = splits[static_cast<std::size_t>(i)];
      Node l, r;
      l.total = std::move(split.left);
      r.total = std::move(node.total);
      for (std::size_t c = 0; c < r.total.size(); ++c) r.total[c] -= l.total[c];
      l.begin = node.begin;
      l.end = node.begin +
              (config_.comm ? local_left_rows(node, split) : static_cast<std::int32_t>(l.total[0]));
      r.begin = l.end;
      r.end = node.end;
      l.depth = r.depth = node.depth + 1;
      r.constant = split.constant;
      l.constant = std::move(split.constant);
      l.id = add_node(l.total);
      r.id = add_node(r.total);
      grown_.set_split(node.id, split.feature, bins_.upper_edge(split.feature, split.bin), l.id,
                       r.id, split.missing_left);
      importance_[static_cast<std::size_t>(split.feature)] += split.gain;
      if (!slot_of.empty()) l.parent_slot = r.parent_slot = slot_of[static_cast<std::size_t>(i)];
      children.push_back(std::move(l));
      children.push_back(std::move(r));
    }
    return children;
  }

  // This rank's rows of `node` that `split` sends left (host codes), by the partition rule:
  // missing (code 0) to the missing side, else code <= bin. Its totals count every rank's rows.
  std::int32_t local_left_rows(const Node& node, const Split& split) const {
    const MatrixView<const std::uint8_t> codes = bins_.codes();
    std::int32_t left = 0;
    for (std::int32_t p = node.begin; p < node.end; ++p) {
      const std::uint8_t code =
          codes.data[std::int64_t{rows_.rows.data[p]} * codes.stride + split.feature];
      left += code == 0 ? split.missing_left != 0 : code <= split.bin;
    }
    return left;
  }

  void grow_level_wise(Node root) {
    std::vector<Node> open{std::move(root)};
    bool have_parent = false;
    const bool keep = config_.max_features == bins_.cols();
    while (!open.empty()) {
      // Only nodes that may split are evaluated; siblings are linked within that list.
      std::vector<Node> cand;
      std::vector<std::int32_t> index_in_cand(open.size(), -1);
      for (std::size_t i = 0; i < open.size(); ++i) {
        if (!can_split(open[i])) continue;
        index_in_cand[i] = static_cast<std::int32_t>(cand.size());
        cand.push_back(std::move(open[i]));
      }
      if (cand.empty()) break;
      // Children come in (left, right) pairs in `open`.
      for (std::size_t i = 0; i + 1 < open.size() && open.size() > 1; i += 2) {
        const std::int32_t a = index_in_cand[i], b = index_in_cand[i + 1];
        if (a >= 0 && b >= 0) {
          cand[static_cast<std::size_t>(a)].sibling = b;
          cand[static_cast<std::size_t>(b)].sibling = a;
        }
      }
      std::vector<std::int32_t> slot_of;
      std::vector<Split> splits = find_splits(cand, 0, have_parent, keep ? &slot_of : nullptr);
      std::vector<std::int32_t> which;
      for (std::size_t i = 0; i < cand.size(); ++i)
        if (accept(splits[i])) which.push_back(static_cast<std::int32_t>(i));
      open = split_nodes(cand, splits, which, slot_of);
      // This level's histograms become the parents of the next.
      std::swap(arena_.level, arena_.parent);
      have_parent = keep && std::any_of(slot_of.begin(), slot_of.end(),
                                        [](std::int32_t s) { return s >= 0; });
    }
  }

  void grow_best_first(Node root) {
    // Candidates ordered by improvement, then by node id (earlier first) for ties.
    struct Entry {
      double gain;
      std::int32_t id;
      std::size_t index;
    };
    const auto lower = [](const Entry& a, const Entry& b) {
      return a.gain < b.gain || (a.gain == b.gain && a.id > b.id);
    };
    std::priority_queue<Entry, std::vector<Entry>, decltype(lower)> heap(lower);
    std::vector<Node> nodes;
    std::vector<Split> splits;
    const auto consider = [&](std::vector<Node> batch) {
      std::vector<Node> cand;
      for (Node& node : batch)
        if (can_split(node)) cand.push_back(std::move(node));
      const std::vector<Split> found = find_splits(cand, 0, false, nullptr);
      for (std::size_t i = 0; i < cand.size(); ++i) {
        if (!accept(found[i])) continue;
        heap.push({found[i].gain, cand[i].id, nodes.size()});
        nodes.push_back(std::move(cand[i]));
        splits.push_back(found[i]);
      }
    };
    consider({std::move(root)});
    std::int64_t leaves = 1;
    while (!heap.empty() && leaves < config_.max_leaf_nodes) {
      const Entry top = heap.top();
      heap.pop();
      std::vector<Node> one{nodes[top.index]};
      std::vector<Split> one_split{splits[top.index]};
      std::vector<Node> children = split_nodes(one, one_split, {0}, {});
      for (Node& child : children) child.sibling = -1;
      ++leaves;
      consider(std::move(children));
    }
  }

  Backend& backend_;
  const BinnedMatrix& bins_;
  const TreeConfig& config_;
  std::int64_t tree_;
  const TreeRows& rows_;
  std::vector<double>& importance_;
  HistArena& arena_;
  bool small_nodes_;         // the exact host path is available
  std::int64_t small_rows_;  // nodes of at most this many rows take it
  ForestHistShape shape_;
  DeviceVector<std::int32_t> n_bins_;
  double gain_to_improvement_ = 1.0;

  ForestModel grown_;  // the tree grown, one tree's arrays (offsets completed by take)
};

}  // namespace

Buffer<std::int64_t>& HistArena::reserve(Backend& backend, Buffer<std::int64_t>& buffer,
                                         std::int64_t size) {
  // Growth by half again at least, so a level a little larger than the last reallocates rarely.
  if (buffer.size() < size)
    buffer = Buffer<std::int64_t>(backend, std::max(size, buffer.size() * 3 / 2));
  return buffer;
}

std::int64_t draw_features(const TreeConfig& config, std::int64_t d, std::int64_t tree,
                           std::int32_t node, std::int64_t round, std::int32_t* out) {
  const std::int64_t m = config.max_features;
  const std::int64_t first = round * m;
  const std::int64_t count = std::clamp<std::int64_t>(d - first, 0, m);
  if (m == d) {
    std::iota(out, out + count, 0);
    return count;
  }
  // A partial Fisher-Yates shuffle from the counter RNG keyed by (tree, node): round r's
  // features continue the permutation of round 0's, so every round draws new features.
  std::vector<std::int32_t> pool(static_cast<std::size_t>(d));
  std::iota(pool.begin(), pool.end(), 0);
  const std::uint64_t stream = feature_stream(tree, node);
  for (std::int64_t k = 0; k < first + count; ++k) {
    const std::uint64_t r = counter_random(config.seed, stream, static_cast<std::uint64_t>(k));
    const auto pick =
        static_cast<std::int64_t>(uniform_below(r, static_cast<std::uint64_t>(d - k)));
    std::swap(pool[static_cast<std::size_t>(k)], pool[static_cast<std::size_t>(k + pick)]);
    if (k >= first) out[k - first] = pool[static_cast<std::size_t>(k)];
  }
  return count;
}

std::int64_t ordered_code_stride(const Backend& backend, const BinnedMatrix& bins) {
  // A row of up to 64 codes moves as one or two vectors per partition, cheaper than the reads by
  // row id it saves (a line per row and drawn feature in deep nodes): 1M x 28 (two classes), 20
  // trees: 4.4 -> 3.6 s; diamonds (26 features), 10 trees, one thread: 0.93 -> 0.77 s.
  if (!backend.uses_host_memory() || bins.cols() > 64) return 0;
  return bins.cols() <= 32 ? 32 : 64;
}

namespace {

template <int kStride>
void copy_ordered_codes(MatrixView<const std::uint8_t> codes, const std::int32_t* ids,
                        std::int64_t n, std::uint8_t* out) {
  // A row moves as one fixed-size copy (a library call per row was 3.5% of a boosted fit),
  // reading past its codes into the rows after it, except near the end of the matrix.
  const std::int64_t last_full = (codes.rows * codes.stride - kStride) / codes.stride;
  constexpr std::int64_t kRowsPerTask = 16384;
  parallel_for((n + kRowsPerTask - 1) / kRowsPerTask, [&](std::int64_t t) {
    for (std::int64_t p = t * kRowsPerTask; p < std::min(n, (t + 1) * kRowsPerTask); ++p) {
      const std::int64_t row = ids ? ids[p] : p;
      const std::uint8_t* from = codes.data + row * codes.stride;
      if (row <= last_full)
        copy_code_row<kStride>(out + p * kStride, from);
      else
        std::copy_n(from, codes.cols, out + p * kStride);
    }
  });
}

}  // namespace

void copy_ordered_codes(const BinnedMatrix& bins, const std::int32_t* ids, std::int64_t n,
                        std::int64_t stride, std::uint8_t* out) {
  copy_ordered_codes(bins.codes(), ids, n, stride, out);
}

void copy_ordered_codes(MatrixView<const std::uint8_t> codes, const std::int32_t* ids,
                        std::int64_t n, std::int64_t stride, std::uint8_t* out) {
  if (codes.cols > stride || codes.layout != Layout::kRowMajor)
    throw Error("copy_ordered_codes: " + std::to_string(codes.cols) +
                " row-major codes a row do not fit a stride of " + std::to_string(stride));
  if (stride == 16)
    copy_ordered_codes<16>(codes, ids, n, out);
  else if (stride == 32)
    copy_ordered_codes<32>(codes, ids, n, out);
  else if (stride == 64)
    copy_ordered_codes<64>(codes, ids, n, out);
  else
    throw Error("copy_ordered_codes: a stride of " + std::to_string(stride) +
                " (16, 32 or 64 expected)");
}

ForestModel grow_tree(Backend& backend, const BinnedMatrix& bins, const TreeConfig& config,
                      std::int64_t tree, const TreeRows& rows, std::vector<double>& importance,
                      HistArena& arena) {
  TreeGrower grower(backend, bins, config, tree, rows, importance, arena);
  grower.grow();
  return grower.take(config.n_classes > 0 ? config.n_classes : 1);
}

}  // namespace tabula::forest

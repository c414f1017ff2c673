#include "models/gbdt/gbdt_tree.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <queue>
#include <tuple>
#include <utility>

#include "backend/forest_math.hpp"
#include "core/first_max.hpp"
#include "models/device_data.hpp"
#include "models/forest/forest_builder.hpp"
#include "models/gbdt/gbdt_category_split.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::gbdt {
namespace {

// Positions per task of the raw score update after a tree.
constexpr std::int32_t kScoreBlockRows = 16384;

// A node's histogram: slot `slot` of a buffer shared with its sibling (both children of a split
// are written into one two-slot buffer, as hist_subtract works within one buffer); the buffers
// come from FitRows::histogram_buffer and go back to it when no node holds them.
struct NodeHist {
  std::shared_ptr<Buffer<std::int64_t>> buffer;
  std::int32_t slot = 0;
};

struct Node {
  std::int32_t id = 0;
  std::int32_t begin = 0;
  std::int32_t end = 0;
  std::int64_t depth = 0;
  std::int64_t total[kSums] = {};  // count, gradient, Hessian
  NodeHist hist;
};

struct Split {
  std::int32_t feature = -1;
  std::int32_t bin = 0;
  std::uint8_t missing_left = 0;
  double gain = 0.0;
  std::int64_t left[kSums] = {};
  bool categorical = false;
  CategoryBits bins{};  // categorical: the bins going left (bit 0: missing)
};

class Grower {
 public:
  Grower(Backend& backend, const BinnedMatrix& bins, const GrowConfig& config,
         std::int64_t tree_index, FitRows& rows, const TreeInput& input)
      : backend_(backend),
        bins_(bins),
        config_(config),
        tree_index_(tree_index),
        rows_(rows),
        input_(input),
        shape_{bins.max_bins(), input.units.channels()},
        columns_(rows.histogram_codes().cols),
        slot_(shape_.node_size(columns_)) {
    all_features_.resize(static_cast<std::size_t>(bins.cols()));
    std::iota(all_features_.begin(), all_features_.end(), 0);
    all_columns_.resize(static_cast<std::size_t>(columns_));
    std::iota(all_columns_.begin(), all_columns_.end(), 0);
    // A host backend's DeviceVector views its source: the list must outlive it.
    columns_list_ = std::make_unique<DeviceVector<std::int32_t>>(backend, all_columns_);
    forest_config_.max_features = config.max_features;
    forest_config_.seed = config.seed;
  }

  GrownTree grow() {
    Node root;
    root.id = add_node(input_.total.data(), 0, static_cast<std::int32_t>(bins_.rows()));
    root.end = static_cast<std::int32_t>(bins_.rows());
    std::copy_n(input_.total.data(), kSums, root.total);
    root.hist = {rows_.histogram_buffer(2 * slot_), 0};  // the size every split takes
    build(root);
    // Candidates by gain, then by node id (earlier first) for ties.
    const auto lower = [](const std::pair<double, std::int32_t>& a,
                          const std::pair<double, std::int32_t>& b) {
      return a.first < b.first || (a.first == b.first && a.second > b.second);
    };
    std::priority_queue<std::pair<double, std::int32_t>,
                        std::vector<std::pair<double, std::int32_t>>, decltype(lower)>
        heap(lower);
    std::vector<Node> first;
    first.push_back(std::move(root));
    consider(std::move(first), heap);
    std::int64_t leaves = 1;
    while (!heap.empty() && (config_.max_leaf_nodes == 0 || leaves < config_.max_leaf_nodes)) {
      const std::int32_t id = heap.top().second;
      heap.pop();
      // The last split's children stay leaves: no histograms or split search for them.
      const bool last = config_.max_leaf_nodes != 0 && leaves + 1 >= config_.max_leaf_nodes;
      auto [left, right] = split(open_.at(id), splits_.at(id), !last);
      open_.erase(id);
      splits_.erase(id);
      ++leaves;
      if (last) break;
      std::vector<Node> children;
      children.push_back(std::move(left));
      children.push_back(std::move(right));
      consider(std::move(children), heap);
    }
    GrownTree out;
    out.tree = std::move(tree_);
    out.tree.offsets.push_back(static_cast<std::int64_t>(out.tree.feature.size()));
    out.split_bin = std::move(split_bin_);
    return out;
  }

  // Each node's rows: positions begin .. end of FitRows' row list.
  const std::vector<std::pair<std::int32_t, std::int32_t>>& ranges() const { return ranges_; }

 private:
  std::int32_t add_node(const std::int64_t* total, std::int32_t begin, std::int32_t end) {
    const std::int32_t id = tree_.add_leaf(total[0]);
    split_bin_.push_back(0);
    const double g = static_cast<double>(total[1]) / input_.units.gradient_scale;
    const double h = static_cast<double>(total[2]) / input_.units.hessian_scale;
    const double denominator = h + config_.l2_regularization;
    tree_.values.push_back(denominator > 0 ? -config_.learning_rate * g / denominator : 0.0);
    ranges_.emplace_back(begin, end);
    return id;
  }

  bool can_split(const Node& node) const {
    if (config_.max_depth > 0 && node.depth >= config_.max_depth) return false;
    if (node.total[0] < 2 * config_.min_samples_leaf) return false;
    return static_cast<double>(node.total[2]) / input_.units.hessian_scale >=
           2 * config_.min_hessian;
  }

  // Histogram of `node` into its slot, from its rows.
  void build(const Node& node) {
    const std::vector<std::int32_t> begin{node.begin}, end{node.end};
    DeviceVector<std::int32_t> db(backend_, begin), de(backend_, end);
    const ForestBatch batch = rows_.batch(db.view(), de.view(), columns_list_->view(), columns_);
    Buffer<std::int64_t>& buffer = *node.hist.buffer;
    backend_.forest().histograms(rows_.histogram_codes(), std::as_const(rows_.rows()).view(),
                                 input_.channels, batch, shape_,
                                 {buffer.data() + node.hist.slot * slot_, slot_, buffer.device()});
    // Over ranks, every rank's rows (host memory: the fit refuses other backends).
    if (config_.comm != nullptr && config_.comm->size() > 1)
      config_.comm->all_reduce_sum(std::span<std::int64_t>(buffer.data() + node.hist.slot * slot_,
                                                           static_cast<std::size_t>(slot_)));
  }

  // How many of this rank's rows of `node` go left by split `s` (over ranks, where the split's
  // counts are every rank's): a categorical split's bins going left are bits (bit 0: missing).
  std::int32_t local_left_rows(const Node& node, const Split& s) {
    const MatrixView<const std::uint8_t> codes = bins_.codes();
    const std::int32_t* ids = rows_.rows().data();
    std::int32_t left = 0;
    for (std::int32_t p = node.begin; p < node.end; ++p) {
      const std::uint8_t code = codes(ids[p], s.feature);
      const bool goes_left = s.categorical ? ((s.bins[code >> 3] >> (code & 7)) & 1) != 0
                             : code == 0   ? s.missing_left != 0
                                           : code <= s.bin;
      left += goes_left ? 1 : 0;
    }
    return left;
  }

  // The node's histogram in host memory (in place on host backends, else copied to scratch).
  const std::int64_t* host_hist(const Node& node, std::vector<std::int64_t>& scratch) {
    const Buffer<std::int64_t>& buffer = *node.hist.buffer;
    if (backend_.uses_host_memory()) return buffer.data() + node.hist.slot * slot_;
    scratch.resize(static_cast<std::size_t>(slot_));
    backend_.copy_to_host(scratch.data(), buffer.data() + node.hist.slot * slot_,
                          static_cast<std::size_t>(slot_) * sizeof(std::int64_t));
    return scratch.data();
  }

  // The features the node's split may use (all, or a draw keyed by tree and node).
  std::vector<std::int32_t> node_features(const Node& node) const {
    const std::int64_t d = bins_.cols();
    if (config_.max_features >= d) return all_features_;
    std::vector<std::int32_t> drawn(static_cast<std::size_t>(config_.max_features));
    forest::draw_features(forest_config_, d, tree_index_, node.id, 0, drawn.data());
    std::sort(drawn.begin(), drawn.end());  // ties go to the lower feature index
    return drawn;
  }

  // scikit-learn's split search over one feature's histogram h: each value bin as threshold
  // with missing values right, then left (only when the node has some); a node without missing
  // values sends them to the child with more rows. The gain must be positive; ties keep the
  // earlier bin and missing-right. Categorical features: best_category_split.
  Split best_feature_split(const Node& node, std::int32_t f, const std::int64_t* h) const {
    const Quantiser& u = input_.units;
    const double l2 = config_.l2_regularization;
    const double parent = split_score(node.total[1], node.total[2], u, l2);
    const std::int64_t msl = config_.min_samples_leaf;
    const double min_h = config_.min_hessian * u.hessian_scale;
    Split best;
    const std::int32_t nb = bins_.n_bins()[static_cast<std::size_t>(f)];
    if (config_.categorical(f)) {
      CategorySplit c;
      if (best_category_split(h, nb, node.total, parent, config_, u, best.gain, c))
        best = {f,
                0,
                static_cast<std::uint8_t>(c.bins[0] & 1),
                c.gain,
                {c.left[0], c.left[1], c.left[2]},
                true,
                c.bins};
      return best;
    }
    // Candidates in scan order: per value bin b, missing values right then left (ml), a single
    // one by the larger-child rule when the node has no missing rows; index 2 b + ml. A gain
    // must be positive (FirstMax from 0). prefix[b]: the stored sums through bin b, from which
    // the winner's left side is rebuilt.
    FirstMax top(0.0);
    const auto consider = [&](std::int32_t b, int ml, const std::int64_t* stored) {
      std::int64_t left[kSums];
      u.unpack(stored, left);
      const std::int64_t rc = node.total[0] - left[0];
      const std::int64_t rh = node.total[2] - left[2];
      top.offer(left[0] >= msl && rc >= msl && static_cast<double>(left[2]) >= min_h &&
                    static_cast<double>(rh) >= min_h,
                split_gain(left[1], left[2], node.total[1], node.total[2], u, l2, parent),
                2 * b + ml);
    };
    const std::int64_t k = u.channels();
    const std::int64_t* missing = h;
    std::int64_t missing_sums[kSums];
    u.unpack(missing, missing_sums);
    std::array<std::int64_t, 256 * kSums> prefix;
    std::int64_t cum[kSums] = {}, with_missing[kSums], cum_sums[kSums];
    for (std::int32_t b = 1; b < nb; ++b) {
      // An empty bin (every channel 0) leaves the sums, so its candidates equal the previous
      // bin's, which win any tie: skipped, the same split (small nodes leave most bins empty).
      bool empty = b > 1;
      for (std::int64_t c = 0; c < k; ++c) empty &= h[b * k + c] == 0;
      if (empty && b < nb - 1) continue;
      for (std::int64_t c = 0; c < k; ++c)
        prefix[static_cast<std::size_t>(b * k + c)] = cum[c] += h[b * k + c];
      if (missing_sums[0] == 0) {
        if (b == nb - 1) break;
        u.unpack(cum, cum_sums);
        consider(b, cum_sums[0] >= node.total[0] - cum_sums[0] ? 1 : 0, cum);
        continue;
      }
      consider(b, 0, cum);
      for (std::int64_t c = 0; c < k; ++c) with_missing[c] = cum[c] + missing[c];
      consider(b, 1, with_missing);
    }
    if (!top.found()) return best;
    const auto b = static_cast<std::int32_t>(top.index() / 2);
    const auto ml = static_cast<std::uint8_t>(top.index() % 2);
    std::int64_t stored[kSums], left[kSums];
    for (std::int64_t c = 0; c < k; ++c)
      stored[c] = prefix[static_cast<std::size_t>(b * k + c)] +
                  (ml != 0 && missing_sums[0] != 0 ? missing[c] : 0);
    u.unpack(stored, left);
    return {f, b, ml, top.value(), {left[0], left[1], left[2]}};
  }

  // The best split of each node: every (node, feature) scanned in parallel (leaf-wise growth
  // has one or two nodes to search at a time, and the other threads would wait), then each
  // node's features taken in order with a strictly larger gain winning, so ties keep the
  // earlier feature as one scan over the features does.
  std::vector<Split> best_splits(const std::vector<Node>& nodes) {
    std::vector<std::vector<std::int64_t>> scratch(nodes.size());
    std::vector<const std::int64_t*> hists;
    std::vector<std::pair<std::size_t, std::int32_t>> jobs;  // (node, feature)
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      hists.push_back(host_hist(nodes[i], scratch[i]));
      for (std::int32_t f : node_features(nodes[i])) jobs.emplace_back(i, f);
    }
    std::vector<Split> found(jobs.size());
    const std::int64_t k = input_.units.channels();
    const FeatureBundles* bundles = rows_.bundles();
    parallel_for(static_cast<std::int64_t>(jobs.size()), [&](std::int64_t j) {
      const auto [i, f] = jobs[static_cast<std::size_t>(j)];
      const std::int64_t column = bundles ? bundles->bundle_of(f) : f;
      const std::int64_t* h = hists[i] + column * shape_.bins * k;
      thread_local std::vector<std::int64_t> unbundled;
      if (bundles) h = bundles->feature_histogram(f, h, k, unbundled);
      found[static_cast<std::size_t>(j)] = best_feature_split(nodes[i], f, h);
    });
    std::vector<Split> best(nodes.size());
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      Split& b = best[jobs[j].first];
      if (found[j].feature >= 0 && found[j].gain > b.gain) b = found[j];
    }
    return best;
  }

  // Searches the splittable nodes' best splits and queues the nodes that have one.
  template <typename Heap>
  void consider(std::vector<Node> nodes, Heap& heap) {
    std::erase_if(nodes, [&](const Node& node) { return !can_split(node); });
    const std::vector<Split> found = best_splits(nodes);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (found[i].feature < 0) continue;
      heap.push({found[i].gain, nodes[i].id});
      splits_.emplace(nodes[i].id, found[i]);
      open_.emplace(nodes[i].id, std::move(nodes[i]));
    }
  }

  // Partitions the node's rows by the split, records it and returns the children with their
  // histograms (when children_may_split and one of them can): the smaller child's built from
  // its rows, the other's as parent - child.
  std::pair<Node, Node> split(Node& node, const Split& s, bool children_may_split) {
    const std::vector<std::int32_t> begin{node.begin}, end{node.end}, feature{s.feature},
        bin{s.bin};
    const std::vector<std::uint8_t> ml{s.missing_left};
    const std::int32_t left_rows =
        config_.comm != nullptr ? local_left_rows(node, s) : static_cast<std::int32_t>(s.left[0]);
    DeviceVector<std::int32_t> db(backend_, begin), de(backend_, end), df(backend_, feature),
        dbin(backend_, bin);
    DeviceVector<std::uint8_t> dml(backend_, ml);
    ForestBatch batch = rows_.batch(db.view(), de.view(), {}, 0);
    const DeviceVector<std::uint8_t> left_bins(backend_, s.categorical
                                                             ? std::span<const std::uint8_t>(s.bins)
                                                             : std::span<const std::uint8_t>());
    if (s.categorical) batch.left_bins = left_bins.view();
    // Host backends then move only the rows on the wrong side of the split point.
    if (backend_.uses_host_memory()) batch.left_rows = {&left_rows, 1};
    backend_.forest().partition(rows_.codes_by_id(), rows_.rows().view(), batch, df.view(),
                                dbin.view(), dml.view());
    Node l, r;
    std::copy_n(s.left, kSums, l.total);
    for (std::int64_t c = 0; c < kSums; ++c) r.total[c] = node.total[c] - s.left[c];
    l.begin = node.begin;
    l.end = node.begin + left_rows;
    r.begin = l.end;
    r.end = node.end;
    l.depth = r.depth = node.depth + 1;
    l.id = add_node(l.total, l.begin, l.end);
    r.id = add_node(r.total, r.begin, r.end);
    if (s.categorical)
      tree_.set_category_split(
          node.id, s.feature,
          category_set(s.bins, config_.known_categories.data() +
                                   std::int64_t{s.feature} * kForestCategorySetBytes),
          l.id, r.id, s.missing_left);
    else
      tree_.set_split(node.id, s.feature, bins_.upper_edge(s.feature, s.bin), l.id, r.id,
                      s.missing_left);
    split_bin_[static_cast<std::size_t>(node.id)] = s.bin;
    // Children's histograms matter only to children that may split.
    if (children_may_split && (can_split(l) || can_split(r))) {
      const std::shared_ptr<Buffer<std::int64_t>> pair = rows_.histogram_buffer(2 * slot_);
      l.hist = {pair, 0};
      r.hist = {pair, 1};
      const bool left_smaller = l.total[0] <= r.total[0];
      Node& small = left_smaller ? l : r;
      const Node& large = left_smaller ? r : l;
      build(small);
      const std::vector<std::int32_t> parent{node.hist.slot}, child{small.hist.slot},
          dst{large.hist.slot};
      DeviceVector<std::int32_t> dp(backend_, parent), dc(backend_, child), dd(backend_, dst);
      backend_.forest().hist_subtract(std::as_const(*node.hist.buffer).view(), dp.view(), dc.view(),
                                      dd.view(), slot_, pair->view());
    }
    node.hist = {};
    return {std::move(l), std::move(r)};
  }

  Backend& backend_;
  const BinnedMatrix& bins_;
  const GrowConfig& config_;
  std::int64_t tree_index_;
  FitRows& rows_;
  const TreeInput& input_;
  ForestHistShape shape_;
  std::int64_t columns_;  // the histograms' columns: features, or their bundles
  std::int64_t slot_;
  std::vector<std::int32_t> all_features_;
  std::vector<std::int32_t> all_columns_;                     // 0 .. columns_ - 1
  std::unique_ptr<DeviceVector<std::int32_t>> columns_list_;  // all_columns_ on the backend
  forest::TreeConfig forest_config_;
  std::map<std::int32_t, Node> open_;
  std::map<std::int32_t, Split> splits_;

  ForestModel tree_;  // value_size 1; offsets completed by grow()
  std::vector<std::int32_t> split_bin_;
  std::vector<std::pair<std::int32_t, std::int32_t>> ranges_;
};

}  // namespace

GrownTree grow_tree(Backend& backend, const BinnedMatrix& bins, const GrowConfig& config,
                    std::int64_t tree_index, FitRows& rows, const TreeInput& input,
                    std::span<double> raw, std::int64_t stride, std::int64_t offset) {
  Grower grower(backend, bins, config, tree_index, rows, input);
  GrownTree grown = grower.grow();
  ForestModel& t = grown.tree;
  const std::span<const std::int32_t> list = rows.host_rows();
  // Each leaf's value, then its rows' raw scores in blocks of positions, in parallel: leaves
  // are disjoint, so every raw score gets one addition whatever the blocking (and a leaf value
  // computed from raw reads it before any update).
  std::vector<std::tuple<std::int32_t, std::int32_t, double>> blocks;  // begin, end, value
  for (std::size_t node = 0; node < t.feature.size(); ++node) {
    if (t.feature[node] >= 0) continue;
    const auto [begin, end] = grower.ranges()[node];
    if (input.leaf_value)
      t.values[node] = config.learning_rate *
                       input.leaf_value(list.subspan(static_cast<std::size_t>(begin),
                                                     static_cast<std::size_t>(end - begin)));
    for (std::int32_t b = begin; b < end; b += kScoreBlockRows)
      blocks.emplace_back(b, std::min(end, b + kScoreBlockRows), t.values[node]);
  }
  parallel_for(static_cast<std::int64_t>(blocks.size()), [&](std::int64_t i) {
    const auto [begin, end, v] = blocks[static_cast<std::size_t>(i)];
    for (std::int32_t p = begin; p < end; ++p)
      raw[static_cast<std::size_t>(std::int64_t{list[static_cast<std::size_t>(p)]} * stride +
                                   offset)] += v;
  });
  return grown;
}

void add_tree_by_codes(const GrownTree& grown, std::span<const std::uint8_t> codes, std::int64_t d,
                       std::span<double> raw, std::int64_t stride, std::int64_t offset) {
  const ForestModel& t = grown.tree;
  const auto n = static_cast<std::int64_t>(codes.size()) / d;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* row = codes.data() + i * d;
    std::size_t node = 0;
    while (t.feature[node] >= 0) {
      const std::uint8_t code = row[t.feature[node]];
      const std::int32_t set = t.has_category_splits() ? t.category_set[node] : -1;
      const bool left = code == 0  ? t.missing_left[node] != 0
                        : set >= 0 ? forest::category_goes_left(
                                         t.category_bits.data() + set * kForestCategorySetBytes,
                                         static_cast<float>(code - 1), false)
                                   : code <= grown.split_bin[node];
      node = static_cast<std::size_t>(left ? t.left[node] : t.right[node]);
    }
    raw[static_cast<std::size_t>(i * stride + offset)] += t.values[node];
  }
}

}  // namespace tabula::gbdt

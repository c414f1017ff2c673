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
#include <bit>
#include <vector>

#include "models/forest_builder.hpp"
#include "models/forest_math.hpp"
#include "tabula/thread_pool.hpp"

namespace tabula::forest {
namespace {

// Nodes per parallel task: enough to amortise a task's scratch histogram.
constexpr std::int64_t kNodesPerTask = 16;

class SmallNodeSplitter {
 public:
  SmallNodeSplitter(const BinnedMatrix& bins, const TreeConfig& config, std::int64_t tree,
                    const TreeRows& rows)
      : bins_(bins),
        config_(config),
        tree_(tree),
        rows_(rows),
        k_(config.channels),
        hist_(static_cast<std::size_t>(bins.max_bins() * config.channels), 0),
        compact_(hist_.size()),
        map_(static_cast<std::size_t>(bins.max_bins())),
        scratch_(static_cast<std::size_t>(2 * config.channels)),
        features_(static_cast<std::size_t>(bins.cols())) {}

  Split split(const NodeRows& node, std::int64_t round) {
    Split best;
    const std::int64_t d = bins_.cols();
    for (;; ++round) {
      const std::int64_t count =
          draw_features(config_, d, tree_, node.id, round, features_.data());
      best = best_of(node, count);
      if (best.feature >= 0 || !config_.redraw_features) break;
      if ((round + 1) * config_.max_features >= d) break;
    }
    return best;
  }

 private:
  // The best split among features_[0 .. count), ranked as forest_best_splits ranks them.
  Split best_of(const NodeRows& node, std::int64_t count) {
    const SplitRule rule{static_cast<Criterion>(config_.criterion), config_.min_samples_leaf};
    const double parent_g = weighted_impurity(node.total, k_, rule.criterion);
    FeatureSplit best{0.0, 0, 0, false};
    std::int64_t best_f = -1;
    std::int32_t best_bin = 0;
    for (std::int64_t f = 0; f < count; ++f) {
      const std::int32_t n = compact_feature(node, features_[static_cast<std::size_t>(f)]);
      const bool before = best.found;
      const double before_gain = best.gain;
      scan_feature(compact_.data(), node.total, k_, n, rule, parent_g, scratch_.data(),
                   scratch_.data() + k_, best);
      if (best.found && (!before || best.gain > before_gain)) {
        best_f = f;
        best_bin = map_[static_cast<std::size_t>(best.bin)];
      }
    }
    Split out;
    if (!best.found) return out;
    out.feature = features_[static_cast<std::size_t>(best_f)];
    out.bin = best_bin;
    out.missing_left = best.missing_left;
    out.gain = best.gain;
    out.left = left_sums(node, out);
    return out;
  }

  // Sums of feature j's histogram over the node into compact_ (touched bins in ascending order,
  // bins 0 and 1 always), their real bins into map_; returns how many. Leaves hist_ all zero.
  std::int32_t compact_feature(const NodeRows& node, std::int32_t j) {
    const MatrixView<const std::uint8_t> codes = bins_.codes();
    const std::int32_t* row_ids = rows_.rows.data;
    const std::int64_t* channels = rows_.channels.data;
    std::array<std::uint64_t, 4> touched{};
    std::int64_t* hist = hist_.data();
    for (std::int32_t r = node.begin; r < node.end; ++r) {
      const std::int64_t row = row_ids[r];
      const std::uint8_t code = codes.data[row * codes.stride + j];
      touched[code >> 6] |= std::uint64_t{1} << (code & 63);
      const std::int64_t* ch = channels + row * k_;
      std::int64_t* h = hist + code * k_;
      for (std::int64_t c = 0; c < k_; ++c) h[c] += ch[c];
    }
    touched[0] |= 3;  // bins 0 and 1 take part in every scan
    std::int32_t n = 0;
    for (int w = 0; w < 4; ++w) {
      for (std::uint64_t bits = touched[static_cast<std::size_t>(w)]; bits != 0; bits &= bits - 1) {
        const int b = w * 64 + std::countr_zero(bits);
        std::int64_t* h = hist + b * k_;
        std::copy(h, h + k_, compact_.data() + n * k_);
        std::fill(h, h + k_, 0);
        map_[static_cast<std::size_t>(n++)] = b;
      }
    }
    return n;
  }

  // The left child's channel sums of `split`, added up from the node's rows.
  std::vector<std::int64_t> left_sums(const NodeRows& node, const Split& split) const {
    const MatrixView<const std::uint8_t> codes = bins_.codes();
    std::vector<std::int64_t> left(static_cast<std::size_t>(k_), 0);
    for (std::int32_t r = node.begin; r < node.end; ++r) {
      const std::int64_t row = rows_.rows.data[r];
      const std::uint8_t code = codes.data[row * codes.stride + split.feature];
      const bool go_left = code == 0 ? split.missing_left != 0 : code <= split.bin;
      if (!go_left) continue;
      const std::int64_t* ch = rows_.channels.data + row * k_;
      for (std::int64_t c = 0; c < k_; ++c) left[static_cast<std::size_t>(c)] += ch[c];
    }
    return left;
  }

  const BinnedMatrix& bins_;
  const TreeConfig& config_;
  std::int64_t tree_;
  const TreeRows& rows_;
  std::int64_t k_;
  std::vector<std::int64_t> hist_;     // max_bins x channels, zero between features
  std::vector<std::int64_t> compact_;  // touched bins x channels
  std::vector<std::int32_t> map_;      // compact index -> bin
  std::vector<std::int64_t> scratch_;  // scan_feature's left and right sums
  std::vector<std::int32_t> features_;
};

}  // namespace

std::vector<Split> small_node_splits(const BinnedMatrix& bins, const TreeConfig& config,
                                     std::int64_t tree, const TreeRows& rows,
                                     const std::vector<NodeRows>& nodes, std::int64_t round) {
  std::vector<Split> splits(nodes.size());
  const auto n = static_cast<std::int64_t>(nodes.size());
  parallel_blocks(n, kNodesPerTask, [&](std::int64_t begin, std::int64_t end) {
    SmallNodeSplitter splitter(bins, config, tree, rows);
    for (std::int64_t i = begin; i < end; ++i)
      splits[static_cast<std::size_t>(i)] = splitter.split(nodes[static_cast<std::size_t>(i)], round);
  });
  return splits;
}

}  // namespace tabula::forest

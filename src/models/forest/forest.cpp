// RandomForestClassifier / RandomForestRegressor: sampling, class weights and target
// quantisation on the host; binning, histograms, splits, partitions and traversal through
// Backend's forest primitives.
#include "tabula/models/forest/forest.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <numeric>
#include <sstream>

#include <spdlog/spdlog.h>

#include "artifact/validate.hpp"
#include "backend/forest_math.hpp"
#include "distributed/reduce.hpp"
#include "models/device_data.hpp"
#include "models/forest/bootstrap.hpp"
#include "models/forest/forest_builder.hpp"
#include "models/forest/tree_arrays.hpp"
#include "models/linear/solve_params.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

// Sample weights that are not all integers are stored as fixed point with this many units for
// the largest weight: relative precision 1e-6, and sums of 2^31 rows stay far below 2^63.
constexpr double kWeightUnits = double(1 << 20);

// A distributed fit's tuning knob from the environment variable `name` (a whole number >= 0),
// `fallback` when unset: TABULA_FOREST_SCATTER_MIN_BYTES (TreeConfig::scatter_min_bytes; 0
// reduce-scatters every batch) and TABULA_FOREST_OVERLAP_BATCHES (overlap_batches; 0 or 1: no
// overlap). It must be the same on every rank (mpirun passes it to all); a bad value is an
// InputError naming the variable.
std::int64_t environment_knob(const char* name, std::int64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 0)
    throw InputError(std::string("forest: ") + name + "='" + text + "' is not a whole number >= 0");
  return value;
}

// Fixed-point weights: unchanged when all are integers (no bootstrap weight is lost), else
// scaled so the largest is kWeightUnits. Zero stays zero (such rows are not trained on).
// comm: the rule and the largest weight are decided over every rank's rows.
std::vector<std::int64_t> quantise_weights(const std::vector<double>& w,
                                           Communicator* comm = nullptr) {
  bool integral = true;
  double max_w = 0.0;
  for (double v : w) {
    max_w = std::max(max_w, v);
    if (v != std::floor(v) || v > kWeightUnits) integral = false;
  }
  if (comm) {
    max_w = distributed::max_over_ranks(comm, max_w);
    integral = distributed::max_over_ranks(comm, integral ? 0.0 : 1.0) == 0.0;
  }
  std::vector<std::int64_t> q(w.size());
  const double scale = integral || max_w <= 0 ? 1.0 : kWeightUnits / max_w;
  for (std::size_t i = 0; i < w.size(); ++i) q[i] = std::llround(w[i] * scale);
  return q;
}

}  // namespace

std::vector<double> forest::class_weights(const std::string& spec, std::span<const double> y,
                                          int n_classes, const std::vector<std::int32_t>* counts,
                                          const std::string& model, Communicator* comm) {
  std::vector<double> cw(static_cast<std::size_t>(n_classes), 1.0);
  if (spec.empty()) return cw;
  if (spec == "balanced" || spec == "balanced_subsample") {
    std::vector<double> freq(static_cast<std::size_t>(n_classes), 0.0);
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double c = counts ? (*counts)[i] : 1.0;
      freq[static_cast<std::size_t>(y[i])] += c;
      total += c;
    }
    // Integer counts: their double sums are exact in any order.
    if (comm) {
      distributed::sum_over_ranks(comm, freq);
      total = distributed::sum_over_ranks(comm, total);
    }
    for (int c = 0; c < n_classes; ++c)
      cw[static_cast<std::size_t>(c)] =
          freq[static_cast<std::size_t>(c)] > 0
              ? total / (n_classes * freq[static_cast<std::size_t>(c)])
              : 0.0;
    return cw;
  }
  std::stringstream in(spec);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto colon = item.find(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument("no colon");
      const int c = std::stoi(item.substr(0, colon));
      const double w = std::stod(item.substr(colon + 1));
      if (c < 0 || c >= n_classes || !(w >= 0) || !std::isfinite(w))
        throw std::invalid_argument("range");
      cw[static_cast<std::size_t>(c)] = w;
    } catch (const std::exception&) {
      throw InputError(model + ": parameter class_weight: bad entry '" + item +
                       "' (expected class:weight with class in 0.." +
                       std::to_string(n_classes - 1) + " and weight >= 0)");
    }
  }
  return cw;
}

// ---- ForestModel ----------------------------------------------------------------------------

std::int64_t ForestModel::depth(std::int64_t t) const {
  const std::int64_t base = offsets[static_cast<std::size_t>(t)];
  const std::int64_t n = offsets[static_cast<std::size_t>(t + 1)] - base;
  std::vector<std::int64_t> d(static_cast<std::size_t>(n), 0);
  std::int64_t deepest = 0;
  for (std::int64_t i = 0; i < n; ++i) {  // children always follow their parent
    const auto g = static_cast<std::size_t>(base + i);
    deepest = std::max(deepest, d[static_cast<std::size_t>(i)]);
    if (feature[g] >= 0) {
      d[static_cast<std::size_t>(left[g])] = d[static_cast<std::size_t>(i)] + 1;
      d[static_cast<std::size_t>(right[g])] = d[static_cast<std::size_t>(i)] + 1;
    }
  }
  return deepest;
}

std::int64_t ForestModel::leaves(std::int64_t t) const {
  std::int64_t count = 0;
  for (std::int64_t g = offsets[static_cast<std::size_t>(t)];
       g < offsets[static_cast<std::size_t>(t + 1)]; ++g)
    count += feature[static_cast<std::size_t>(g)] < 0;
  return count;
}

ForestTrees ForestModel::host_view() const {
  return {{offsets.data(), static_cast<std::int64_t>(offsets.size())},
          {feature.data(), static_cast<std::int64_t>(feature.size())},
          {threshold.data(), static_cast<std::int64_t>(threshold.size())},
          {left.data(), static_cast<std::int64_t>(left.size())},
          {right.data(), static_cast<std::int64_t>(right.size())},
          {missing_left.data(), static_cast<std::int64_t>(missing_left.size())},
          {values.data(), static_cast<std::int64_t>(values.size())},
          value_size,
          {category_set.data(), static_cast<std::int64_t>(category_set.size())},
          {category_bits.data(), static_cast<std::int64_t>(category_bits.size())}};
}

std::int32_t ForestModel::add_leaf(std::int64_t samples) {
  const auto id = static_cast<std::int32_t>(feature.size());
  feature.push_back(-1);
  threshold.push_back(0.0f);
  left.push_back(-1);
  right.push_back(-1);
  missing_left.push_back(0);
  n_samples.push_back(samples);
  if (has_category_splits()) category_set.push_back(-1);
  return id;
}

void ForestModel::set_split(std::int32_t node, std::int32_t split_feature, float split_threshold,
                            std::int32_t to_left, std::int32_t to_right,
                            std::uint8_t missing_to_left) {
  const auto at = static_cast<std::size_t>(node);
  feature[at] = split_feature;
  threshold[at] = split_threshold;
  left[at] = to_left;
  right[at] = to_right;
  missing_left[at] = missing_to_left;
}

void ForestModel::set_category_split(std::int32_t node, std::int32_t split_feature,
                                     std::span<const std::uint8_t> set, std::int32_t to_left,
                                     std::int32_t to_right, std::uint8_t missing_to_left) {
  set_split(node, split_feature, 0.0f, to_left, to_right, missing_to_left);
  category_set.resize(feature.size(), -1);  // the first categorical split sizes the array
  category_set[static_cast<std::size_t>(node)] =
      static_cast<std::int32_t>(category_bits.size() / kForestCategorySetBytes);
  category_bits.insert(category_bits.end(), set.begin(), set.end());
}

void ForestModel::append(const ForestModel& more) {
  const std::int64_t base = n_nodes();
  if (has_category_splits() || more.has_category_splits()) {
    // Either side without categorical splits reads as all -1; set indices shift past ours.
    category_set.resize(static_cast<std::size_t>(base), -1);
    const auto sets = static_cast<std::int32_t>(category_bits.size() / kForestCategorySetBytes);
    for (std::size_t g = 0; g < more.feature.size(); ++g) {
      const std::int32_t s = more.has_category_splits() ? more.category_set[g] : -1;
      category_set.push_back(s < 0 ? -1 : s + sets);
    }
    category_bits.insert(category_bits.end(), more.category_bits.begin(), more.category_bits.end());
  }
  const auto add = [](auto& to, const auto& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  add(feature, more.feature);
  add(threshold, more.threshold);
  add(left, more.left);
  add(right, more.right);
  add(missing_left, more.missing_left);
  add(n_samples, more.n_samples);
  add(values, more.values);
  for (std::size_t t = 1; t < more.offsets.size(); ++t) offsets.push_back(base + more.offsets[t]);
}

// ---- RandomForest ---------------------------------------------------------------------------

RandomForest::RandomForest(Task task, ForestParams params)
    : task_(task),
      params_(std::move(params)),
      oob_score_(std::numeric_limits<double>::quiet_NaN()) {}

std::string RandomForest::name() const {
  return task_ == Task::kClassification ? "forest-classifier" : "forest-regressor";
}

namespace {

// The row list of every row: 0 .. n-1.
std::vector<std::int64_t> every_row(std::int64_t n) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  return all;
}

}  // namespace

void RandomForest::fit(Backend& backend, const FitData& data) {
  if (static_cast<std::int64_t>(data.y.size()) != data.x.rows)
    throw InputError("forest: " + std::to_string(data.x.rows) + " rows of features but " +
                     std::to_string(data.y.size()) + " targets");
  const BinnedMatrix bins = BinnedMatrix::build(backend, data.x, params_.max_bins, {}, data.comm);
  fit_binned(bins, every_row(bins.rows()), data.x, data.y, data.sample_weight, data.n_classes,
             data.seed, data.comm);
}

void RandomForest::fit_binned(const BinnedMatrix& bins, MatrixView<const float> x,
                              std::span<const double> y, std::span<const double> sample_weight,
                              int n_classes, std::uint64_t seed) {
  fit_binned(bins, every_row(bins.rows()), x, y, sample_weight, n_classes, seed);
}

// ---- fit_binned's steps ----------------------------------------------------------------------
namespace {

void check_fit_shape(const BinnedMatrix& bins, std::span<const std::int64_t> rows,
                     std::span<const double> y_all, std::span<const double> sample_weight_all,
                     int max_bins) {
  const std::int64_t n_all = bins.rows();
  if (bins.max_bins() != max_bins)
    throw InputError(
        "forest: the data was binned with max_bins=" + std::to_string(bins.max_bins()) +
        " but the model has max_bins=" + std::to_string(max_bins));
  if (static_cast<std::int64_t>(y_all.size()) != n_all)
    throw InputError("forest: " + std::to_string(n_all) + " rows but " +
                     std::to_string(y_all.size()) + " targets");
  if (!sample_weight_all.empty() && static_cast<std::int64_t>(sample_weight_all.size()) != n_all)
    throw InputError("forest: " + std::to_string(n_all) + " rows but " +
                     std::to_string(sample_weight_all.size()) + " sample weights");
  if (rows.empty()) throw InputError("forest: the training row list is empty");
  for (std::size_t p = 0; p < rows.size(); ++p)
    if (rows[p] < 0 || rows[p] >= n_all || (p > 0 && rows[p] <= rows[p - 1]))
      throw InputError("forest: training rows must be ascending, unique and in 0.." +
                       std::to_string(n_all - 1) + "; entry " + std::to_string(p) + " is " +
                       std::to_string(rows[p]));
}

// The targets and weights of the selected rows (position p: bins row rows[p]). Only these are
// gathered (8 bytes a row); the codes stay shared. Views of the inputs when every row is selected.
struct SelectedTargets {
  std::vector<double> y_copy, w_copy;
  std::span<const double> y, w;
};

SelectedTargets select_targets(std::span<const std::int64_t> rows, std::span<const double> y_all,
                               std::span<const double> w_all, bool every_row) {
  SelectedTargets out;
  if (every_row) {
    out.y = y_all;
    out.w = w_all;
    return out;
  }
  const auto gather = [&](std::span<const double> from, std::vector<double>& to) {
    to.resize(rows.size());
    for (std::size_t p = 0; p < rows.size(); ++p) to[p] = from[static_cast<std::size_t>(rows[p])];
  };
  gather(y_all, out.y_copy);
  if (!w_all.empty()) gather(w_all, out.w_copy);
  out.y = out.y_copy;
  out.w = out.w_copy;
  return out;
}

// comm: the classes present are counted over every rank's rows.
void check_targets(std::span<const double> y, std::span<const double> sample_weight,
                   bool classifier, int n_classes, Communicator* comm) {
  for (double w : sample_weight)
    if (!(w >= 0) || !std::isfinite(w))
      throw InputError("forest: sample weights must be finite and non-negative");
  if (!classifier) {
    for (double v : y)
      if (!std::isfinite(v)) throw InputError("forest: the target has a missing or infinite value");
    return;
  }
  if (n_classes < 2)
    throw InputError("forest: the target has " + std::to_string(n_classes) +
                     " class; a classifier needs at least 2");
  std::vector<std::int64_t> seen(static_cast<std::size_t>(n_classes), 0);
  for (double v : y) {
    if (!(v >= 0) || v >= n_classes || v != std::floor(v))
      throw InputError("forest: class labels must be indices 0.." + std::to_string(n_classes - 1) +
                       ", got " + std::to_string(v));
    seen[static_cast<std::size_t>(v)] = 1;
  }
  distributed::sum_over_ranks(comm, seen);
  if (std::count_if(seen.begin(), seen.end(), [](std::int64_t c) { return c > 0; }) < 2)
    throw InputError("forest: the target has one class; a classifier needs at least 2");
}

// Rows drawn per tree out of n.
std::int64_t rows_per_tree(const ForestParams& params, std::int64_t n) {
  if (!params.bootstrap || !params.max_samples) return n;
  const ForestAmount& ms = *params.max_samples;
  const std::int64_t n_draw =
      ms.is_fraction ? std::max<std::int64_t>(1, std::llround(ms.value * static_cast<double>(n)))
                     : static_cast<std::int64_t>(ms.value);
  if (n_draw > n)
    throw InputError("forest: parameter max_samples=" + std::to_string(n_draw) +
                     " is larger than the number of rows (" + std::to_string(n) + ")");
  return n_draw;
}

forest::TreeConfig tree_config(const ForestParams& params, std::int64_t n, std::int64_t d,
                               int n_classes, std::uint64_t seed) {
  forest::TreeConfig config;
  config.max_depth = params.max_depth.value_or(std::numeric_limits<std::int64_t>::max());
  config.min_samples_split = std::max<std::int64_t>(2, params.min_samples_split.resolve(n));
  config.min_samples_leaf = params.min_samples_leaf.resolve(n);
  config.max_features = params.max_features.resolve(d);
  config.max_leaf_nodes = params.max_leaf_nodes.value_or(0);
  config.min_impurity_decrease = params.min_impurity_decrease;
  config.criterion = params.criterion;
  config.n_classes = n_classes;
  config.channels = n_classes > 0 ? 1 + n_classes : 3;
  config.seed = seed;
  config.redraw_features = params.redraw_features;
  return config;
}

// Base weights per row: sample weight x class weight (unless balanced per tree).
std::vector<double> base_weights(const ForestParams& params, std::span<const double> y,
                                 std::span<const double> sample_weight, int n_classes,
                                 Communicator* comm) {
  std::vector<double> base(y.size(), 1.0);
  if (!sample_weight.empty()) std::copy(sample_weight.begin(), sample_weight.end(), base.begin());
  if (n_classes == 0 || params.class_weight == "balanced_subsample") return base;
  const std::vector<double> cw =
      forest::class_weights(params.class_weight, y, n_classes, nullptr, "forest", comm);
  for (std::size_t i = 0; i < y.size(); ++i) base[i] *= cw[static_cast<std::size_t>(y[i])];
  return base;
}

// Regression targets in fixed point: centred, scaled by a power of two so that no sum over the
// drawn rows can overflow int64. Sets config's center and scale, from every rank's rows when
// config.comm is set.
std::vector<std::int64_t> quantise_targets(std::span<const double> y,
                                           const std::vector<std::int64_t>& wq, std::int64_t n_draw,
                                           forest::TreeConfig& config) {
  const auto [lo_at, hi_at] = std::minmax_element(y.begin(), y.end());
  double lo = *lo_at, hi = *hi_at;
  double max_w = static_cast<double>(*std::max_element(wq.begin(), wq.end()));
  if (config.comm) {
    lo = -distributed::max_over_ranks(config.comm, -lo);
    hi = distributed::max_over_ranks(config.comm, hi);
    max_w = distributed::max_over_ranks(config.comm, max_w);
  }
  config.target_center = (lo + hi) / 2;
  const double half_range = std::max((hi - lo) / 2, 1e-300);
  const double budget = std::ldexp(1.0, 61) / (static_cast<double>(n_draw) * std::max(1.0, max_w));
  config.target_scale =
      std::ldexp(1.0, std::min(40, static_cast<int>(std::floor(std::log2(budget / half_range)))));
  std::vector<std::int64_t> yq(y.size());
  for (std::size_t i = 0; i < y.size(); ++i)
    yq[i] = std::llround((y[i] - config.target_center) * config.target_scale);
  return yq;
}

// Everything the trees of one fit share: the selected rows, their targets and fixed-point
// weights, the bins and the per-fit scratch.
struct FitInputs {
  const BinnedMatrix& bins;
  std::span<const std::int64_t> rows;
  std::span<const double> y;
  const ForestParams& params;
  const forest::TreeConfig& config;
  std::int64_t n_draw;
  const std::vector<double>& base;      // sample x class weights
  const std::vector<std::int64_t>& wq;  // base, fixed point
  const std::vector<std::int64_t>& yq;  // regression targets, fixed point
  distributed::RowRange range;          // the selected rows among every rank's (one process: all)
};

// Tree t's rows with a positive weight (bins row indices, ascending) and their channels in
// `channels` (indexed by bins row; others are left as they were); returns the channel sums.
std::vector<std::int64_t> tree_sample(const FitInputs& in, std::int64_t t,
                                      std::vector<std::int32_t>& tree_rows,
                                      std::vector<std::int64_t>& channels) {
  const auto n = static_cast<std::int64_t>(in.rows.size());
  const std::int64_t k = in.config.channels;
  const bool classifier = in.config.n_classes > 0;
  const std::vector<std::int32_t> counts = forest::draw_counts(
      in.config.seed, t, in.range.total, in.n_draw, in.params.bootstrap, in.range.offset, n);
  std::vector<std::int64_t> tree_wq;
  if (classifier && in.params.class_weight == "balanced_subsample") {
    const std::vector<double> tcw = forest::class_weights("balanced", in.y, in.config.n_classes,
                                                          &counts, "forest", in.config.comm);
    std::vector<double> w = in.base;
    for (std::size_t i = 0; i < w.size(); ++i) w[i] *= tcw[static_cast<std::size_t>(in.y[i])];
    tree_wq = quantise_weights(w, in.config.comm);
  }
  const std::vector<std::int64_t>& weights = tree_wq.empty() ? in.wq : tree_wq;
  tree_rows.clear();
  std::vector<std::int64_t> total(static_cast<std::size_t>(k), 0);
  for (std::int64_t p = 0; p < n; ++p) {
    const auto ui = static_cast<std::size_t>(p);
    const std::int64_t w = counts[ui] * weights[ui];
    if (w <= 0) continue;
    const std::int64_t row = in.rows[ui];
    tree_rows.push_back(static_cast<std::int32_t>(row));
    std::int64_t* ch = channels.data() + row * k;
    std::fill(ch, ch + k, 0);
    ch[0] = 1;
    if (classifier) {
      ch[1 + static_cast<std::int64_t>(in.y[ui])] = w;
    } else {
      ch[1] = w;
      ch[2] = w * in.yq[ui];
    }
    for (std::int64_t c = 0; c < k; ++c) total[static_cast<std::size_t>(c)] += ch[c];
  }
  distributed::sum_over_ranks(in.config.comm, total);
  if (total[0] == 0)
    throw InputError("forest: tree " + std::to_string(t) + " drew no row with positive weight");
  return total;
}

// One tree-growing worker's scratch: the channels by bins row, the tree's row list and the
// histogram arena, reused by every tree the worker grows.
struct TreeScratch {
  std::vector<std::int64_t> channels;
  std::vector<std::int32_t> rows;
  forest::HistArena arena;
};

// Extra host memory that concurrent trees may take for their scratch channels and codes.
constexpr std::int64_t kTreeScratchBudgetBytes = std::int64_t{1} << 30;

// How many trees grow at once. On a host-memory backend each worker grows whole trees, so the
// level loop's parallel calls run inline: a deep tree's thousands of small levels then cost no
// hand-offs between threads, which otherwise take most of a deep fit's time on few cores.
// Device backends grow one tree at a time, each level parallel on the device.
// Ranks grow one tree at a time, each level's collectives in the same order on every rank.
int tree_workers(const FitInputs& in) {
  if (!in.bins.backend().uses_host_memory() || in.config.comm) return 1;
  const std::int64_t scratch_bytes =
      in.bins.rows() * (in.config.channels * static_cast<std::int64_t>(sizeof(std::int64_t)) +
                        forest::ordered_code_stride(in.bins.backend(), in.bins));
  const std::int64_t by_memory =
      1 + kTreeScratchBudgetBytes / std::max<std::int64_t>(1, scratch_bytes);
  return static_cast<int>(
      std::min({std::int64_t{thread_count()}, in.params.n_estimators, by_memory}));
}

// Grows tree t with the worker's scratch into `tree`; returns its impurity decreases per feature.
std::vector<double> grow_one_tree(const FitInputs& in, std::int64_t t,
                                  const std::vector<std::uint8_t>& columns, TreeScratch& scratch,
                                  ForestModel& tree) {
  Backend& backend = in.bins.backend();
  const std::int64_t n_all = in.bins.rows(), k = in.config.channels;
  // Channels are indexed by bins row (the histogram primitive reads them through the row list).
  scratch.channels.resize(static_cast<std::size_t>(n_all * k));
  std::vector<std::int64_t> total = tree_sample(in, t, scratch.rows, scratch.channels);
  Buffer<std::int32_t> device_rows =
      Buffer<std::int32_t>::from_host(backend, std::span<const std::int32_t>(scratch.rows));
  DeviceVector<std::int64_t> device_channels(backend, scratch.channels);
  const forest::TreeRows tree_rows{
      device_rows.view(),
      {device_channels.view().data, n_all, k, k, Layout::kRowMajor, device_channels.view().device},
      std::move(total),
      columns.empty() ? nullptr : columns.data()};
  std::vector<double> importance(static_cast<std::size_t>(in.bins.cols()), 0.0);
  tree = forest::grow_tree(backend, in.bins, in.config, t, tree_rows, importance, scratch.arena);
  return importance;
}

// Grows every tree into `model`; returns the impurity importances (each tree's normalised, then
// their sum normalised, as scikit-learn). Trees finish in any order on several workers but are
// committed in tree order, so the model and the importances' sums do not depend on the thread
// count; a finished tree waits only until the trees before it are done.
std::vector<double> grow_forest(const FitInputs& in, ForestModel& model) {
  const std::int64_t d = in.bins.cols(), n_trees = in.params.n_estimators;
  std::vector<double> importances(static_cast<std::size_t>(d), 0.0);
  // Trees that keep their codes by row position never read the feature-major copy.
  const std::vector<std::uint8_t> columns =
      forest::ordered_code_stride(in.bins.backend(), in.bins) > 0
          ? std::vector<std::uint8_t>{}
          : forest::feature_major_codes(in.bins);
  std::mutex commit_mutex;
  std::vector<ForestModel> done(static_cast<std::size_t>(n_trees));
  std::vector<std::vector<double>> done_importance(static_cast<std::size_t>(n_trees));
  std::int64_t next_commit = 0;
  std::vector<bool> finished(static_cast<std::size_t>(n_trees), false);
  const auto commit = [&](std::int64_t t, ForestModel tree, std::vector<double> importance) {
    std::lock_guard lock(commit_mutex);
    done[static_cast<std::size_t>(t)] = std::move(tree);
    done_importance[static_cast<std::size_t>(t)] = std::move(importance);
    finished[static_cast<std::size_t>(t)] = true;
    for (; next_commit < n_trees && finished[static_cast<std::size_t>(next_commit)];
         ++next_commit) {
      const auto at = static_cast<std::size_t>(next_commit);
      model.append(done[at]);
      const std::vector<double>& imp = done_importance[at];
      const double sum = std::accumulate(imp.begin(), imp.end(), 0.0);
      if (sum > 0)
        for (std::int64_t j = 0; j < d; ++j)
          importances[static_cast<std::size_t>(j)] += imp[static_cast<std::size_t>(j)] / sum;
      done[at] = ForestModel();
      done_importance[at] = {};
    }
  };
  const int workers = tree_workers(in);
  std::vector<TreeScratch> scratch(static_cast<std::size_t>(workers));
  std::atomic<std::int64_t> next_tree{0};
  const auto work = [&](std::int64_t w) {
    for (std::int64_t t = next_tree.fetch_add(1); t < n_trees; t = next_tree.fetch_add(1)) {
      ForestModel tree;
      std::vector<double> importance =
          grow_one_tree(in, t, columns, scratch[static_cast<std::size_t>(w)], tree);
      commit(t, std::move(tree), std::move(importance));
    }
  };
  if (workers == 1)
    work(0);
  else
    parallel_for(workers, work);
  if (in.config.comm)
    spdlog::debug(
        "forest: {} trees, {} histogram collectives ({} batches reduce-scattered), {} bytes of "
        "histograms reduced each rank",
        n_trees, scratch[0].arena.reduction.collectives, scratch[0].arena.reduction.scattered,
        scratch[0].arena.reduction.bytes);
  const double sum = std::accumulate(importances.begin(), importances.end(), 0.0);
  if (sum > 0)
    for (double& v : importances) v /= sum;
  return importances;
}

// The selected rows of x: x itself when every row is selected, else gathered row-major into
// `storage` (which the view then points into).
MatrixView<const float> selected_rows(Backend& backend, MatrixView<const float> x,
                                      std::span<const std::int64_t> rows, bool every_row,
                                      std::vector<float>& storage) {
  if (every_row) return x;
  const HostMatrix host(backend, x);
  const MatrixView<const float> hx = host.view();
  const auto n = static_cast<std::int64_t>(rows.size());
  storage.resize(static_cast<std::size_t>(n * x.cols));
  for (std::int64_t p = 0; p < n; ++p)
    for (std::int64_t j = 0; j < x.cols; ++j)
      storage[static_cast<std::size_t>(p * x.cols + j)] = hx(rows[static_cast<std::size_t>(p)], j);
  return MatrixView<const float>::row_major(storage.data(), n, x.cols);
}

// Per selected row, the sum of the leaf values of the trees whose bootstrap sample left it out
// (n x value_size) and how many such trees (votes).
void out_of_bag_sums(Backend& backend, const ForestModel& model, const DeviceMatrix& xd,
                     const FitInputs& in, std::vector<double>& sums,
                     std::vector<std::int32_t>& votes) {
  const auto n = static_cast<std::int64_t>(in.rows.size());
  const std::int64_t v = model.value_size;
  sums.assign(static_cast<std::size_t>(n * v), 0.0);
  votes.assign(static_cast<std::size_t>(n), 0);
  const forest::DeviceTrees forest(backend, model);
  const ForestTrees all = forest.view(model, nullptr);
  Buffer<std::int32_t> leaves(backend, n);
  for (std::int64_t t = 0; t < model.n_trees(); ++t) {
    ForestTrees one = all;
    one.offsets = {all.offsets.data + t, 2, all.offsets.device};
    backend.forest().apply(xd.view(), one, leaves.matrix(n, 1, Layout::kRowMajor));
    const std::vector<std::int32_t> leaf = leaves.to_host();
    // This rank's rows' counts among every rank's (one process: all rows).
    const std::vector<std::int32_t> counts =
        forest::draw_counts(in.config.seed, t, in.range.total, in.n_draw, true, in.range.offset, n);
    const std::int64_t base_node = model.offsets[static_cast<std::size_t>(t)];
    for (std::int64_t i = 0; i < n; ++i) {
      if (counts[static_cast<std::size_t>(i)] != 0) continue;
      ++votes[static_cast<std::size_t>(i)];
      const double* value =
          model.values.data() + (base_node + leaf[static_cast<std::size_t>(i)]) * v;
      for (std::int64_t c = 0; c < v; ++c) sums[static_cast<std::size_t>(i * v + c)] += value[c];
    }
  }
}

// Out-of-bag accuracy (classifier) or R² (regressor) from out_of_bag_sums over every rank's
// rows; rows in every bootstrap sample have no out-of-bag prediction and are left out (NaN when
// none has one). Counts are integers and the regressor's sums exact (distributed::ExactSum), so
// the score is the same whatever the ranks.
double out_of_bag_score(const std::vector<double>& sums, const std::vector<std::int32_t>& votes,
                        std::span<const double> y, std::int64_t v, bool classifier,
                        Communicator* comm) {
  // One collective per number, taken alike on every rank (the counts are global).
  std::vector<std::int64_t> counted{0}, correct{0};
  distributed::ExactSum y_sum;
  for (std::size_t i = 0; i < votes.size(); ++i)
    if (votes[i] > 0) {
      ++counted[0];
      if (!classifier) y_sum.add(y[i]);
    }
  distributed::sum_over_ranks(comm, counted);
  if (counted[0] == 0) return std::numeric_limits<double>::quiet_NaN();
  const auto n = static_cast<double>(counted[0]);
  if (classifier) {
    for (std::size_t i = 0; i < votes.size(); ++i) {
      if (votes[i] == 0) continue;
      const double* s = sums.data() + static_cast<std::int64_t>(i) * v;
      correct[0] += static_cast<double>(std::max_element(s, s + v) - s) == y[i];
    }
    distributed::sum_over_ranks(comm, correct);
    return static_cast<double>(correct[0]) / n;
  }
  y_sum.sum_over_ranks(comm);
  const double mean_y = y_sum.value() / n;
  distributed::ExactSum ss_res, ss_tot;
  for (std::size_t i = 0; i < votes.size(); ++i) {
    if (votes[i] == 0) continue;
    const double pred = sums[i * static_cast<std::size_t>(v)] / votes[i];
    ss_res.add((y[i] - pred) * (y[i] - pred));
    ss_tot.add((y[i] - mean_y) * (y[i] - mean_y));
  }
  ss_res.sum_over_ranks(comm);
  ss_tot.sum_over_ranks(comm);
  return ss_tot.value() > 0 ? 1.0 - ss_res.value() / ss_tot.value() : 0.0;
}

}  // namespace

void RandomForest::fit_binned(const BinnedMatrix& bins, std::span<const std::int64_t> rows,
                              MatrixView<const float> x, std::span<const double> y_all,
                              std::span<const double> sample_weight_all, int n_classes,
                              std::uint64_t seed, Communicator* comm) {
  Backend& backend = bins.backend();
  if (comm && !backend.uses_host_memory())
    throw InputError("forest: a distributed fit runs on the CPU only for now (--device cpu)");
  seed = params_.random_state.value_or(seed);
  const std::int64_t d = bins.cols();
  const bool classifier = task_ == Task::kClassification;
  check_fit_shape(bins, rows, y_all, sample_weight_all, params_.max_bins);
  // From here on everything is over the selected rows: position p is bins row rows[p].
  const auto n = static_cast<std::int64_t>(rows.size());
  const bool every_row = n == bins.rows();  // ascending and unique: the identity
  const SelectedTargets sel = select_targets(rows, y_all, sample_weight_all, every_row);
  check_targets(sel.y, sel.w, classifier, n_classes, comm);
  // Counts, draws and scales are those of every rank's rows (one process: these rows).
  const distributed::RowRange range = distributed::row_range(comm, n);
  forest::TreeConfig config =
      tree_config(params_, range.total, d, classifier ? n_classes : 0, seed);
  config.comm = comm;
  if (comm) {
    config.small_node_rows = 0;
    config.scatter_min_bytes =
        environment_knob("TABULA_FOREST_SCATTER_MIN_BYTES", forest::kScatterMinBytes);
    config.overlap_batches =
        environment_knob("TABULA_FOREST_OVERLAP_BATCHES", forest::kOverlapBatches);
  }
  const std::int64_t n_draw = rows_per_tree(params_, range.total);
  const std::vector<double> base = base_weights(params_, sel.y, sel.w, config.n_classes, comm);
  const std::vector<std::int64_t> wq = quantise_weights(base, comm);
  const std::vector<std::int64_t> yq =
      classifier ? std::vector<std::int64_t>{} : quantise_targets(sel.y, wq, n_draw, config);
  const FitInputs in{bins, rows, sel.y, params_, config, n_draw, base, wq, yq, range};

  model_ = ForestModel();
  traversal_cache_ = std::make_shared<ForestTraversalCache>();
  model_.value_size = classifier ? n_classes : 1;
  n_features_ = d;
  n_classes_ = config.n_classes;
  importances_ = grow_forest(in, model_);

  oob_score_ = std::numeric_limits<double>::quiet_NaN();
  if (!params_.oob_score) return;
  if (x.rows != bins.rows() || x.cols != d)
    throw InputError("forest: oob_score needs the unbinned training rows");
  std::vector<float> gathered;
  const DeviceMatrix xd(backend, selected_rows(backend, x, rows, every_row, gathered));
  std::vector<double> sums;
  std::vector<std::int32_t> votes;
  out_of_bag_sums(backend, model_, xd, in, sums, votes);
  oob_score_ = out_of_bag_score(sums, votes, sel.y, model_.value_size, classifier, comm);
}

namespace {

/// Per row, the index of the first largest of its `width` values.
std::vector<double> argmax_rows(const std::vector<double>& values, std::int64_t rows,
                                std::int64_t width) {
  std::vector<double> out(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    const double* p = values.data() + i * width;
    out[static_cast<std::size_t>(i)] = static_cast<double>(std::max_element(p, p + width) - p);
  }
  return out;
}

const ForestModel& fitted_trees(const ForestModel& model) {
  if (model.n_trees() == 0) throw Error("forest: predict called before fit");
  return model;
}

}  // namespace

// Holds the uploaded arrays; the traversal cache (the backend's own preparation, e.g. the
// CPU's walk layout) stays with the forest, so every Resident of one forest shares it.
class RandomForest::Resident final : public ResidentEstimator {
 public:
  Resident(const RandomForest& forest, Backend& backend)
      : forest_(forest), backend_(backend), arrays_(backend, fitted_trees(forest.model_)) {
    trees_ = arrays_.view(forest.model_, forest.traversal_cache_.get());
  }

  std::vector<double> predict(MatrixView<const float> x) const override {
    std::vector<double> values = mean_values(x);
    if (forest_.task_ != Task::kClassification) return values;
    return argmax_rows(values, x.rows, forest_.model_.value_size);
  }
  std::vector<double> predict_proba(MatrixView<const float> x) const override {
    if (forest_.task_ != Task::kClassification)
      throw InputError("forest: predict_proba needs a classifier; this is a regressor");
    return mean_values(x);
  }
  /// One traversal: the classes are the argmax of the probabilities, as in predict().
  std::vector<double> predict_with_proba(MatrixView<const float> x,
                                         std::vector<double>& proba) const override {
    proba = predict_proba(x);
    return argmax_rows(proba, x.rows, forest_.model_.value_size);
  }
  std::vector<double> transform(MatrixView<const float> x) const override {
    return forest_.transform(backend_, x);  // the Estimator default: a clear error
  }

 private:
  std::vector<double> mean_values(MatrixView<const float> x) const {
    if (x.cols != forest_.n_features_)
      throw InputError("forest: the model was fitted on " + std::to_string(forest_.n_features_) +
                       " features, got " + std::to_string(x.cols));
    const std::int64_t v = forest_.model_.value_size;
    if (x.rows == 0) return {};
    const DeviceMatrix xd(backend_, x);
    Buffer<double> out(backend_, x.rows * v);
    backend_.forest().predict(xd.view(), trees_, out.matrix(x.rows, v, Layout::kRowMajor));
    return out.to_host();
  }

  const RandomForest& forest_;
  Backend& backend_;
  const forest::DeviceTrees arrays_;
  ForestTrees trees_;
};

std::unique_ptr<ResidentEstimator> RandomForest::make_resident(Backend& backend) const {
  return std::make_unique<Resident>(*this, backend);
}

std::int64_t RandomForest::array_uploads() { return forest::device_tree_uploads(); }

std::vector<double> RandomForest::predict(Backend& backend, MatrixView<const float> x) const {
  return Resident(*this, backend).predict(x);
}

std::vector<double> RandomForest::predict_with_proba(Backend& backend, MatrixView<const float> x,
                                                     std::vector<double>& proba) const {
  return Resident(*this, backend).predict_with_proba(x, proba);
}

std::vector<double> RandomForest::predict_proba(Backend& backend, MatrixView<const float> x) const {
  return Resident(*this, backend).predict_proba(x);
}

std::vector<std::int32_t> RandomForest::apply(Backend& backend, MatrixView<const float> x) const {
  if (model_.n_trees() == 0) throw Error("forest: apply called before fit");
  if (x.cols != n_features_)
    throw InputError("forest: the model was fitted on " + std::to_string(n_features_) +
                     " features, got " + std::to_string(x.cols));
  if (x.rows == 0) return {};
  const DeviceMatrix xd(backend, x);
  const forest::DeviceTrees forest(backend, model_);
  Buffer<std::int32_t> out(backend, x.rows * model_.n_trees());
  const ForestTrees trees = forest.view(model_, traversal_cache_.get());
  backend.forest().apply(xd.view(), trees, out.matrix(x.rows, model_.n_trees(), Layout::kRowMajor));
  return out.to_host();
}

void RandomForest::save(ArtifactWriter& out) const {
  if (model_.n_trees() == 0) throw Error("forest: save called before fit");
  nlohmann::json meta;
  meta["task"] = task_ == Task::kClassification ? "classification" : "regression";
  meta["n_features"] = n_features_;
  meta["n_classes"] = n_classes_;
  meta["value_size"] = model_.value_size;
  meta["oob_score"] = std::isnan(oob_score_) ? nlohmann::json(nullptr) : nlohmann::json(oob_score_);
  meta["params"] = params_.to_json();
  out.set("forest", meta);
  forest::write_trees(out, "forest", model_);
  out.add("forest.feature_importances", std::span<const double>(importances_), {n_features_});
}

namespace {

/// Every count and index of a loaded forest against the others, so that no damaged or crafted
/// file can send traversal or the output buffers out of bounds. Children come after their
/// parent inside the same tree, so every tree is acyclic and every walk ends.
void validate_forest(const ForestModel& m, Task task, std::int64_t n_features,
                     std::int64_t n_classes, std::int64_t n_importances) {
  using namespace artifact;
  expect_range("forest.n_features", n_features, 1, std::numeric_limits<std::int32_t>::max());
  expect_size("forest.feature_importances", n_importances, n_features,
              "the forest has " + std::to_string(n_features) + " features");
  if (task == Task::kClassification) {
    expect_range("forest.n_classes", n_classes, 2, std::numeric_limits<std::int32_t>::max());
    expect_size("forest.value_size", m.value_size, n_classes,
                "a classifier has one value per class (" + std::to_string(n_classes) + ")");
  } else {
    expect_range("forest.n_classes", n_classes, 0, 0);
    expect_size("forest.value_size", m.value_size, 1, "a regressor has 1 value per node");
  }
  forest::validate_trees(m, "forest", n_features);
}

}  // namespace

void RandomForest::load(const ArtifactReader& in) {
  if (!in.header().contains("forest")) artifact::field_error("forest", "missing");
  const nlohmann::json& meta = in.header()["forest"];
  const Task task = meta.at("task") == "classification" ? Task::kClassification : Task::kRegression;
  if (task != task_)
    artifact::field_error("forest.task",
                          "a " + meta.at("task").get<std::string>() + " forest, expected a " +
                              (task_ == Task::kClassification ? "classification" : "regression") +
                              " forest");
  ParamMap params = models::param_map(meta.at("params"));
  // Artifacts written before redraw_features existed grew their trees without redraws.
  params.try_emplace("redraw_features", "false");
  ForestModel model = forest::read_trees(
      in, "forest", artifact::integer(meta.at("value_size"), "forest.value_size"));
  const std::int64_t n_features = artifact::integer(meta.at("n_features"), "forest.n_features");
  const std::int64_t n_classes = artifact::integer(meta.at("n_classes"), "forest.n_classes");
  std::vector<double> importances = in.doubles("forest.feature_importances");
  validate_forest(model, task_, n_features, n_classes,
                  static_cast<std::int64_t>(importances.size()));
  artifact::expect_finite("forest.feature_importances", importances);
  params_ = ForestParams::parse(params, task_);
  model_ = std::move(model);
  traversal_cache_ = std::make_shared<ForestTraversalCache>();
  n_features_ = n_features;
  n_classes_ = static_cast<int>(n_classes);
  importances_ = std::move(importances);
  oob_score_ = meta.at("oob_score").is_null() ? std::numeric_limits<double>::quiet_NaN()
                                              : meta.at("oob_score").get<double>();
}

nlohmann::json RandomForest::summary() const {
  nlohmann::json s;
  s["model"] = name();
  s["n_estimators"] = model_.n_trees();
  s["n_features_in_"] = n_features_;
  if (task_ == Task::kClassification) s["n_classes_"] = n_classes_;
  std::int64_t min_depth = std::numeric_limits<std::int64_t>::max(), max_depth = 0, leaves = 0;
  double mean_depth = 0;
  for (std::int64_t t = 0; t < model_.n_trees(); ++t) {
    const std::int64_t dt = model_.depth(t);
    min_depth = std::min(min_depth, dt);
    max_depth = std::max(max_depth, dt);
    mean_depth += static_cast<double>(dt);
    leaves += model_.leaves(t);
  }
  if (model_.n_trees() > 0) {
    s["depth"] = {{"min", min_depth},
                  {"mean", mean_depth / static_cast<double>(model_.n_trees())},
                  {"max", max_depth}};
    s["leaves"] = {{"total", leaves},
                   {"mean", static_cast<double>(leaves) / static_cast<double>(model_.n_trees())}};
  }
  s["nodes"] = model_.n_nodes();
  s["feature_importances_"] = importances_;
  s["oob_score_"] = std::isnan(oob_score_) ? nlohmann::json(nullptr) : nlohmann::json(oob_score_);
  s["params"] = params_.to_json();
  return s;
}

}  // namespace tabula

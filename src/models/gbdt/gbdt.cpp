// HistGradientBoostingClassifier / HistGradientBoostingRegressor: the boosting loop, early
// stopping, prediction and the model file. Trees grow in gbdt_tree.cpp; losses in gbdt_loss.cpp.
#include "tabula/models/gbdt/gbdt.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include "artifact/validate.hpp"
#include "backend/forest_math.hpp"
#include "distributed/reduce.hpp"
#include "distributed/select.hpp"
#include "models/forest/forest_builder.hpp"
#include "models/forest/tree_arrays.hpp"
#include "models/gbdt/gbdt_categorical.hpp"
#include "models/gbdt/gbdt_loss.hpp"
#include "models/gbdt/gbdt_tree.hpp"
#include "models/linear/solve_params.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"
#include "tabula/models/row_passes.hpp"

namespace tabula {
namespace {

constexpr const char* kModel = "gbdt";
// Stream of the validation split's random draws (counter_random), apart from the forest's.
constexpr std::uint64_t kValidationStream = 0x56616C6964617465ull;
// Rows per traversal chunk in prediction: the leaf indices of a chunk (rows x trees int32)
// stay within this many entries.
constexpr std::int64_t kLeafChunkEntries = std::int64_t{1} << 24;
// The same on host backends, per parallel block (and its packed values): 256 KB, in L2.
constexpr std::int64_t kHostLeafBlockEntries = std::int64_t{1} << 16;

// Row indices of the training and validation parts: a seeded shuffle (per class for a
// classifier, as scikit-learn stratifies) with round(fraction * count) rows to validation.
// Both lists ascending. Over ranks (`comm`; y: this rank's rows, the ranks' rows in rank order)
// every rank shuffles each group's positions over every rank's rows, as one process does, and
// keeps its own rows: the parts are the one-process parts, split among the ranks. The shuffle
// costs every rank O(rows) time and 8 bytes a row of the largest group.
void split_rows(std::span<const double> y, bool stratify, double fraction, std::uint64_t seed,
                std::vector<std::int64_t>& train, std::vector<std::int64_t>& validation,
                Communicator* comm) {
  const auto n = static_cast<std::int64_t>(y.size());
  const auto group_of = [&](std::int64_t i) {
    return stratify ? static_cast<std::size_t>(y[static_cast<std::size_t>(i)]) : 0;
  };
  std::int64_t groups = 1;
  if (stratify)
    groups = static_cast<std::int64_t>(distributed::max_over_ranks(
                 comm, n > 0 ? *std::max_element(y.begin(), y.end()) : 0.0)) +
             1;
  // Every rank's count per group (rank-major), so each rank knows where its rows of a group
  // start among the group's rows.
  const int ranks = comm != nullptr ? comm->size() : 1, rank = comm != nullptr ? comm->rank() : 0;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(ranks * groups), 0);
  for (std::int64_t i = 0; i < n; ++i)
    ++counts[static_cast<std::size_t>(rank * groups) + group_of(i)];
  distributed::sum_over_ranks(comm, counts);
  std::vector<std::int64_t> next(static_cast<std::size_t>(groups), 0);  // this rank's position
  std::vector<std::vector<char>> to_validation(static_cast<std::size_t>(groups));
  std::uint64_t counter = 0;
  for (std::int64_t g = 0; g < groups; ++g) {
    std::int64_t size = 0;
    for (int r = 0; r < ranks; ++r) {
      if (r == rank) next[static_cast<std::size_t>(g)] = size;
      size += counts[static_cast<std::size_t>(r * groups + g)];
    }
    std::vector<std::int64_t> order(static_cast<std::size_t>(size));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    for (std::int64_t i = size - 1; i > 0; --i) {
      const std::uint64_t r = forest::counter_random(seed, kValidationStream, counter++);
      std::swap(order[static_cast<std::size_t>(i)],
                order[static_cast<std::size_t>(
                    forest::uniform_below(r, static_cast<std::uint64_t>(i + 1)))]);
    }
    const auto take = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(size)));
    std::vector<char>& marks = to_validation[static_cast<std::size_t>(g)];
    marks.assign(static_cast<std::size_t>(size), 0);
    for (std::int64_t q = 0; q < take; ++q) marks[static_cast<std::size_t>(order[q])] = 1;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t g = group_of(i);
    (to_validation[g][static_cast<std::size_t>(next[g]++)] ? validation : train).push_back(i);
  }
}

// The rows `rows` of x as a dense row-major host matrix, and their targets and weights.
struct Part {
  std::vector<float> x;
  std::vector<double> y, w;
  std::int64_t rows = 0;
  MatrixView<const float> view(std::int64_t d) const {
    return MatrixView<const float>::row_major(x.data(), rows, d);
  }
};

Part gather(const FitData& data, const std::vector<std::int64_t>& rows) {
  Part part;
  const std::int64_t d = data.x.cols;
  part.rows = static_cast<std::int64_t>(rows.size());
  part.x.resize(static_cast<std::size_t>(part.rows * d));
  for (std::size_t p = 0; p < rows.size(); ++p) {
    for (std::int64_t j = 0; j < d; ++j)
      part.x[p * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)] = data.x(rows[p], j);
    part.y.push_back(data.y[static_cast<std::size_t>(rows[p])]);
    if (!data.sample_weight.empty())
      part.w.push_back(data.sample_weight[static_cast<std::size_t>(rows[p])]);
  }
  return part;
}

// scikit-learn's rule: stop when none of the last n_iter_no_change scores beats the one before
// them by more than tol (scores: higher is better, the baseline's first).
bool should_stop(const std::vector<double>& scores, std::int64_t n_iter_no_change, double tol) {
  const auto reference = static_cast<std::size_t>(n_iter_no_change + 1);
  if (scores.size() < reference) return false;
  const double bar = scores[scores.size() - reference] + tol;
  return std::none_of(scores.end() - static_cast<std::ptrdiff_t>(reference) + 1, scores.end(),
                      [&](double s) { return s > bar; });
}

void check_fit_data(const FitData& data, Task task) {
  if (static_cast<std::int64_t>(data.y.size()) != data.x.rows)
    throw InputError("gbdt: " + std::to_string(data.x.rows) + " rows of features but " +
                     std::to_string(data.y.size()) + " targets");
  if (!data.sample_weight.empty() &&
      static_cast<std::int64_t>(data.sample_weight.size()) != data.x.rows)
    throw InputError("gbdt: " + std::to_string(data.x.rows) + " rows but " +
                     std::to_string(data.sample_weight.size()) + " sample weights");
  for (double w : data.sample_weight)
    if (!(w >= 0) || !std::isfinite(w))
      throw InputError("gbdt: sample weights must be finite and non-negative");
  if (task == Task::kClassification) {
    if (data.n_classes < 2)
      throw InputError("gbdt: a classifier needs at least two classes in the target; got " +
                       std::to_string(data.n_classes) +
                       (data.n_classes == 1 ? " class" : " classes"));
    for (double v : data.y)
      if (!(v >= 0 && v < data.n_classes && v == std::floor(v)))
        throw InputError("gbdt: class indices must be 0.." + std::to_string(data.n_classes - 1));
    return;
  }
  for (double v : data.y)
    if (!std::isfinite(v)) throw InputError("gbdt: the target has a missing or infinite value");
}

}  // namespace

// ---- HistGradientBoosting -----------------------------------------------------------------

HistGradientBoosting::HistGradientBoosting(Task task, GbdtParams params)
    : task_(task), params_(std::move(params)) {}

std::string HistGradientBoosting::name() const {
  return task_ == Task::kClassification ? "gbdt-classifier" : "gbdt-regressor";
}

namespace {

// One fit's state: the binned training rows, the raw scores of the training (and validation)
// rows, and the growing trees.
struct Boosting {
  gbdt::LossData train, validation;
  std::vector<double> raw_train, raw_validation;
  std::vector<std::uint8_t> validation_codes;  // host, validation rows x d
  bool use_validation = false;
};

// `data` with its sample weights multiplied by the class weights (held in `weighted`), as
// scikit-learn applies class_weight to all rows before the validation split.
FitData with_class_weights(const GbdtParams& p, const FitData& data,
                           std::vector<double>& weighted) {
  if (p.class_weight.empty()) return data;
  const std::vector<double> cw =
      forest::class_weights(p.class_weight, data.y, data.n_classes, nullptr, kModel, data.comm);
  weighted.resize(data.y.size());
  for (std::size_t i = 0; i < weighted.size(); ++i)
    weighted[i] = (data.sample_weight.empty() ? 1.0 : data.sample_weight[i]) *
                  cw[static_cast<std::size_t>(data.y[i])];
  FitData out = data;
  out.sample_weight = weighted;
  return out;
}

// absolute_error's leaf value (scikit-learn's): the weighted median of y - raw over the leaf's
// training rows, raw as before this tree. Over ranks (unit weights: the baseline refuses
// others) the median of every rank's rows of the leaf, selected exactly.
std::function<double(std::span<const std::int32_t>)> median_residual(const Boosting& b,
                                                                     Communicator* comm) {
  return [&b, comm](std::span<const std::int32_t> rows) {
    std::vector<double> residual(rows.size()), weight;
    for (std::size_t p = 0; p < rows.size(); ++p) {
      const auto i = static_cast<std::size_t>(rows[p]);
      residual[p] = b.train.y[i] - b.raw_train[i];
      if (!b.train.weight.empty()) weight.push_back(b.train.weight[i]);
    }
    if (comm != nullptr) return distributed::median_over_ranks(comm, residual);
    return gbdt::weighted_median(std::move(residual), weight);
  };
}

// What a fit over ranks does not do yet, refused alike on every rank (weighted absolute_error
// is refused where its leaf medians are computed, in gbdt_loss.cpp).
void check_distributed(const FitData& data, Backend& backend) {
  if (data.comm == nullptr) return;
  if (!backend.uses_host_memory())
    throw InputError("gbdt over ranks: fits on the CPU only; pass --device cpu");
}

// Which columns are categorical, and their code counts (checked on every row of the fit).
struct Categories {
  std::vector<std::uint8_t> flags;
  std::vector<std::int32_t> counts;
  bool any = false;
};

Categories categories(const GbdtParams& p, const FitData& data) {
  Categories c;
  c.flags = gbdt::resolve_categorical(p.categorical_features, data);
  c.any = std::find(c.flags.begin(), c.flags.end(), 1) != c.flags.end();
  if (c.any) c.counts = gbdt::category_counts(data.x, c.flags, data, p.max_bins);
  if (c.any && data.comm != nullptr) {  // every rank's largest code
    std::vector<double> counts(c.counts.begin(), c.counts.end());
    distributed::max_over_ranks(data.comm, counts);
    for (std::size_t j = 0; j < counts.size(); ++j)
      c.counts[j] = static_cast<std::int32_t>(counts[j]);
  }
  return c;
}

// The categories the training rows of every rank showed (gbdt::known_categories of each
// rank's rows, united).
std::vector<std::uint8_t> known_categories(MatrixView<const float> x,
                                           const std::vector<std::int32_t>& counts,
                                           Communicator* comm) {
  std::vector<std::uint8_t> known = gbdt::known_categories(x, counts);
  if (comm == nullptr || comm->size() == 1) return known;
  const std::string mine(known.begin(), known.end());
  for (const std::string& theirs : comm->all_gather(mine)) {
    if (theirs.size() != mine.size())
      throw Error("gbdt: a rank sent category sets of another size");
    for (std::size_t i = 0; i < known.size(); ++i) known[i] |= static_cast<std::uint8_t>(theirs[i]);
  }
  return known;
}

gbdt::GrowConfig grow_config(const GbdtParams& p, std::int64_t d, std::uint64_t seed) {
  gbdt::GrowConfig c;
  c.max_leaf_nodes = p.max_leaf_nodes.value_or(0);
  c.max_depth = p.max_depth.value_or(0);
  c.min_samples_leaf = p.min_samples_leaf;
  c.l2_regularization = p.l2_regularization;
  c.learning_rate = p.learning_rate;
  c.max_features = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(p.max_features * static_cast<double>(d))), 1, d);
  c.seed = seed;
  return c;
}

}  // namespace

// long: the boosting loop reads as scikit-learn's fit: split, bin, baseline, then per iteration
// gradients, one tree per raw score, the validation scores and the stopping rule.
void HistGradientBoosting::fit(Backend& backend, const FitData& given) {
  check_fit_data(given, task_);
  check_distributed(given, backend);
  std::vector<double> weighted;
  const FitData data = with_class_weights(params_, given, weighted);
  const bool classifier = task_ == Task::kClassification;
  const std::int64_t d = data.x.cols;
  const std::int64_t k = classifier && data.n_classes > 2 ? data.n_classes : 1;
  const std::uint64_t seed = params_.random_state.value_or(data.seed);
  const bool early =
      params_.early_stopping_on(distributed::row_range(data.comm, data.x.rows).total);
  std::vector<std::int64_t> train_rows, validation_rows;
  if (early && params_.validation_fraction)
    split_rows(data.y, classifier, *params_.validation_fraction, seed, train_rows, validation_rows,
               data.comm);
  std::vector<std::int64_t> part_rows{static_cast<std::int64_t>(validation_rows.size()),
                                      static_cast<std::int64_t>(train_rows.size())};
  distributed::sum_over_ranks(data.comm, part_rows);  // every rank's
  const bool split = part_rows[0] > 0 && part_rows[1] > 0;
  Part train_part, validation_part;
  if (split) {
    train_part = gather(data, train_rows);
    validation_part = gather(data, validation_rows);
  }
  MatrixView<const float> x = split ? train_part.view(d) : data.x;
  // Categorical columns: codes checked on every row, then anything but a code seen in training
  // is missing, in the training and validation parts alike.
  const Categories cats = categories(params_, data);
  std::vector<float> coded_train, coded_validation;
  if (cats.any) {
    coded_train = gbdt::codes_or_missing(x, cats.counts);
    x = MatrixView<const float>::row_major(coded_train.data(), x.rows, d);
    if (split) coded_validation = gbdt::codes_or_missing(validation_part.view(d), cats.counts);
  }
  const BinnedMatrix bins =
      BinnedMatrix::build(backend, x, params_.max_bins + 1,
                          cats.any ? cats.counts : std::vector<std::int32_t>{}, data.comm);
  const std::int64_t n = bins.rows();

  Boosting b;
  b.train = {params_.loss, k, split ? std::span<const double>(train_part.y) : data.y,
             split ? std::span<const double>(train_part.w) : data.sample_weight};
  if (split) {
    b.validation = {params_.loss, k, validation_part.y, validation_part.w};
    const BinnedMatrix vb = BinnedMatrix::build(
        backend,
        cats.any
            ? MatrixView<const float>::row_major(coded_validation.data(), validation_part.rows, d)
            : validation_part.view(d),
        bins);
    b.validation_codes.resize(static_cast<std::size_t>(vb.rows() * d));
    backend.copy_to_host(b.validation_codes.data(), vb.codes().data, b.validation_codes.size());
  }
  baseline_ = gbdt::baseline(b.train, data.comm);
  b.raw_train.resize(static_cast<std::size_t>(n * k));
  for (std::int64_t i = 0; i < n * k; ++i)
    b.raw_train[static_cast<std::size_t>(i)] = baseline_[static_cast<std::size_t>(i % k)];
  b.raw_validation.resize(static_cast<std::size_t>(validation_part.rows * k));
  for (std::size_t i = 0; i < b.raw_validation.size(); ++i)
    b.raw_validation[i] = baseline_[i % static_cast<std::size_t>(k)];
  const auto score = [&] {
    return split ? -gbdt::mean_loss(b.validation, b.raw_validation, data.comm)
                 : -gbdt::mean_loss(b.train, b.raw_train, data.comm);
  };

  gbdt::GrowConfig config = grow_config(params_, d, seed);
  config.comm = data.comm;
  if (cats.any) {
    config.category_counts = cats.counts;
    config.known_categories = known_categories(x, cats.counts, data.comm);
  }
  trees_ = ForestModel{};
  validation_scores_.clear();
  if (early) validation_scores_.push_back(score());
  std::vector<double> grad_hess, largest;
  gbdt::FitRows rows(backend, bins, true, data.comm);
  std::int64_t iter = 0;
  while (iter < params_.max_iter) {
    gbdt::gradients(b.train, b.raw_train, grad_hess, &largest);
    for (std::int64_t c = 0; c < k; ++c) {
      gbdt::TreeInput input = rows.quantise(grad_hess, k, c, largest);
      if (params_.loss == GbdtLoss::kAbsoluteError)
        input.leaf_value = median_residual(b, data.comm);
      const gbdt::GrownTree grown =
          gbdt::grow_tree(backend, bins, config, iter * k + c, rows, input, b.raw_train, k, c);
      if (split) gbdt::add_tree_by_codes(grown, b.validation_codes, d, b.raw_validation, k, c);
      trees_.append(grown.tree);
    }
    ++iter;
    if (!early) continue;
    validation_scores_.push_back(score());
    if (should_stop(validation_scores_, params_.n_iter_no_change, params_.tol)) break;
  }
  n_iter_ = iter;
  trees_per_iteration_ = k;
  n_features_ = d;
  n_classes_ = classifier ? data.n_classes : 0;
  is_categorical_ = cats.any ? cats.flags : std::vector<std::uint8_t>{};
  traversal_cache_ = std::make_shared<ForestTraversalCache>();
}

// ---- prediction --------------------------------------------------------------------------

std::vector<double> HistGradientBoosting::decision_function(Backend& backend,
                                                            MatrixView<const float> x) const {
  if (n_iter_ == 0) throw Error("gbdt: predict called before fit");
  if (x.cols != n_features_)
    throw InputError("gbdt: the model was fitted on " + std::to_string(n_features_) +
                     " features, got " + std::to_string(x.cols));
  const std::int64_t k = trees_per_iteration_, t = trees_.n_trees();
  std::vector<double> raw(static_cast<std::size_t>(x.rows * k));
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = baseline_[i % static_cast<std::size_t>(k)];
  if (x.rows == 0) return raw;
  const forest::DeviceTrees arrays(backend, trees_);
  const ForestTrees view = arrays.view(trees_, traversal_cache_.get());
  // Rows first .. first + rows of x, row-major (a column-major block is packed into `dense`).
  const auto block_of = [&](std::int64_t first, std::int64_t rows, std::vector<float>& dense) {
    const MatrixView<const float> part{
        x.data + x.offset(first, 0), rows, x.cols, x.stride, x.layout, x.device};
    return x.is_row_major() ? part : dense_rows(part, dense);
  };
  // Each row's leaf values (leaves: rows x t, host) added to its raw scores in tree order, so
  // the sums do not depend on how the rows are blocked.
  const auto add_leaves = [&](std::int64_t first, std::int64_t rows, const std::int32_t* leaves) {
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t tree = 0; tree < t; ++tree)
        raw[static_cast<std::size_t>((first + i) * k + tree % k)] +=
            trees_.values[static_cast<std::size_t>(trees_.offsets[static_cast<std::size_t>(tree)] +
                                                   leaves[i * t + tree])];
  };
  if (backend.uses_host_memory()) {
    // Blocks whose leaf indices (and a column-major x's packed values) stay in cache, each
    // walked and added up by one thread (apply runs serially inside a task): the chunked path
    // below zeroed, faulted in and copied up to 64 MB of indices and added them on one thread
    // (diamonds' 43,152 training rows x 300 trees, scored for the Python fit's profile: ~15%
    // of a one-thread fit).
    const std::int64_t block =
        std::max<std::int64_t>(1, kHostLeafBlockEntries / std::max(t, x.cols));
    parallel_blocks(x.rows, block, [&](std::int64_t first, std::int64_t end) {
      thread_local std::vector<float> dense;
      thread_local std::vector<std::int32_t> leaves;
      const std::int64_t rows = end - first;
      leaves.resize(static_cast<std::size_t>(rows * t));
      backend.forest().apply(block_of(first, rows, dense), view,
                             MatrixView<std::int32_t>::row_major(leaves.data(), rows, t));
      add_leaves(first, rows, leaves.data());
    });
    return raw;
  }
  const std::int64_t chunk = std::max<std::int64_t>(1, kLeafChunkEntries / t);
  std::vector<float> dense;
  for (std::int64_t first = 0; first < x.rows; first += chunk) {
    const std::int64_t rows = std::min(chunk, x.rows - first);
    const DeviceMatrix xd(backend, block_of(first, rows, dense));
    Buffer<std::int32_t> leaves(backend, rows * t);
    backend.forest().apply(xd.view(), view, leaves.matrix(rows, t, Layout::kRowMajor));
    add_leaves(first, rows, leaves.to_host().data());
  }
  return raw;
}

std::vector<double> HistGradientBoosting::predict(Backend& backend,
                                                  MatrixView<const float> x) const {
  if (task_ != Task::kClassification) return decision_function(backend, x);
  std::vector<double> proba;
  return predict_with_proba(backend, x, proba);
}

std::vector<double> HistGradientBoosting::predict_proba(Backend& backend,
                                                        MatrixView<const float> x) const {
  if (task_ != Task::kClassification)
    throw InputError("gbdt: predict_proba needs a classifier; this is a regressor");
  return gbdt::probabilities(decision_function(backend, x), trees_per_iteration_, n_classes_);
}

std::vector<double> HistGradientBoosting::predict_with_proba(Backend& backend,
                                                             MatrixView<const float> x,
                                                             std::vector<double>& proba) const {
  proba = predict_proba(backend, x);
  std::vector<double> out(static_cast<std::size_t>(x.rows));
  for (std::int64_t i = 0; i < x.rows; ++i) {
    const double* p = proba.data() + i * n_classes_;
    out[static_cast<std::size_t>(i)] = static_cast<double>(std::max_element(p, p + n_classes_) - p);
  }
  return out;
}

// ---- model file ----------------------------------------------------------------------------

namespace {

// is_categorical_ as scikit-learn exposes it: None when no column is categorical.
nlohmann::json categorical_json(const std::vector<std::uint8_t>& flags) {
  if (flags.empty()) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  for (std::uint8_t f : flags) out.push_back(f != 0);
  return out;
}

std::vector<std::uint8_t> read_categorical(const nlohmann::json& fitted, std::int64_t n_features) {
  std::vector<std::uint8_t> flags;
  if (!fitted.contains("is_categorical_") || fitted.at("is_categorical_").is_null()) return flags;
  const nlohmann::json& list = fitted.at("is_categorical_");
  if (!list.is_array())
    artifact::field_error("fitted.is_categorical_", "must be null or a list of true/false");
  artifact::expect_size("fitted.is_categorical_", static_cast<std::int64_t>(list.size()),
                        n_features, "one flag per input column");
  for (const nlohmann::json& f : list) {
    if (!f.is_boolean())
      artifact::field_error("fitted.is_categorical_", "must be null or a list of true/false");
    flags.push_back(f.get<bool>() ? 1 : 0);
  }
  return flags;
}

// A split is categorical exactly when its feature is: a set on a numeric column, or a threshold
// on codes, is no model this code fits.
void check_category_splits(const ForestModel& trees, const std::vector<std::uint8_t>& flags) {
  for (std::size_t g = 0; g < trees.feature.size(); ++g) {
    const std::int32_t f = trees.feature[g];
    if (f < 0) continue;
    const bool set = trees.has_category_splits() && trees.category_set[g] >= 0;
    const bool categorical = !flags.empty() && flags[static_cast<std::size_t>(f)] != 0;
    if (set != categorical)
      artifact::field_error(
          "gbdt.category_set",
          "node " + std::to_string(g) + " splits " + (categorical ? "categorical" : "numeric") +
              " feature " + std::to_string(f) + (set ? " by a category set" : " by a threshold"));
  }
}

}  // namespace

void HistGradientBoosting::save(ArtifactWriter& out) const {
  if (n_iter_ == 0) throw Error("model 'gbdt' is not fitted");
  forest::write_trees(out, "gbdt", trees_);
  out.add("gbdt.baseline", std::span<const double>(baseline_), {trees_per_iteration_});
  out.set("fitted", {{"estimator", name()},
                     {"task", to_string(task_)},
                     {"params", params()},
                     {"n_features_in_", n_features_},
                     {"n_classes", n_classes_},
                     {"n_iter_", n_iter_},
                     {"n_trees_per_iteration_", trees_per_iteration_},
                     {"validation_score_", validation_scores_},
                     {"is_categorical_", categorical_json(is_categorical_)}});
}

void HistGradientBoosting::load(const ArtifactReader& in) {
  using namespace artifact;
  const nlohmann::json& fitted = in.fitted(name());
  GbdtParams params;
  try {
    params = GbdtParams::parse(models::param_map(fitted.at("params")), task_);
  } catch (const InputError& e) {
    field_error("fitted.params", e.what());
  }
  const std::int64_t n_features = integer(fitted.at("n_features_in_"), "fitted.n_features_in_");
  const std::int64_t n_classes = integer(fitted.at("n_classes"), "fitted.n_classes");
  const std::int64_t n_iter = integer(fitted.at("n_iter_"), "fitted.n_iter_");
  const std::int64_t k =
      integer(fitted.at("n_trees_per_iteration_"), "fitted.n_trees_per_iteration_");
  expect_range("fitted.n_features_in_", n_features, 1, std::numeric_limits<std::int32_t>::max());
  if (task_ == Task::kClassification) {
    expect_range("fitted.n_classes", n_classes, 2, std::numeric_limits<std::int32_t>::max());
    expect_size("fitted.n_trees_per_iteration_", k, n_classes > 2 ? n_classes : 1,
                "one tree per class per iteration, one for two classes");
  } else {
    expect_range("fitted.n_classes", n_classes, 0, 0);
    expect_size("fitted.n_trees_per_iteration_", k, 1, "a regressor grows one tree per iteration");
  }
  expect_range("fitted.n_iter_", n_iter, 1, params.max_iter);
  ForestModel trees = forest::read_trees(in, "gbdt", 1);
  forest::validate_trees(trees, "gbdt", n_features);
  expect_size("gbdt.offsets", trees.n_trees(), checked_product("gbdt.offsets", n_iter, k),
              "n_iter_ x n_trees_per_iteration_ trees");
  std::vector<double> baseline = in.doubles("gbdt.baseline");
  expect_size("gbdt.baseline", static_cast<std::int64_t>(baseline.size()), k,
              "one baseline per tree of an iteration");
  expect_finite("gbdt.baseline", baseline);
  std::vector<std::uint8_t> categorical = read_categorical(fitted, n_features);
  check_category_splits(trees, categorical);
  std::vector<double> scores;
  if (fitted.contains("validation_score_") && fitted.at("validation_score_").is_array())
    for (const nlohmann::json& s : fitted.at("validation_score_"))
      if (s.is_number()) scores.push_back(s.get<double>());
  params_ = std::move(params);
  trees_ = std::move(trees);
  baseline_ = std::move(baseline);
  n_features_ = n_features;
  n_classes_ = static_cast<int>(n_classes);
  n_iter_ = n_iter;
  trees_per_iteration_ = k;
  validation_scores_ = std::move(scores);
  is_categorical_ = std::move(categorical);
  traversal_cache_ = std::make_shared<ForestTraversalCache>();
}

nlohmann::json HistGradientBoosting::summary() const {
  nlohmann::json s;
  s["model"] = name();
  s["n_iter_"] = n_iter_;
  s["n_trees_per_iteration_"] = trees_per_iteration_;
  s["n_features_in_"] = n_features_;
  if (task_ == Task::kClassification) s["n_classes_"] = n_classes_;
  std::int64_t leaves = 0, max_depth = 0;
  for (std::int64_t t = 0; t < trees_.n_trees(); ++t) {
    leaves += trees_.leaves(t);
    max_depth = std::max(max_depth, trees_.depth(t));
  }
  s["trees"] = trees_.n_trees();
  s["leaves"] = {{"total", leaves},
                 {"mean", trees_.n_trees() > 0
                              ? static_cast<double>(leaves) / static_cast<double>(trees_.n_trees())
                              : 0.0}};
  s["max_depth"] = max_depth;
  s["baseline_prediction_"] = baseline_;
  s["validation_score_"] = validation_scores_;
  s["is_categorical_"] = categorical_json(is_categorical_);
  s["params"] = params();
  return s;
}

}  // namespace tabula

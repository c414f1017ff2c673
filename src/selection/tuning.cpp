// The search driver: data once, test set first, folds, candidates checked up front, trials
// (journalled), ranking, refit of the best, outputs.
#include "tabula/selection/tuning.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <set>

#include "artifact/fnv1a.hpp"
#include "io/atomic_file.hpp"
#include "selection/cv_eval.hpp"
#include "selection/folder_lock.hpp"
#include "selection/journal.hpp"
#include "selection/tuning_output.hpp"
#include "selection/utc_now.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/models/forest/forest.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/scoring/predictor.hpp"
#include "tabula/selection/model_selection.hpp"
#include "tabula/training/training.hpp"
#include "tabula/version.hpp"

namespace tabula {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The data file's fingerprint: FNV-1a of each 16 MiB chunk (chunks hashed in parallel: data
/// files can be large), then FNV-1a over the chunk hashes and the size.
std::uint64_t file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError("cannot read " + path);
  const auto size = static_cast<std::int64_t>(in.tellg());
  constexpr std::int64_t kChunk = 16 << 20;
  const std::int64_t chunks = (size + kChunk - 1) / kChunk;
  std::vector<std::uint64_t> hashes(static_cast<std::size_t>(chunks));
  parallel_for(chunks, [&](std::int64_t c) {
    std::ifstream part(path, std::ios::binary);
    part.seekg(c * kChunk);
    std::vector<char> bytes(static_cast<std::size_t>(std::min(kChunk, size - c * kChunk)));
    part.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (part.gcount() != static_cast<std::streamsize>(bytes.size()))
      throw InputError("cannot read " + path);
    hashes[static_cast<std::size_t>(c)] = detail::fnv1a64(bytes.data(), bytes.size());
  });
  std::uint64_t h = detail::fnv1a64(hashes.data(), hashes.size() * sizeof(std::uint64_t));
  return detail::fnv1a64(&size, sizeof size, h);
}

constexpr std::string_view kPipelinePrefix = "pipeline.";

/// The model's own parameters of a candidate (without the pipeline.* entries).
ParamMap model_params(const ParamMap& candidate) {
  ParamMap out;
  for (const auto& [k, v] : candidate)
    if (!k.starts_with(kPipelinePrefix)) out[k] = v;
  return out;
}

/// The candidate's pipeline: `base` with its pipeline.* entries applied. InputError naming an
/// unknown pipeline parameter or a bad value.
PipelineSpec candidate_pipeline(const PipelineSpec& base, const ParamMap& candidate) {
  PipelineOverrides o;
  bool any = false;
  for (const auto& [k, v] : candidate) {
    if (!k.starts_with(kPipelinePrefix)) continue;
    const std::string field = k.substr(kPipelinePrefix.size());
    std::string* slot = field == "impute"           ? &o.impute
                        : field == "scale"          ? &o.scale
                        : field == "encode"         ? &o.encode
                        : field == "handle_unknown" ? &o.handle_unknown
                        : field == "min_frequency"  ? &o.min_frequency
                        : field == "max_categories" ? &o.max_categories
                                                    : nullptr;
    if (!slot)
      throw InputError("--param '" + k +
                       "': unknown pipeline parameter (known: pipeline.impute, pipeline.scale, "
                       "pipeline.encode, pipeline.handle_unknown, pipeline.min_frequency, "
                       "pipeline.max_categories)");
    *slot = v;
    any = true;
  }
  return any ? apply_overrides(base, o) : base;
}

/// True when the pipeline's fitted state does not depend on the rows it is fitted on (only
/// passthrough branches): its output is computed once for every row and shared by all folds.
/// Branches that select by a type the table does not have are ignored (they select nothing).
bool row_independent(const PipelineSpec& spec, const Dataset& data) {
  if (!spec.after.empty()) return false;
  for (const BranchSpec& b : spec.branches) {
    if (b.steps.empty()) continue;
    if (b.columns.names.empty() && b.columns.type &&
        std::none_of(data.columns.begin(), data.columns.end(),
                     [&](const Column& c) { return c.type == *b.columns.type; }))
      continue;
    return false;
  }
  return true;
}

bool is_forest(const std::string& model) {
  return model == "forest" || model == "forest-classifier" || model == "forest-regressor";
}

/// The StandardScaler a pipeline applies before a least-squares model, when the pipeline is
/// one the shared-statistics path reproduces exactly (numeric columns by type, imputer and/or
/// standard scaler, no missing values, no categorical columns): {center, scale}. Otherwise
/// nullopt and `why` says what prevents it.
std::optional<std::pair<bool, bool>> least_squares_scaling(const PipelineSpec& spec,
                                                           const std::string& table_note,
                                                           std::string* why) {
  if (!spec.after.empty()) {
    *why = "the pipeline has steps after the branches";
    return std::nullopt;
  }
  std::optional<std::pair<bool, bool>> out;
  bool numeric_branch = false;
  for (const BranchSpec& b : spec.branches) {
    if (!b.columns.names.empty() || !b.columns.type) {
      *why = "a pipeline branch selects columns by name";
      return std::nullopt;
    }
    if (*b.columns.type == ColumnType::kCategorical) continue;  // checked below: no such columns
    if (numeric_branch) {
      *why = "two numeric branches";
      return std::nullopt;
    }
    numeric_branch = true;
    std::pair<bool, bool> scaling{false, false};
    for (const StepSpec& step : b.steps) {
      if (step.kind == "SimpleImputer") continue;  // identity without missing values
      if (step.kind != "StandardScaler") {
        *why = "pipeline step " + step.kind + " is not covered by the shared statistics";
        return std::nullopt;
      }
      auto flag = [&](const char* key) {
        auto it = step.params.find(key);
        return it == step.params.end() ||
               (it->second != "false" && it->second != "False" && it->second != "0");
      };
      scaling = {flag("with_mean"), flag("with_std")};
    }
    out = scaling;
  }
  if (!table_note.empty()) {
    *why = table_note;
    return std::nullopt;
  }
  if (!numeric_branch) {
    *why = "no numeric branch";
    return std::nullopt;
  }
  return out;
}

/// Removes column `name` from the features and returns it (InputError when absent).
Column take_column(Dataset& data, const std::string& name, const char* option,
                   bool missing_ok = false) {
  const std::optional<std::int64_t> index = data.find(name);
  if (!index) throw InputError(data.source + ": no column '" + name + "' (" + option + ")");
  Column c = std::move(data.columns[static_cast<std::size_t>(*index)]);
  data.columns.erase(data.columns.begin() + *index);
  if (!missing_ok && c.missing_count() > 0)
    throw InputError(data.source + ": column '" + name + "' (" + option + ") has " +
                     std::to_string(c.missing_count()) + " missing value(s)");
  return c;
}

/// A sort key per row: the value, or the category code (categories are sorted by bytes, so
/// ISO dates order correctly).
double key_of(const Column& c, std::int64_t row) {
  return c.type == ColumnType::kNumeric ? c.numeric[static_cast<std::size_t>(row)]
                                        : c.codes[static_cast<std::size_t>(row)];
}

/// Group ids 0.. of `rows` of the group column, numbered in order of first appearance.
std::vector<std::int64_t> group_ids(const Column& c, std::span<const std::int64_t> rows) {
  std::map<double, std::int64_t> ids;
  std::vector<std::int64_t> groups(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    groups[i] =
        ids.try_emplace(key_of(c, rows[i]), static_cast<std::int64_t>(ids.size())).first->second;
  return groups;
}

std::string canonical_scheme(const TuneOptions& o, Task task) {
  if (o.scheme != "auto") return o.scheme;
  if (!o.time_column.empty()) return "time";
  if (!o.group_column.empty()) return "group";
  return task == Task::kClassification ? "stratified" : "kfold";
}

/// The fit-time progress bar on stderr: trials done, best so far, ETA.
class Progress {
 public:
  Progress(bool enabled, std::int64_t total) : enabled_(enabled), total_(total) {}
  ~Progress() {
    if (enabled_ && drawn_) std::fputs("\n", stderr);
  }
  void update(std::int64_t done, double best) {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    const double elapsed = seconds_since(start_);
    const int width = 30;
    const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
    const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : 0.0;
    std::fprintf(stderr, "\r[%s%s] %lld/%lld trials  best %s  ETA %02d:%02d ",
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_),
                 std::isfinite(best) ? fmt::format("{:.5g}", best).c_str() : "-",
                 static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  bool enabled_;
  std::int64_t total_;
  bool drawn_ = false;
  std::mutex mutex_;
  Clock::time_point start_ = Clock::now();
};

/// Ranking order: higher mean of the deciding metric first (NaN last), then trial index.
bool ranks_before(const TrialResult& a, const TrialResult& b) {
  const double ma = a.mean(0), mb = b.mean(0);
  const bool fa = std::isfinite(ma), fb = std::isfinite(mb);
  if (fa != fb) return fa;
  if (fa && ma != mb) return ma > mb;
  return a.trial < b.trial;
}

}  // namespace

double TrialResult::mean(std::size_t metric) const {
  if (metric >= scores.size() || scores[metric].empty()) return kNaN;
  double s = 0.0;
  for (double v : scores[metric]) s += v;
  return s / static_cast<double>(scores[metric].size());
}

double TrialResult::stdev(std::size_t metric) const {
  const double m = mean(metric);
  if (!std::isfinite(m)) return kNaN;
  double s = 0.0;
  for (double v : scores[metric]) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(scores[metric].size()));
}

TuneResult tune(Backend& backend, const TuneOptions& options) {
  const auto start = Clock::now();
  if (options.data_path.empty()) throw InputError("tune: --data is required");
  if (options.target.empty()) throw InputError("tune: --target is required");
  if (options.model.empty()) throw InputError("tune: --model is required");
  if (options.out_dir.empty()) throw InputError("tune: --out DIR is required");
  if (!(options.test_size >= 0.0 && options.test_size < 1.0))
    throw InputError("--test-size must be in [0, 1), got " + std::to_string(options.test_size));
  if (options.factor < 2) throw InputError("--factor must be at least 2");
  if (options.jobs < 1) throw InputError("--jobs must be at least 1");

  // ---- Space and candidates (before reading data: a bad space fails fast) ----
  const SearchSpace space = SearchSpace::parse(options.space);
  std::vector<ParamMap> candidates;
  if (options.search == SearchKind::kRandom ||
      (options.search == SearchKind::kHalving &&
       std::any_of(space.dims.begin(), space.dims.end(),
                   [](const ParamDimension& d) { return d.kind != ParamDimension::Kind::kList; })))
    candidates = space.sample(options.n_iter, options.seed);
  else
    candidates = space.grid();
  for (ParamMap& c : candidates)
    for (const auto& [k, v] : options.fixed)
      if (!c.count(k)) c[k] = v;
  const bool halving = options.search == SearchKind::kHalving;
  if (halving && options.halving_resource != "rows" && options.halving_resource != "n_estimators")
    throw InputError("--resource must be rows or n_estimators, got '" + options.halving_resource +
                     "'");
  if (halving && options.halving_resource == "n_estimators")
    for (const ParamDimension& d : space.dims)
      if (d.name == "n_estimators")
        throw InputError(
            "--resource n_estimators: n_estimators is the resource; remove it from "
            "the space (its maximum comes from --fixed n_estimators, default 100)");

  // ---- Data, parsed once ----
  Dataset data = io::read_csv(options.data_path, training_csv_options(options.target));
  for (const std::string& name : options.drop_columns)
    take_column(data, name, "--drop-columns", true);
  std::optional<Column> group_col, time_col;
  if (!options.group_column.empty())
    group_col = take_column(data, options.group_column, "--group-column");
  if (!options.time_column.empty())
    time_col = take_column(data, options.time_column, "--time-column");
  if (data.columns.empty()) throw InputError(data.source + ": no feature columns");

  const TaskChoice choice = choose_task(options.model, &*data.target, options.task);
  if (choice.task == Task::kTransform)
    throw InputError("model '" + options.model + "' is a transform; tune needs a predictor");
  spdlog::info("task: {} ({})", to_string(choice.task), choice.reason);
  const Task task = choice.task;
  const PipelineSpec base_pipeline = options.pipeline.is_null()
                                         ? PipelineSpec::defaults(options.model)
                                         : PipelineSpec::from_json(options.pipeline, "pipeline");
  // Every candidate is constructed now: an unknown parameter or a bad value fails before work.
  std::vector<PipelineSpec> pipelines;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    ParamMap p = model_params(candidates[i]);
    if (halving && options.halving_resource == "n_estimators") p["n_estimators"] = "1";
    try {
      TABULA_ASSERT(make_estimator(options.model, p, task)->task() == task,
                    "the registry gave a model of another task");
      pipelines.push_back(candidate_pipeline(base_pipeline, candidates[i]));
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + " (trial " + std::to_string(i) + ")");
    }
  }

  // ---- Metrics: one decides, all must fit the task ----
  std::vector<std::string> metric_names;
  metric_names.push_back(!options.metric.empty()         ? options.metric
                         : task == Task::kClassification ? "accuracy"
                                                         : "r2");
  for (const std::string& m : options.metrics)
    if (std::find(metric_names.begin(), metric_names.end(), m) == metric_names.end())
      metric_names.push_back(m);
  for (const std::string& m : metric_names) {
    const metrics::Scorer& s = metrics::scorer(m);
    const bool fits =
        (s.task == metrics::ScorerTask::kClassification) == (task == Task::kClassification);
    if (!fits)
      throw InputError(
          "metric '" + m + "' is a " +
          (s.task == metrics::ScorerTask::kClassification ? "classification" : "regression") +
          " metric; model '" + options.model + "' does " + std::string(to_string(task)));
  }

  ModelSchema schema;
  std::vector<std::string> result_notes;
  const Column& target = *data.target;
  if (target.missing_count() > 0)
    throw InputError(data.source + ": target column '" + target.name + "' has " +
                     std::to_string(target.missing_count()) + " missing value(s)");
  const std::vector<double> y = encode_target(target, task, schema);
  if (task == Task::kClassification) spell_labels_as_written(options.data_path, schema);
  const int n_classes =
      task == Task::kClassification ? static_cast<int>(schema.class_labels.size()) : 0;
  if (task == Task::kClassification && n_classes < 2)
    throw InputError(data.source + ": target column '" + target.name + "' holds a single class");
  const std::int64_t n = data.rows();

  // ---- Held-out test set first: the search never sees it ----
  std::vector<std::int64_t> pool_rows, test_rows;  // pool: the rows the scheme splits
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (time_col) {
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return key_of(*time_col, a) < key_of(*time_col, b);
    });
    const std::int64_t n_test =
        options.test_size > 0 ? static_cast<std::int64_t>(std::ceil(options.test_size * n)) : 0;
    if (n_test >= n) throw InputError("--test-size leaves no rows to search on");
    pool_rows.assign(order.begin(), order.end() - n_test);
    test_rows.assign(order.end() - n_test, order.end());
  } else if (options.test_size > 0 && group_col) {
    // Whole groups are held out, so no group is both searched on and tested on.
    const TrainTestSplit split =
        group_train_test_split(group_ids(*group_col, order), options.test_size, options.seed);
    pool_rows = split.train;
    test_rows = split.test;
  } else if (options.test_size > 0) {
    const TrainTestSplit split =
        task == Task::kClassification
            ? stratified_train_test_split(y, n_classes, options.test_size, options.seed)
            : train_test_split(n, options.test_size, options.seed);
    pool_rows = split.train;
    test_rows = split.test;
  } else {
    pool_rows = order;
  }

  // ---- The scheme on the rest; positions map to pool rows ----
  const std::string scheme = canonical_scheme(options, task);
  const auto n_pool = static_cast<std::int64_t>(pool_rows.size());
  std::vector<Fold> folds;
  if (scheme == "kfold") {
    folds = kfold(n_pool, options.folds, options.shuffle, options.seed);
  } else if (scheme == "stratified") {
    if (task != Task::kClassification)
      throw InputError("--scheme stratified needs a classification target");
    std::vector<double> classes(pool_rows.size());
    for (std::size_t i = 0; i < pool_rows.size(); ++i) classes[i] = y[pool_rows[i]];
    folds = stratified_kfold(classes, options.folds, options.shuffle, options.seed);
  } else if (scheme == "group") {
    if (!group_col) throw InputError("--scheme group needs --group-column");
    folds = group_kfold(group_ids(*group_col, pool_rows), options.folds);
  } else if (scheme == "time") {
    if (!time_col) throw InputError("--scheme time needs --time-column");
    folds = time_series_split(n_pool, options.folds, options.gap);
  } else if (scheme == "repeated") {
    folds = repeated_kfold(n_pool, options.folds, options.repeats, options.seed);
  } else {
    throw InputError("--scheme must be auto, kfold, stratified, group, time or repeated, got '" +
                     scheme + "'");
  }
  for (Fold& f : folds) {
    for (auto& r : f.train) r = pool_rows[static_cast<std::size_t>(r)];
    for (auto& r : f.test) r = pool_rows[static_cast<std::size_t>(r)];
    if (scheme != "time") {
      std::sort(f.train.begin(), f.train.end());
      std::sort(f.test.begin(), f.test.end());
    }
  }

  // ---- The shared-statistics path for least squares, where it reproduces the pipeline ----
  std::string fast_note;
  std::vector<std::pair<bool, bool>> scaling(candidates.size());
  bool use_ls =
      options.fast_path && (options.model == "ridge" || options.model == "linear") && !halving;
  // What in the table itself rules the shared path out (checked once, not per candidate).
  std::string table_note;
  for (const Column& c : data.columns) {
    if (!use_ls) break;
    if (c.type == ColumnType::kCategorical) {
      table_note = "categorical column '" + c.name + "': plain per-fold fits";
      break;
    }
    if (c.missing_count() > 0) {
      table_note = "missing values in column '" + c.name + "': plain per-fold fits (imputation)";
      break;
    }
  }
  for (std::size_t i = 0; use_ls && i < candidates.size(); ++i) {
    for (const auto& [k, v] : model_params(candidates[i]))
      if (k != "alpha" && k != "fit_intercept") {
        fast_note = "parameter '" + k + "' is not covered by the shared statistics";
        use_ls = false;
      }
    if (!use_ls) break;
    const auto sc = least_squares_scaling(pipelines[i], table_note, &fast_note);
    if (!sc)
      use_ls = false;
    else
      scaling[i] = *sc;
  }
  if (!fast_note.empty()) result_notes.push_back("shared statistics not used: " + fast_note);
  std::vector<float> x_raw;
  if (use_ls) x_raw = data.numeric_matrix_row_major();

  // ---- Encoders: a row-independent pipeline is applied once to every row; any other is
  // fitted on each training fold ----
  std::mutex cache_mutex;
  std::map<std::string, std::shared_ptr<const selection::FoldMatrices>> full_cache;
  auto encoder_for = [&](const PipelineSpec& spec) -> selection::FoldEncoder {
    if (row_independent(spec, data)) {
      std::shared_ptr<const selection::FoldMatrices> all;
      {
        std::lock_guard lock(cache_mutex);
        auto& slot = full_cache[spec.to_json().dump()];
        if (!slot) {
          Pipeline p(spec);
          p.fit(backend, data, pool_rows);
          auto m = std::make_shared<selection::FoldMatrices>();
          m->train = p.transform(backend, data);
          m->cols = p.n_outputs();
          slot = m;
        }
        all = slot;
      }
      return [all, n](std::span<const std::int64_t> train, std::span<const std::int64_t> test) {
        const auto view = MatrixView<const float>::row_major(all->train.data(), n, all->cols);
        return selection::FoldMatrices{selection::gather_rows(view, train),
                                       selection::gather_rows(view, test), all->cols};
      };
    }
    return [&backend, &data, spec](std::span<const std::int64_t> train,
                                   std::span<const std::int64_t> test) {
      Pipeline p(spec);
      p.fit(backend, data, train);
      return selection::FoldMatrices{p.transform(backend, data, train),
                                     p.transform(backend, data, test), p.n_outputs()};
    };
  };

  // Forests: one binning of the pool rows per (pipeline, max_bins), shared by every fold and
  // trial. The edges see the validation folds' feature values (never their labels).
  std::map<std::string, std::unique_ptr<selection::SharedBins>> bins_cache;
  std::vector<std::unique_ptr<BinnedMatrix>> bins_owned;
  std::vector<std::unique_ptr<std::vector<float>>> pool_matrices;
  auto shared_bins_for = [&](const PipelineSpec& spec,
                             const ParamMap& params) -> const selection::SharedBins* {
    if (!options.fast_path || !is_forest(options.model) || !row_independent(spec, data))
      return nullptr;
    const int max_bins = ForestParams::parse(params, task).max_bins;
    std::lock_guard lock(cache_mutex);
    auto& slot = bins_cache[spec.to_json().dump() + "#" + std::to_string(max_bins)];
    if (!slot) {
      Pipeline p(spec);
      p.fit(backend, data, pool_rows);
      auto x_pool = std::make_unique<std::vector<float>>(p.transform(backend, data, pool_rows));
      const std::int64_t cols = p.n_outputs();
      const auto view = MatrixView<const float>::row_major(
          x_pool->data(), static_cast<std::int64_t>(pool_rows.size()), cols);
      bins_owned.push_back(
          std::make_unique<BinnedMatrix>(BinnedMatrix::build(backend, view, max_bins)));
      auto shared = std::make_unique<selection::SharedBins>();
      shared->bins = bins_owned.back().get();
      shared->x = view;
      shared->position.assign(static_cast<std::size_t>(n), -1);
      for (std::size_t i = 0; i < pool_rows.size(); ++i) {
        shared->position[static_cast<std::size_t>(pool_rows[i])] = static_cast<std::int64_t>(i);
        shared->y.push_back(y[static_cast<std::size_t>(pool_rows[i])]);
      }
      pool_matrices.push_back(std::move(x_pool));
      slot = std::move(shared);
    }
    return slot.get();
  };

  selection::CvData cv;
  cv.x = MatrixView<const float>::row_major(x_raw.data(), use_ls ? n : 0, use_ls ? data.cols() : 0);
  cv.y = y;
  cv.task = task;
  cv.n_classes = n_classes;
  cv.folds = folds;
  cv.metrics = metric_names;

  // ---- Journal: the fingerprint of everything that decides the results ----
  std::filesystem::create_directories(options.out_dir);
  const selection::FolderLock folder_lock(options.out_dir);  // held until the outputs are in
  nlohmann::json identity = {{"data_hash", fmt::format("{:016x}", file_hash(options.data_path))},
                             {"target", options.target},
                             {"model", options.model},
                             {"space", options.space},
                             {"fixed", options.fixed},
                             {"search", static_cast<int>(options.search)},
                             {"n_iter", options.n_iter},
                             {"resource", options.halving_resource},
                             {"factor", options.factor},
                             {"scheme", scheme},
                             {"folds", options.folds},
                             {"repeats", options.repeats},
                             {"shuffle", options.shuffle},
                             {"gap", options.gap},
                             {"group", options.group_column},
                             {"drop", options.drop_columns},
                             {"time", options.time_column},
                             {"test_size", options.test_size},
                             {"metrics", metric_names},
                             {"seed", options.seed},
                             {"task", std::string(to_string(task))},
                             {"fast_path", options.fast_path},
                             {"pipeline", base_pipeline.to_json()}};
  const std::string fingerprint = fmt::format("fnv1a64:{:016x}", [&] {
    const std::string text = identity.dump();
    return detail::fnv1a64(text.data(), text.size());
  }());
  const std::string journal_path =
      (std::filesystem::path(options.out_dir) / "journal.jsonl").string();
  selection::JournalCheck journal_check{fingerprint, {}, folds.size(), metric_names};
  for (const ParamMap& candidate : candidates) {
    ParamMap& searched = journal_check.candidates.emplace_back();
    for (const ParamDimension& dim : space.dims) searched[dim.name] = candidate.at(dim.name);
  }
  selection::Journal journal(journal_path, std::move(journal_check));

  TuneResult result;
  result.task = task;
  result.metric_names = metric_names;
  result.notes = result_notes;
  if (journal.discarded_other())
    result.notes.push_back("the journal held another search's trials; they were dropped");
  if (!journal.rejected().empty())
    result.notes.push_back(fmt::format(
        "{} journal line(s) not believed (edited, corrupted or inconsistent); their trials ran "
        "again",
        journal.rejected().size()));

  // ---- Rounds (one, unless successive halving) ----
  std::int64_t max_trees = 100;
  if (auto it = options.fixed.find("n_estimators"); it != options.fixed.end())
    max_trees = std::stoll(it->second);
  std::int64_t min_train = n_pool;
  for (const Fold& f : folds) min_train = std::min<std::int64_t>(min_train, f.train.size());

  int n_rounds = 1;
  if (halving) {
    while (std::pow(options.factor, n_rounds) <= static_cast<double>(candidates.size())) ++n_rounds;
    // The smallest round keeps a usable number of rows (or trees).
    const double smallest = options.halving_resource == "rows" ? 20.0 / min_train : 1.0 / max_trees;
    while (n_rounds > 1 && std::pow(options.factor, -(n_rounds - 1)) < smallest) --n_rounds;
  }
  result.candidates = static_cast<std::int64_t>(candidates.size());
  std::int64_t planned = 0;
  {
    double alive = static_cast<double>(candidates.size());
    for (int r = 0; r < n_rounds; ++r) {
      planned += static_cast<std::int64_t>(alive);
      alive = std::ceil(alive / options.factor);
    }
  }
  Progress progress(options.progress && ::isatty(2), planned);
  std::atomic<std::int64_t> done{0};
  double best_so_far = kNaN;
  std::mutex best_mutex;

  std::vector<std::int64_t> alive(candidates.size());
  std::iota(alive.begin(), alive.end(), 0);
  std::vector<TrialResult> round_results;
  for (int round = 0; round < n_rounds && !result.stopped_by_budget; ++round) {
    const double fraction = halving ? std::pow(options.factor, -(n_rounds - 1 - round)) : 1.0;
    const bool tree_resource = halving && options.halving_resource == "n_estimators";
    const std::int64_t trees =
        std::max<std::int64_t>(1, std::llround(static_cast<double>(max_trees) * fraction));
    const std::int64_t resource = !halving        ? 0
                                  : tree_resource ? trees
                                                  : std::llround(std::ceil(fraction * min_train));
    std::vector<TrialResult> slots(alive.size());
    std::vector<char> have(alive.size(), 0);
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < alive.size(); ++i) {
      auto it = journal.finished().find({round, alive[i]});
      if (it != journal.finished().end()) {
        slots[i] = it->second;
        have[i] = 1;
        ++result.resumed;
        ++done;
      } else {
        pending.push_back(i);
      }
    }
    auto finish = [&](std::size_t i, selection::FoldScores scores, const char* path) {
      TrialResult& t = slots[i];
      t.trial = alive[i];
      t.round = round;
      t.resource = resource;
      for (const ParamDimension& dim : space.dims)
        t.params[dim.name] = candidates[alive[i]].at(dim.name);
      t.scores = std::move(scores.scores);
      t.fit_seconds = scores.fit_seconds;
      t.score_seconds = scores.score_seconds;
      t.path = path;
      journal.append(t);
      have[i] = 1;
      {
        std::lock_guard lock(best_mutex);
        const double m = t.mean(0);
        if (std::isfinite(m) && !(m <= best_so_far)) best_so_far = m;
      }
      progress.update(++done, best_so_far);
    };
    auto over_budget = [&] {
      return options.time_budget > 0 && seconds_since(start) >= options.time_budget;
    };
    if (use_ls && !pending.empty() && !halving) {
      if (over_budget()) {
        result.stopped_by_budget = true;
      } else {
        std::vector<selection::LeastSquaresTrial> trials;
        for (std::size_t i : pending) {
          const std::unique_ptr<Estimator> e =
              make_estimator(options.model, model_params(candidates[alive[i]]), task);
          const nlohmann::json p = e->params();
          const auto [center, scale] = scaling[static_cast<std::size_t>(alive[i])];
          trials.push_back(
              {p.value("alpha", 0.0), p.at("fit_intercept").get<bool>(), center, scale});
        }
        std::vector<selection::FoldScores> scores =
            selection::cv_least_squares(backend, cv, trials);
        for (std::size_t k = 0; k < pending.size(); ++k)
          finish(pending[k], std::move(scores[k]), "ridge-stats");
      }
    } else {
      auto run_one = [&](std::size_t i) {
        if (over_budget()) return;
        ParamMap p = model_params(candidates[alive[i]]);
        if (tree_resource) p["n_estimators"] = std::to_string(trees);
        const PipelineSpec& spec = pipelines[static_cast<std::size_t>(alive[i])];
        if (const selection::SharedBins* shared = shared_bins_for(spec, p)) {
          finish(i,
                 selection::cv_forest_shared(backend, cv, *shared, options.model, p, task,
                                             options.seed, tree_resource ? 1.0 : fraction),
                 "shared-bins");
          return;
        }
        finish(i,
               selection::cv_plain(backend, cv, encoder_for(spec), options.model, p, task,
                                   options.seed, tree_resource ? 1.0 : fraction),
               "plain");
      };
      if (options.jobs > 1) {
        for (std::size_t b = 0; b < pending.size(); b += static_cast<std::size_t>(options.jobs)) {
          const std::size_t e =
              std::min(pending.size(), b + static_cast<std::size_t>(options.jobs));
          parallel_for(static_cast<std::int64_t>(e - b),
                       [&](std::int64_t k) { run_one(pending[b + static_cast<std::size_t>(k)]); });
        }
      } else {
        for (std::size_t i : pending) run_one(i);
      }
    }
    round_results.clear();
    for (std::size_t i = 0; i < alive.size(); ++i)
      if (have[i])
        round_results.push_back(slots[i]);
      else
        result.stopped_by_budget = true;
    std::sort(round_results.begin(), round_results.end(), ranks_before);
    if (round + 1 < n_rounds && !result.stopped_by_budget) {
      for (const TrialResult& t : round_results) result.earlier_rounds.push_back(t);
      const auto keep = static_cast<std::size_t>(
          std::ceil(static_cast<double>(round_results.size()) / options.factor));
      alive.clear();
      for (std::size_t k = 0; k < keep; ++k) alive.push_back(round_results[k].trial);
      std::sort(alive.begin(), alive.end());
    }
  }
  result.leaderboard = round_results;
  if (result.leaderboard.empty() && !result.earlier_rounds.empty()) {
    result.leaderboard = result.earlier_rounds;
    result.earlier_rounds.clear();
  }

  // ---- Baseline: the dummy model over the same folds ----
  {
    // Features do not matter to a dummy model: gather from whatever is cheapest.
    const selection::FoldEncoder features = [&](std::span<const std::int64_t> train,
                                                std::span<const std::int64_t> test) {
      return selection::FoldMatrices{std::vector<float>(train.size(), 0.0f),
                                     std::vector<float>(test.size(), 0.0f), 1};
    };
    const selection::FoldScores b =
        selection::cv_plain(backend, cv, features, "dummy", {}, task, options.seed);
    result.baseline.trial = -1;
    result.baseline.params = {{"model", "dummy"}};
    result.baseline.scores = b.scores;
    result.baseline.fit_seconds = b.fit_seconds;
    result.baseline.score_seconds = b.score_seconds;
    result.baseline.path = "plain";
  }
  if (result.stopped_by_budget)
    result.notes.push_back(fmt::format("--time-budget {}s spent: {} of {} trials finished",
                                       options.time_budget, done.load(), planned));

  // ---- Refit the best on every non-test row, score it once on the test set ----
  nlohmann::json info;
  info["model"] = options.model;
  info["task"] = std::string(to_string(task));
  info["metric"] = metric_names[0];
  info["metrics"] = metric_names;
  info["search"] = halving ? "halving" : options.search == SearchKind::kRandom ? "random" : "grid";
  info["space"] = nlohmann::json::array();
  for (const ParamDimension& dim : space.dims) info["space"].push_back(dim.describe());
  info["fixed"] = options.fixed;
  info["seed"] = options.seed;
  info["candidates"] = result.candidates;
  info["trials_planned"] = planned;
  info["trials_finished"] = done.load();
  info["resumed"] = result.resumed;
  info["stopped_by_budget"] = result.stopped_by_budget;
  info["fingerprint"] = fingerprint;
  info["path"] = use_ls                        ? "ridge-stats"
                 : !result.leaderboard.empty() ? result.leaderboard.front().path
                                               : "plain";
  info["pipeline"] = base_pipeline.to_json();
  if (!fast_note.empty()) info["path_note"] = fast_note;
  nlohmann::json fold_sizes = nlohmann::json::array();
  for (const Fold& f : folds) fold_sizes.push_back({f.train.size(), f.test.size()});
  info["scheme"] = {{"kind", scheme},
                    {"folds", options.folds},
                    {"shuffle", options.shuffle},
                    {"fold_sizes", fold_sizes},
                    {"test_rows", test_rows.size()},
                    {"search_rows", pool_rows.size()},
                    {"test_split", time_col                        ? "latest by time"
                                   : options.test_size == 0        ? "none"
                                   : task == Task::kClassification ? "stratified"
                                                                   : "shuffled"}};
  if (scheme == "repeated") info["scheme"]["repeats"] = options.repeats;
  info["baseline"] = {
      {"model", "dummy"}, {"mean", result.baseline.mean(0)}, {"std", result.baseline.stdev(0)}};
  if (!std::isfinite(result.baseline.mean(0))) info["baseline"]["mean"] = nullptr;
  info["notes"] = result.notes;

  std::unique_ptr<Estimator> best_model;
  std::unique_ptr<Pipeline> best_pipeline;
  if (!result.leaderboard.empty()) {
    const TrialResult& best = result.leaderboard.front();
    ParamMap p = model_params(candidates[static_cast<std::size_t>(best.trial)]);
    if (halving && options.halving_resource == "n_estimators")
      p["n_estimators"] = std::to_string(best.resource);
    best_model = make_estimator(options.model, p, task);
    best_pipeline = std::make_unique<Pipeline>(pipelines[static_cast<std::size_t>(best.trial)]);
    best_pipeline->fit(backend, data, pool_rows);
    for (const std::string& note : best_pipeline->notes()) result.notes.push_back(note);
    const std::int64_t d = best_pipeline->n_outputs();
    const std::vector<float> x_fit = best_pipeline->transform(backend, data, pool_rows);
    std::vector<double> y_fit(pool_rows.size());
    for (std::size_t i = 0; i < pool_rows.size(); ++i) y_fit[i] = y[pool_rows[i]];
    FitData fit;
    fit.x = MatrixView<const float>::row_major(x_fit.data(), n_pool, d);
    fit.y = y_fit;
    fit.n_classes = n_classes;
    fit.seed = options.seed;
    best_model->fit(backend, fit);
    info["best"] = {{"trial", best.trial},
                    {"params", best.params},
                    {"mean", best.mean(0)},
                    {"std", best.stdev(0)}};
    if (!test_rows.empty()) {
      const std::vector<float> x_test = best_pipeline->transform(backend, data, test_rows);
      std::vector<double> y_test(test_rows.size());
      for (std::size_t i = 0; i < test_rows.size(); ++i) y_test[i] = y[test_rows[i]];
      const auto view = MatrixView<const float>::row_major(
          x_test.data(), static_cast<std::int64_t>(test_rows.size()), d);
      const Predictor predictor(backend, *best_model, best_pipeline.get());
      const std::vector<double> pred = predictor.predict(view);
      std::vector<double> proba;
      if (task == Task::kClassification) {
        try {
          proba = predictor.predict_proba(view);
        } catch (const Error&) {
          proba.clear();
        }
      }
      const std::vector<double> s = selection::score_fold(cv, y_test, pred, proba);
      result.test_metrics = nlohmann::json::object();
      for (std::size_t m = 0; m < s.size(); ++m)
        result.test_metrics[metric_names[m]] =
            std::isfinite(s[m]) ? nlohmann::json(s[m]) : nlohmann::json();
      if (std::isfinite(s[0])) result.test_score = s[0];
      info["test"] = result.test_metrics;
    }
  }

  // ---- Outputs: all complete under temporary names, then renamed together ----
  const std::filesystem::path dir(options.out_dir);
  detail::PendingFiles outputs;
  outputs.add((dir / "leaderboard.csv").string(), selection::leaderboard_csv(result));
  outputs.add((dir / "leaderboard.json").string(),
              selection::leaderboard_json(result, info).dump(2) + "\n");
  outputs.add((dir / "report.html").string(), selection::report_html(result, info));
  if (best_model) {
    nlohmann::json training = {{"data_file", options.data_path},
                               {"data_fingerprint", identity["data_hash"]},
                               {"rows", n},
                               {"rows_train", n_pool},
                               {"rows_test", test_rows.size()},
                               {"seed", options.seed},
                               {"task_reason", choice.reason},
                               {"library_version", kVersion},
                               {"trained_at", utc_now()},
                               {"device", backend.device().to_string()}};
    nlohmann::json summary = info;
    nlohmann::json top = nlohmann::json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(10, result.leaderboard.size()); ++i) {
      const TrialResult& t = result.leaderboard[i];
      top.push_back(
          {{"trial", t.trial}, {"params", t.params}, {"mean", t.mean(0)}, {"std", t.stdev(0)}});
    }
    summary["top"] = top;
    training["search"] = summary;
    if (!result.test_metrics.is_null()) training["metrics"] = {{"model", result.test_metrics}};
    result.model_path = (dir / "model.tabula").string();
    schema.features.clear();
    for (const auto& [name, type] : best_pipeline->input_columns())
      schema.features.push_back({name, type});
    save_model(outputs.reserve(result.model_path), *best_model, *best_pipeline, schema, training);
  }
  outputs.commit();
  return result;
}

}  // namespace tabula

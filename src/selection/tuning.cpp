// The search driver, in the order of docs/tuning.md: everything checked before any fit, the data
// prepared once (as train prepares it), the test rows held out, the folds, the trials (the
// strategy proposes, the runner evaluates), the baseline, the refit of the best and the outputs.
#include "tabula/selection/tuning.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "selection/candidates.hpp"
#include "selection/cv_eval.hpp"
#include "selection/cv_least_squares.hpp"
#include "selection/folder_lock.hpp"
#include "selection/journal.hpp"
#include "selection/mlflow_tracking.hpp"
#include "selection/search_identity.hpp"
#include "selection/search_report.hpp"
#include "selection/search_rounds.hpp"
#include "selection/search_scheme.hpp"
#include "selection/shared_work.hpp"
#include "selection/spread_trials.hpp"
#include "selection/trial_runner.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"
#include "tabula/evaluation/evaluation.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/models/registry.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/scoring/predictor.hpp"
#include "training/data_fingerprint.hpp"
#include "training/labelled_table.hpp"

namespace tabula {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_forest(const std::string& model) {
  return model == "forest" || model == "forest-classifier" || model == "forest-regressor";
}

/// The checks that need neither the data nor the space.
void check_options(const TuneOptions& options) {
  if (options.data_path.empty()) throw InputError("tune: --data is required");
  if (options.model.empty()) throw InputError("tune: --model is required");
  // A clustering is scored from its rows and labels alone.
  if (options.target.empty() &&
      estimator_tasks(options.model) != std::vector<Task>{Task::kClustering})
    throw InputError("tune: --target is required");
  if (options.out_dir.empty()) throw InputError("tune: --out DIR is required");
  if (!(options.test_size >= 0.0 && options.test_size < 1.0))
    throw InputError("--test-size must be in [0, 1), got " + std::to_string(options.test_size));
  if (options.factor < 2) throw InputError("--factor must be at least 2");
  if (options.jobs < 1) throw InputError("--jobs must be at least 1");
  if (!options.mlflow_tracking_uri.empty()) {
    selection::check_mlflow_tracking_uri(options.mlflow_tracking_uri);
    if (options.mlflow_experiment.empty())
      throw InputError("--mlflow-experiment must not be empty");
  }
}

/// Successive halving's resource: rows, or n_estimators when the space leaves it free.
void check_halving_resource(const TuneOptions& options, const SearchSpace& space) {
  if (options.search != SearchKind::kHalving) return;
  if (options.halving_resource != "rows" && options.halving_resource != "n_estimators")
    throw InputError("--resource must be rows or n_estimators, got '" + options.halving_resource +
                     "'");
  if (options.halving_resource == "n_estimators")
    for (const ParamDimension& d : space.dims)
      if (d.name == "n_estimators")
        throw InputError(
            "--resource n_estimators: n_estimators is the resource; remove it from "
            "the space (its maximum comes from --fixed n_estimators, default 100)");
}

/// The metrics, the deciding one first (default r2 or accuracy); InputError for one that does
/// not fit the task.
std::vector<std::string> search_metrics(const TuneOptions& options, Task task) {
  std::vector<std::string> names;
  names.push_back(!options.metric.empty()         ? options.metric
                  : task == Task::kClassification ? "accuracy"
                  : task == Task::kClustering     ? "silhouette"
                                                  : "r2");
  for (const std::string& m : options.metrics)
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  for (const std::string& m : names) {
    const metrics::Scorer& s = metrics::scorer(m);
    const Task metric_task = s.task == metrics::ScorerTask::kClassification ? Task::kClassification
                             : s.task == metrics::ScorerTask::kClustering   ? Task::kClustering
                                                                            : Task::kRegression;
    if (metric_task != task)
      throw InputError("metric '" + m + "' is a " + std::string(to_string(metric_task)) +
                       " metric; model '" + options.model + "' does " +
                       std::string(to_string(task)));
  }
  return names;
}

/// The dummy model over the same folds: the line every trial is drawn against.
TrialResult baseline_over_folds(Backend& backend, const selection::CvData& cv, Task task,
                                std::uint64_t seed) {
  if (task == Task::kClustering) {
    // No dummy clustering: the baseline's scores are NaN (shown as none).
    TrialResult none;
    none.trial = -1;
    none.params = {{"model", "none"}};
    none.scores.assign(cv.metrics.size(), std::vector<double>(cv.folds.size(), kNaN));
    none.path = "plain";
    return none;
  }
  // Features do not matter to a dummy model: gather from whatever is cheapest.
  const selection::FoldEncoder features = [&](std::span<const std::int64_t> train,
                                              std::span<const std::int64_t> test) {
    return selection::FoldMatrices{
        std::vector<float>(train.size(), 0.0f), std::vector<float>(test.size(), 0.0f), 1, {}, {}};
  };
  const selection::FoldScores b =
      selection::cv_plain(backend, cv, features, "dummy", {}, task, seed);
  TrialResult baseline;
  baseline.trial = -1;
  baseline.params = {{"model", "dummy"}};
  baseline.scores = b.scores;
  baseline.fit_seconds = b.fit_seconds;
  baseline.score_seconds = b.score_seconds;
  baseline.path = "plain";
  return baseline;
}

/// The targets of `rows`; none for a clustering (no target).
std::vector<double> targets_of(const LabelledTable& table, const std::vector<std::int64_t>& rows) {
  if (table.y.empty()) return {};
  std::vector<double> y(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) y[i] = table.y[static_cast<std::size_t>(rows[i])];
  return y;
}

/// Scores the refitted best once on the test rows: result.test_metrics, result.test_score and
/// info["test"].
void score_on_test(Backend& backend, const selection::RefitModel& best, const LabelledTable& table,
                   const std::vector<std::int64_t>& test_rows, const selection::CvData& cv,
                   TuneResult& result, nlohmann::json& info) {
  const std::vector<float> x_test = best.pipeline->transform(backend, table.data, test_rows);
  const std::vector<double> y_test = targets_of(table, test_rows);
  const auto view = MatrixView<const float>::row_major(
      x_test.data(), static_cast<std::int64_t>(test_rows.size()), best.pipeline->n_outputs());
  const Predictor predictor(backend, *best.model, best.pipeline.get());
  const std::vector<double> pred = predictor.predict(view);
  std::vector<double> proba;
  if (result.task == Task::kClassification) {
    try {
      proba = predictor.predict_proba(view);
    } catch (const Error&) {
      proba.clear();
    }
  }
  const std::vector<double> s =
      selection::score_fold(cv, y_test, pred, proba, selection::rows_of(view));
  result.test_metrics = nlohmann::json::object();
  for (std::size_t m = 0; m < s.size(); ++m)
    result.test_metrics[result.metric_names[m]] =
        std::isfinite(s[m]) ? nlohmann::json(s[m]) : nlohmann::json();
  if (std::isfinite(s[0])) result.test_score = s[0];
  info["test"] = result.test_metrics;
}

/// The refitted best's charts on the test rows (tabula evaluate's, drawn in report.html); a
/// note instead when they cannot be drawn, as the search's result stands without them.
nlohmann::json evaluate_on_test(Backend& backend, const selection::RefitModel& best,
                                const LabelledTable& table,
                                const std::vector<std::int64_t>& test_rows, std::uint64_t seed) {
  std::vector<double> y_test(test_rows.size());
  for (std::size_t i = 0; i < test_rows.size(); ++i) y_test[i] = table.y[test_rows[i]];
  try {
    return evaluation::evaluate(backend, {*best.model, *best.pipeline, table.schema},
                                table.data.take_rows(test_rows), y_test, {.seed = seed});
  } catch (const InputError& e) {
    return {{"error", e.what()}};
  }
}

/// The best trial refitted on every search row (its pipeline included) and scored once on the
/// test rows; info["best"] and the test metrics are filled. No model when no trial finished.
selection::RefitModel refit_best(Backend& backend, const TuneOptions& options,
                                 const LabelledTable& table, const TrainTestSplit& split,
                                 const std::vector<ParamMap>& candidates,
                                 const std::vector<PipelineSpec>& pipelines,
                                 const selection::CvData& cv, TuneResult& result,
                                 nlohmann::json& info) {
  selection::RefitModel best_fit;
  if (result.leaderboard.empty()) return best_fit;
  const TrialResult& best = result.leaderboard.front();
  ParamMap p = selection::model_params(candidates[static_cast<std::size_t>(best.trial)]);
  if (options.search == SearchKind::kHalving && options.halving_resource == "n_estimators")
    p["n_estimators"] = std::to_string(best.resource);
  best_fit.model = make_estimator(options.model, p, result.task);
  best_fit.pipeline = std::make_unique<Pipeline>(pipelines[static_cast<std::size_t>(best.trial)]);
  best_fit.pipeline->fit(backend, table.data, split.train);
  for (const std::string& note : best_fit.pipeline->notes()) result.notes.push_back(note);
  const std::int64_t d = best_fit.pipeline->n_outputs();
  const std::vector<float> x_fit = best_fit.pipeline->transform(backend, table.data, split.train);
  const std::vector<double> y_fit = targets_of(table, split.train);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x_fit.data(),
                                             static_cast<std::int64_t>(split.train.size()), d);
  fit.y = y_fit;
  fit.n_classes = table.n_classes;
  fit.seed = options.seed;
  const std::vector<std::uint8_t> categorical = best_fit.pipeline->categorical_outputs();
  fit.feature_names = best_fit.pipeline->output_names();
  fit.categorical = categorical;
  best_fit.model->fit(backend, fit);
  best_fit.profile =
      monitoring::reference_profile(backend, *best_fit.pipeline, *best_fit.model, table.schema,
                                    table.data, split.train, split.test);
  info["best"] = {{"trial", best.trial},
                  {"params", best.params},
                  {"mean", best.mean(0)},
                  {"std", best.stdev(0)}};
  if (!split.test.empty()) {
    score_on_test(backend, best_fit, table, split.test, cv, result, info);
    // Clusterings have no labels to draw the evaluation's curves from.
    if (!is_unsupervised(result.task))
      best_fit.evaluation = evaluate_on_test(backend, best_fit, table, split.test, options.seed);
  }
  return best_fit;
}

/// What the user should know of the journal read back.
void add_journal_notes(const selection::Journal& journal, TuneResult& result) {
  if (journal.discarded_other())
    result.notes.push_back("the journal held another search's trials; they were dropped");
  if (!journal.rejected().empty())
    result.notes.push_back(fmt::format(
        "{} journal line(s) not believed (edited, corrupted or inconsistent); their trials ran "
        "again",
        journal.rejected().size()));
}

/// What the search holds after its checks: the data, the candidates and the folds.
struct PreparedSearch {
  SearchSpace space;
  std::vector<ParamMap> candidates;
  LabelledTable table;
  PipelineSpec base_pipeline;
  std::vector<PipelineSpec> pipelines;  // by candidate
  std::vector<std::string> metrics;
  TrainTestSplit split;  // train: the search rows
  std::string scheme;
  std::vector<Fold> folds;
};

/// Everything that can be checked is checked here, before any fit (docs/tuning.md, "Order of
/// work"): options, space, data and task, candidates, metrics, test split, scheme.
PreparedSearch prepare_search(const TuneOptions& options) {
  check_options(options);
  PreparedSearch s;
  // The space first: a bad space fails before the data is read.
  s.space = SearchSpace::parse(options.space);
  s.candidates = selection::propose_candidates(s.space, options);
  check_halving_resource(options, s.space);
  s.table = prepare_labelled_table({.data_path = options.data_path,
                                    .target = options.target,
                                    .model = options.model,
                                    .task = options.task,
                                    .drop_columns = options.drop_columns,
                                    .id_column = options.id_column,
                                    .sample_weight = {},  // tune fits unweighted
                                    .group_column = options.group_column,
                                    .time_column = options.time_column,
                                    .csv = options.csv});
  const Task task = s.table.choice.task;
  if (task == Task::kTransform)
    throw InputError("model '" + options.model +
                     "' is a transform; tune needs a predictor or a clustering");
  s.base_pipeline = options.pipeline.is_null()
                        ? PipelineSpec::defaults(options.model, options.fixed)
                        : PipelineSpec::from_json(options.pipeline, "pipeline");
  s.pipelines = selection::check_candidates(options, s.candidates, task, s.base_pipeline);
  s.metrics = search_metrics(options, task);
  // The test rows are held out first: the search never sees them.
  s.split = hold_out_test_rows(s.table, options.test_size, options.seed);
  s.scheme = selection::canonical_scheme(options, task);
  s.folds = selection::search_folds(s.scheme, options, s.table, s.split.train);
  return s;
}

/// The search's description for the report from what it prepared and ran.
selection::SearchFacts search_facts(const TuneOptions& options, const PreparedSearch& s,
                                    const selection::LeastSquaresPlan& ls,
                                    const selection::TrialRunner& runner, std::int64_t planned,
                                    const std::string& fingerprint) {
  selection::SearchFacts facts;
  facts.scheme = s.scheme;
  facts.folds = s.folds;
  facts.test_rows = s.split.test.size();
  facts.search_rows = s.split.train.size();
  facts.test_split = s.table.time                                   ? "latest by time"
                     : options.test_size == 0                       ? "none"
                     : s.table.choice.task == Task::kClassification ? "stratified"
                                                                    : "shuffled";
  facts.planned = planned;
  facts.finished = runner.done();
  facts.fingerprint = fingerprint;
  facts.least_squares = ls.use;
  facts.path_note = ls.note;
  facts.pipeline = s.base_pipeline.to_json();
  return facts;
}

/// Now, in milliseconds since the epoch (MLflow's run times).
std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The refitted best's model file metadata, every output in --out, then the MLflow log when one
/// is asked for (it copies the outputs as the parent run's artifacts).
void write_outputs(Backend& backend, const TuneOptions& options, const PreparedSearch& s,
                   const nlohmann::json& identity, const nlohmann::json& info,
                   selection::RefitModel& best, TuneResult& result, std::int64_t started_ms) {
  best.schema = s.table.schema;
  best.training = {
      {"data_file", options.data_path},
      {"data_fingerprint",
       data_fingerprint_text(options.data_path,
                             std::stoull(identity["data_hash"].get<std::string>(), nullptr, 16))},
      {"rows", s.table.data.rows()},
      {"rows_train", s.split.train.size()},
      {"rows_test", s.split.test.size()},
      {"seed", options.seed},
      {"task_reason", s.table.choice.reason}};
  selection::write_search_outputs(backend, options, info, best, result);
  if (!options.mlflow_tracking_uri.empty())
    selection::log_search_to_mlflow(options, result, info, started_ms);
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
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t started_ms = epoch_ms();
  const PreparedSearch s = prepare_search(options);
  const Task task = s.table.choice.task;
  const Dataset& data = s.table.data;
  const std::int64_t n = data.rows();

  // ---- Shared work: least squares on shared statistics where they reproduce the pipeline,
  // forests on one binning, row-independent pipelines applied once ----
  std::vector<ParamMap> own_params;
  for (const ParamMap& c : s.candidates) own_params.push_back(selection::model_params(c));
  const selection::LeastSquaresPlan ls = selection::plan_least_squares(
      options.model, options.fast_path && options.search != SearchKind::kHalving, data, own_params,
      s.pipelines);
  std::vector<float> x_raw;
  if (ls.use) x_raw = data.numeric_matrix_row_major();
  const selection::CvData cv{
      MatrixView<const float>::row_major(x_raw.data(), ls.use ? n : 0, ls.use ? data.cols() : 0),
      s.table.y,
      task,
      s.table.n_classes,
      s.folds,
      s.metrics};
  selection::SharedWork shared(backend, data, s.table.y, s.split.train, task,
                               options.fast_path && is_forest(options.model));

  // ---- Journal: the fingerprint of everything that decides the results ----
  // Over MPI ranks, rank 0 alone keeps the folder, the journal and the outputs.
  const bool writes = options.comm == nullptr || options.comm->is_root();
  std::optional<selection::FolderLock> folder_lock;  // held until the outputs are in
  if (writes) {
    std::filesystem::create_directories(options.out_dir);
    folder_lock.emplace(options.out_dir);
  }
  const nlohmann::json identity =
      selection::search_identity(options, s.scheme, s.metrics, task, s.base_pipeline.to_json());
  const std::string fingerprint = selection::fingerprint_of(identity);
  const std::unique_ptr<selection::Journal> journal_on_rank = selection::open_journal_on_ranks(
      options.comm, (std::filesystem::path(options.out_dir) / "journal.jsonl").string(),
      selection::journal_check(fingerprint, s.space, s.candidates, s.folds.size(), s.metrics));
  selection::Journal& journal = *journal_on_rank;

  TuneResult result;
  result.task = task;
  result.metric_names = s.metrics;
  result.candidates = static_cast<std::int64_t>(s.candidates.size());
  if (!ls.note.empty()) result.notes.push_back("shared statistics not used: " + ls.note);
  add_journal_notes(journal, result);

  // ---- Trials: the strategy proposes, the runner evaluates ----
  auto min_train = static_cast<std::int64_t>(s.split.train.size());
  for (const Fold& f : s.folds) min_train = std::min<std::int64_t>(min_train, f.train.size());
  const selection::RoundPlan plan = selection::plan_rounds(options, s.candidates.size(), min_train);
  std::vector<std::string> searched;
  for (const ParamDimension& dim : s.space.dims) searched.push_back(dim.name);
  selection::TrialRunner runner(
      {backend, options, task, s.candidates, s.pipelines, searched, cv, shared, ls, journal, start},
      plan.planned);
  selection::SearchOutcome outcome =
      selection::run_rounds(plan, s.candidates.size(),
                            [&](const selection::CandidateBatch& b) { return runner.evaluate(b); });
  result.leaderboard = std::move(outcome.leaderboard);
  result.earlier_rounds = std::move(outcome.earlier_rounds);
  result.stopped_by_budget = outcome.stopped_by_budget;
  result.resumed = runner.resumed();
  if (!writes) return result;  // rank 0 refits the best and writes
  result.baseline = baseline_over_folds(backend, cv, task, options.seed);
  if (result.stopped_by_budget)
    result.notes.push_back(fmt::format("--time-budget {}s spent: {} of {} trials finished",
                                       options.time_budget, runner.done(), plan.planned));

  // ---- Refit the best on every search row, score it once on the test rows, write ----
  nlohmann::json info = selection::search_info(
      options, s.space, search_facts(options, s, ls, runner, plan.planned, fingerprint), result);
  selection::RefitModel best =
      refit_best(backend, options, s.table, s.split, s.candidates, s.pipelines, cv, result, info);
  write_outputs(backend, options, s, identity, info, best, result, started_ms);
  return result;
}

}  // namespace tabula

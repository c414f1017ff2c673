// Hyperparameter search over a cross-validation scheme: `tabula tune` as a library call.
//
// A search holds out a test set first, runs every trial (one parameter set) over the folds of
// the remaining rows, ranks the trials by one metric, refits the best on every non-test row,
// scores it once on the test set and writes the leaderboard, the model and a report. Each
// finished trial is journalled, so an interrupted search resumes where it stopped.
// docs/tuning.md describes the syntax and the outputs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/models/estimator.hpp"

namespace tabula {

class Communicator;

// ---- Search spaces ------------------------------------------------------------------------------

/// One searchable parameter, parsed from "name=expression":
///   plain value        "max_depth=8"                 one candidate
///   list               "max_depth=[4,8,12]", "criterion=gini|entropy", "choice(a,b,c)"
///   ranges             "alpha=logspace(-3,3,20)" (10^linspace), "linspace(a,b,n)",
///                      "range(a,b[,step])" (integers a, a+step, ... < b)
///   distributions      "uniform(a,b)", "loguniform(a,b)" (a > 0), "randint(a,b)" (a..b-1);
///                      random search only
struct ParamDimension {
  enum class Kind { kList, kUniform, kLogUniform, kRandInt };
  std::string name;
  Kind kind = Kind::kList;
  std::vector<std::string> values;  // kList: candidates as text, in the order given
  double low = 0.0, high = 0.0;     // distributions: the bounds

  /// Parses "name=expression"; InputError naming the item for an empty name, an empty list,
  /// an unknown function, bad bounds or a malformed number.
  static ParamDimension parse(std::string_view item);
  /// Text form, as parsed ("logspace" lists are shown expanded).
  std::string describe() const;
};

/// A product of dimensions (each name at most once).
struct SearchSpace {
  std::vector<ParamDimension> dims;

  /// InputError for a malformed item or a name given twice.
  static SearchSpace parse(const std::vector<std::string>& items);
  /// Every combination of list dimensions, the last dimension varying fastest (sklearn's
  /// ParameterGrid order for names in this order). InputError when a dimension is a
  /// distribution (grid search cannot enumerate it). An empty space yields one empty ParamMap.
  std::vector<ParamMap> grid() const;
  /// n_iter independent draws, seeded; lists are drawn uniformly. Deterministic on every
  /// platform. When every dimension is a list with fewer combinations than n_iter, the whole
  /// grid instead (as sklearn's ParameterSampler).
  std::vector<ParamMap> sample(std::int64_t n_iter, std::uint64_t seed) const;
};

// ---- The driver ---------------------------------------------------------------------------------

enum class SearchKind { kGrid, kRandom, kHalving };

struct TuneOptions {
  std::string data_path;
  std::string target;
  std::string model;  // registry name
  /// "name=expression" items (see ParamDimension). Names starting with "pipeline." address the
  /// pipeline: pipeline.impute (median|mean|most_frequent|none), pipeline.scale
  /// (standard|minmax|none), pipeline.encode (onehot|ordinal), pipeline.handle_unknown,
  /// pipeline.min_frequency, pipeline.max_categories (PipelineOverrides' fields).
  std::vector<std::string> space;
  /// The pipeline every trial starts from, in PipelineSpec's JSON form; null: the model's
  /// defaults (PipelineSpec::defaults).
  nlohmann::json pipeline;
  ParamMap fixed;  // parameters every trial shares (under the space's)
  SearchKind search = SearchKind::kGrid;
  std::int64_t n_iter = 10;  // random search: number of draws
  /// Successive halving: what grows each round, "rows" (training rows per fold) or
  /// "n_estimators" (forests), and the factor candidates are cut by (sklearn's default 3).
  std::string halving_resource = "rows";
  int factor = 3;

  /// "auto" (stratified for classifiers, time for --time-column, group for --group-column,
  /// else kfold), "kfold", "stratified", "group", "time", "repeated".
  std::string scheme = "auto";
  int folds = 5;
  int repeats = 2;                        // repeated k-fold
  bool shuffle = true;                    // kfold / stratified
  std::int64_t gap = 0;                   // time series
  std::vector<std::string> drop_columns;  // not features (InputError naming a missing one)
  std::string id_column;                  // --id: not a feature; the refitted model names it
  io::CsvSettings csv;                    // how the CSV file is read
  std::string group_column;               // not a feature
  std::string time_column;  // not a feature; rows are ordered by it, test = latest rows
  double test_size = 0.2;   // 0: no test set

  std::string metric;                // decides; empty: r2 or accuracy by task
  std::vector<std::string> metrics;  // reported beside it
  std::uint64_t seed = 0;
  double time_budget = 0.0;  // seconds; 0 = none. Stops launching trials once spent.
  std::optional<Task> task;
  /// Trials run concurrently on the thread pool (each fit then uses one thread); 1 = one at a
  /// time, each fit using every thread. Results do not depend on it.
  int jobs = 1;
  /// Use the shared-statistics path for linear/ridge when it applies (false: plain fits).
  bool fast_path = true;
  bool progress = false;  // progress bar on stderr
  std::string out_dir;    // required
  /// Also log the search to this MLflow tracking store (a local folder or file:///path; empty:
  /// none): a parent run and a child run per trial, in this experiment (created when missing).
  std::string mlflow_tracking_uri;
  std::string mlflow_experiment = "tabula";
  /// A search spread over MPI ranks (`--distributed`, docs/distributed.md): every rank reads the
  /// whole table and runs its share of each batch's trials; rank 0 gathers the results, keeps
  /// the journal and writes the outputs. Null: one process.
  Communicator* comm = nullptr;
};

/// One trial's cross-validation result.
struct TrialResult {
  std::int64_t trial = 0;     // index in the candidate list
  int round = 0;              // successive halving round (0 otherwise)
  std::int64_t resource = 0;  // halving: rows per fold or trees; 0 otherwise
  ParamMap params;            // the searched parameters
  /// scores[m][f]: metric m (TuneResult::metric_names order) on fold f; NaN when undefined.
  std::vector<std::vector<double>> scores;
  double fit_seconds = 0.0;    // mean per fold
  double score_seconds = 0.0;  // mean per fold
  std::string path;            // "plain" or "ridge-stats"
  bool resumed = false;        // read back from the journal

  double mean(std::size_t metric) const;
  double stdev(std::size_t metric) const;  // population std over folds, as sklearn
};

struct TuneResult {
  Task task = Task::kRegression;
  std::vector<std::string> metric_names;    // [0] decides
  std::vector<TrialResult> leaderboard;     // final-round trials, best first
  std::vector<TrialResult> earlier_rounds;  // successive halving only
  TrialResult baseline;                     // the dummy model over the same folds
  std::int64_t candidates = 0;              // trials planned
  std::int64_t resumed = 0;                 // read back from the journal
  bool stopped_by_budget = false;
  std::optional<double> test_score;  // the refitted best model on the test set
  nlohmann::json test_metrics;       // every metric on the test set
  std::vector<std::string> notes;
  std::string model_path;  // the refitted best model (empty when nothing finished)
};

/// Runs the search and writes DIR/leaderboard.csv, leaderboard.json, model.tabula,
/// report.html and journal.jsonl. InputError, before any fit: missing data/target/model/out,
/// a bad space, a parameter the model does not have (every candidate is constructed first), a
/// metric that does not fit the task, a scheme that cannot be built (fewer rows than folds, a
/// class with fewer members than folds, one group), categorical features (until pipelines).
TuneResult tune(Backend& backend, const TuneOptions& options);

/// Reads an experiment spec (TOML; examples/experiment.toml documents every key). Relative
/// paths are taken relative to the spec's folder. InputError naming the file and key.
TuneOptions read_experiment_spec(const std::string& path);

}  // namespace tabula

// tabula tune: hyperparameter search over a cross-validation scheme. The work is
// tabula::tune; this file maps options (and an experiment spec) onto TuneOptions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/command.hpp"
#include "cli/csv_flags.hpp"
#include "cli/distributed_flag.hpp"
#include "io/path_identity.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/models/task.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula::cli {
namespace {

struct TuneCliOptions {
  TuneOptions tune;
  bool distributed = false;
  std::string spec;
  std::string search = "grid";
  std::string task;
  std::string pipeline_file;
  PipelineOverrides overrides;
  std::vector<std::string> fixed;
  bool no_fast_path = false;
  bool no_shuffle = false;
  bool no_progress = false;
  CLI::App* app = nullptr;
};

ParamMap parse_fixed(const std::vector<std::string>& items) {
  ParamMap out;
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("--fixed '" + item + "': expected key=value");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

/// The output folder and every file tune writes in it must not be one of its inputs.
void check_outputs(const TuneOptions& o, const TuneCliOptions& cli) {
  if (o.out_dir.empty()) return;  // tune() says --out is required
  std::vector<io::NamedPath> outputs{{"--out", o.out_dir}};
  for (const char* name : {"leaderboard.csv", "leaderboard.json", "report.html", "model.tabula",
                           "journal.jsonl", ".lock"})
    outputs.push_back({"--out", (std::filesystem::path(o.out_dir) / name).string()});
  io::check_outputs_distinct(
      {{"--data", o.data_path}, {"--spec", cli.spec}, {"--pipeline", cli.pipeline_file}}, outputs);
}

// The spec file's options with the ones given on the command line on top; o: the command
// line's. Clears cli.search when the spec chooses the search.
TuneOptions merge_spec(TuneCliOptions& cli, TuneOptions o) {
  CLI::App& app = *cli.app;
  TuneOptions s = read_experiment_spec(cli.spec);
  auto given = [&](const char* name) { return app.count(name) > 0; };
  if (given("--data")) s.data_path = o.data_path;
  if (given("--target")) s.target = o.target;
  if (given("--model")) s.model = o.model;
  if (given("--param")) s.space = o.space;
  if (given("--n-iter")) s.n_iter = o.n_iter;
  if (given("--resource")) s.halving_resource = o.halving_resource;
  if (given("--factor")) s.factor = o.factor;
  if (given("--scheme")) s.scheme = o.scheme;
  if (given("--folds")) s.folds = o.folds;
  if (given("--repeats")) s.repeats = o.repeats;
  if (given("--gap")) s.gap = o.gap;
  if (given("--group-column")) s.group_column = o.group_column;
  if (given("--drop-columns")) s.drop_columns = o.drop_columns;
  if (given("--id")) s.id_column = o.id_column;
  if (given("--delimiter")) s.csv.delimiter = o.csv.delimiter;
  if (given("--decimal")) s.csv.decimal = o.csv.decimal;
  if (given("--encoding")) s.csv.encoding = o.csv.encoding;
  if (given("--na-values")) s.csv.na_values = o.csv.na_values;
  if (given("--categorical")) s.csv.categorical = o.csv.categorical;
  if (given("--numeric")) s.csv.numeric = o.csv.numeric;
  if (given("--time-column")) s.time_column = o.time_column;
  if (given("--test-size")) s.test_size = o.test_size;
  if (given("--metric")) s.metric = o.metric;
  if (given("--also")) s.metrics = o.metrics;
  if (given("--seed")) s.seed = o.seed;
  if (given("--time-budget")) s.time_budget = o.time_budget;
  if (given("--jobs")) s.jobs = o.jobs;
  if (given("--out")) s.out_dir = o.out_dir;
  if (given("--mlflow-tracking-uri")) s.mlflow_tracking_uri = o.mlflow_tracking_uri;
  if (given("--mlflow-experiment")) s.mlflow_experiment = o.mlflow_experiment;
  if (!given("--search")) {
    o.search = s.search;
    cli.search.clear();
  }
  if (given("--no-shuffle")) s.shuffle = false;
  s.search = o.search;
  return s;
}

void run(TuneCliOptions& cli) {
  TuneOptions o = cli.tune;
  if (!cli.spec.empty()) o = merge_spec(cli, o);
  if (!cli.search.empty()) {
    if (cli.search == "grid")
      o.search = SearchKind::kGrid;
    else if (cli.search == "random")
      o.search = SearchKind::kRandom;
    else
      o.search = SearchKind::kHalving;
  }
  if (cli.no_shuffle) o.shuffle = false;
  if (!cli.task.empty()) o.task = parse_task(cli.task);
  if (!cli.pipeline_file.empty()) o.pipeline = read_pipeline_spec(cli.pipeline_file).to_json();
  for (const auto& [k, v] : parse_fixed(cli.fixed)) o.fixed[k] = v;
  read_dates_as_text(cli.overrides, o.csv);
  if (!cli.overrides.impute.empty() || !cli.overrides.scale.empty() ||
      !cli.overrides.date_columns.empty() || !cli.overrides.date_format.empty()) {
    const PipelineSpec base = o.pipeline.is_null()
                                  ? PipelineSpec::defaults(o.model, o.fixed)
                                  : PipelineSpec::from_json(o.pipeline, "pipeline");
    o.pipeline = apply_overrides(base, cli.overrides).to_json();
  }
  o.fast_path = !cli.no_fast_path;
  o.progress = !cli.no_progress && ::isatty(2);

  check_outputs(o, cli);
  TuneResult r;
  if (cli.distributed) {
    Communicator& comm = join_ranks();
    o.comm = &comm;
    o.progress = o.progress && comm.is_root();
    run_on_rank(comm, [&] { r = tune(default_backend(), o); });
    if (!comm.is_root()) return;  // rank 0 gathered the trials and wrote the outputs
  } else {
    r = tune(default_backend(), o);
  }
  for (const std::string& note : r.notes) spdlog::info("{}", note);
  fmt::print("{} trial(s) of {} candidate(s){}{}\n", r.leaderboard.size(), r.candidates,
             r.resumed > 0 ? fmt::format(", {} resumed from the journal", r.resumed) : "",
             r.stopped_by_budget ? ", stopped by --time-budget" : "");
  const std::string& metric = r.metric_names.front();
  fmt::print("{:<6} {:>16} {:>10}  params\n", "rank", metric, "std");
  for (std::size_t i = 0; i < std::min<std::size_t>(10, r.leaderboard.size()); ++i) {
    const TrialResult& t = r.leaderboard[i];
    std::string params;
    for (const auto& [k, v] : t.params) params += (params.empty() ? "" : " ") + k + "=" + v;
    fmt::print("{:<6} {:>16.6g} {:>10.3g}  {}\n", i + 1, t.mean(0), t.stdev(0), params);
  }
  if (r.task == Task::kClustering)
    fmt::print("baseline: none (no dummy clustering)\n");
  else
    fmt::print("baseline (dummy) {:>11.6g}\n", r.baseline.mean(0));
  if (r.test_score) fmt::print("test {} of the refitted best: {:.6g}\n", metric, *r.test_score);
  if (!r.model_path.empty()) fmt::print("wrote {}\n", r.model_path);
  if (!o.mlflow_tracking_uri.empty())
    fmt::print("logged to MLflow: {} (experiment '{}')\n", o.mlflow_tracking_uri,
               o.mlflow_experiment);
  fmt::print("leaderboard and report in {}\n", o.out_dir);
  std::fflush(stdout);
}

}  // namespace

void add_tune_command(CLI::App& app, Commands& commands) {
  auto cli = std::make_shared<TuneCliOptions>();
  TuneOptions& o = cli->tune;
  CLI::App* sub = app.add_subcommand(
      "tune", "Search hyperparameters by cross-validation, refit the best, score it on a test set");
  cli->app = sub;
  sub->add_option("--spec", cli->spec, "Experiment spec (TOML); options given here override it");
  sub->add_option("--data", o.data_path,
                  "CSV, Parquet or Feather file, or a SQL URL (sqlite:///FILE?query=..., "
                  "postgresql://HOST/DB?query=...)");
  sub->add_option("--target", o.target, "Target column");
  sub->add_option("--model", o.model, "Model name (ridge, logistic, forest, ...)");
  sub->add_option("--param", o.space,
                  "Searched parameter name=values (repeatable): 'alpha=logspace(-3,3,20)', "
                  "'max_depth=[4,8,12]', 'criterion=gini|entropy', uniform(a,b), loguniform(a,b), "
                  "randint(a,b), choice(a,b); pipeline.scale=standard|none, ...")
      ->take_all();
  sub->add_option("--fixed", cli->fixed, "Parameter every trial shares, key=value (repeatable)")
      ->take_all();
  sub->add_option("--pipeline", cli->pipeline_file, "Pipeline spec file (TOML or JSON)");
  sub->add_option("--impute", cli->overrides.impute,
                  "Numeric imputation of every trial's pipeline (mean, median, ..., none)");
  sub->add_option("--scale", cli->overrides.scale,
                  "Numeric scaling of every trial's pipeline (standard, minmax, none)");
  sub->add_option("--search", cli->search, "grid, random or halving")
      ->check(CLI::IsMember({"grid", "random", "halving"}))
      ->capture_default_str();
  sub->add_option("--n-iter", o.n_iter, "Random search: number of candidates")
      ->capture_default_str();
  sub->add_option("--resource", o.halving_resource, "Halving: rows or n_estimators")
      ->capture_default_str();
  sub->add_option("--factor", o.factor, "Halving: candidates kept per round = 1/factor")
      ->capture_default_str();
  sub->add_option("--scheme", o.scheme, "auto, kfold, stratified, group, time or repeated")
      ->capture_default_str();
  sub->add_option("--folds", o.folds, "Number of folds")->capture_default_str();
  sub->add_option("--repeats", o.repeats, "Repeated k-fold: number of repeats")
      ->capture_default_str();
  sub->add_flag("--no-shuffle", cli->no_shuffle, "k-fold / stratified: keep the row order");
  sub->add_option("--gap", o.gap, "Time series: rows left out between train and test")
      ->capture_default_str();
  sub->add_option("--drop,--drop-columns", o.drop_columns,
                  "Columns that are not features (repeatable)")
      ->delimiter(',');
  sub->add_option("--id", o.id_column,
                  "The rows' identifier: never a feature; predict copies it to its output");
  add_csv_flags(sub, o.csv, true);
  add_date_flags(sub, cli->overrides);
  add_distributed_flag(sub, cli->distributed);
  sub->add_option("--group-column", o.group_column, "Column of groups never split across folds");
  sub->add_option("--time-column", o.time_column,
                  "Column ordering the rows in time: the test set is the latest rows, the "
                  "scheme TimeSeriesSplit");
  sub->add_option("--test-size", o.test_size, "Held-out fraction scored once at the end (0: none)")
      ->capture_default_str();
  sub->add_option("--metric", o.metric,
                  "Deciding metric, scikit-learn scorer name (default r2 / accuracy)");
  sub->add_option("--also", o.metrics, "Other metrics reported beside it (repeatable)")->take_all();
  sub->add_option("--seed", o.seed, "Seed of the splits, the draws and the models")
      ->capture_default_str();
  sub->add_option("--time-budget", o.time_budget, "Seconds; stop launching trials once spent")
      ->capture_default_str();
  sub->add_option("--jobs", o.jobs, "Trials run at once (each fit then single-threaded)")
      ->capture_default_str();
  sub->add_option("--task", cli->task, "classification or regression (default: inferred)")
      ->check(CLI::IsMember({"classification", "regression"}));
  sub->add_flag("--no-fast-path", cli->no_fast_path,
                "Plain per-fold fits even where shared statistics apply (for checks)");
  sub->add_flag("--no-progress", cli->no_progress, "No progress bar on stderr");
  sub->add_option("--out", o.out_dir, "Output folder (leaderboard, model, report, journal)");
  sub->add_option("--mlflow-tracking-uri", o.mlflow_tracking_uri,
                  "Also log the search to this MLflow file store (a folder or file:///path): a "
                  "parent run and one child run per trial");
  sub->add_option("--mlflow-experiment", o.mlflow_experiment,
                  "MLflow experiment of the runs (created when missing)")
      ->capture_default_str();
  commands.push_back({sub, [cli] { run(*cli); }});
}

}  // namespace tabula::cli

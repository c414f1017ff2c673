// tabula train: fit a model on a CSV file, compare it with its baseline on a held-out test set,
// and store it. The work is tabula::train_model; this file only maps options.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/command.hpp"
#include "cli/csv_flags.hpp"
#include "cli/distributed_flag.hpp"
#include "io/path_identity.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/models/task.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/training/training.hpp"

namespace tabula::cli {
namespace {

struct TrainCliOptions {
  TrainOptions train;
  std::vector<std::string> params;
  std::string task;
  std::string out;
  std::string pipeline_file;
  std::vector<std::string> drop_columns;
  bool distributed = false;
};

ParamMap parse_params(const std::vector<std::string>& items) {
  ParamMap params;
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("--param '" + item + "': expected key=value");
    const std::string key = item.substr(0, eq);
    if (params.count(key)) throw InputError("--param: '" + key + "' given twice");
    params[key] = item.substr(eq + 1);
  }
  return params;
}

void run(TrainCliOptions& options) {
  io::check_outputs_distinct(
      {{"--data", options.train.data_path}, {"--pipeline", options.pipeline_file}},
      {{"--out", options.out}});
  options.train.params = parse_params(options.params);
  if (!options.task.empty()) options.train.task = parse_task(options.task);
  if (!options.pipeline_file.empty())
    options.train.pipeline = read_pipeline_spec(options.pipeline_file);
  options.train.drop_columns.clear();
  for (const std::string& item : options.drop_columns) {
    std::size_t start = 0;
    while (start <= item.size()) {
      const std::size_t comma = std::min(item.find(',', start), item.size());
      if (comma > start) options.train.drop_columns.push_back(item.substr(start, comma - start));
      start = comma + 1;
    }
  }
  read_dates_as_text(options.train.pipeline_overrides, options.train.csv);
  TrainReport report;
  if (options.distributed) {
    Communicator& comm = join_ranks();
    options.train.comm = &comm;
    run_on_rank(comm, [&] { report = train_model(default_backend(), options.train, options.out); });
    if (!comm.is_root()) return;  // rank 0 wrote the model and reports it
  } else {
    report = train_model(default_backend(), options.train, options.out);
  }
  for (const std::string& note : report.notes) spdlog::info("{}", note);
  fmt::print("model {} ({}) on {}\n", report.model, to_string(report.task),
             options.train.data_path);
  fmt::print("{}", report.format_table());
  fmt::print("wrote {}\n", options.out);
  std::fflush(stdout);
}

}  // namespace

void add_train_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<TrainCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "train", "Train a model, compare it with its baseline on a test set, save it");
  sub->add_option("--data", options->train.data_path,
                  "CSV, Parquet or Feather file, or a SQL URL (sqlite:///FILE?query=..., "
                  "postgresql://HOST/DB?query=...)")
      ->required();
  sub->add_option("--target", options->train.target,
                  "Target column (required except for transforms and clusterings: pca, kmeans, "
                  "minibatch-kmeans)");
  sub->add_option("--model", options->train.model, "Model name (dummy, linear, ridge, ...)")
      ->required();
  sub->add_option("--param", options->params, "Model parameter key=value (repeatable)")->take_all();
  sub->add_option("--sample-weight", options->train.sample_weight,
                  "Column of non-negative row weights (not used as a feature)");
  sub->add_option("--test-size", options->train.test_size,
                  "Fraction of rows held out, in [0, 1); 0 trains on every row")
      ->capture_default_str();
  sub->add_option("--seed", options->train.seed, "Seed of the split and of the model")
      ->capture_default_str();
  sub->add_option("--task", options->task,
                  "classification or regression (default: inferred from the target)")
      ->check(CLI::IsMember({"classification", "regression"}));
  sub->add_option("--out", options->out, "Model file to write")->required();
  // Pipeline (docs/pipelines.md): the model's default, or a spec file, then these overrides.
  sub->add_option("--pipeline", options->pipeline_file,
                  "Pipeline spec file (TOML: a [pipeline] table or the whole file; or .json)");
  PipelineOverrides& o = options->train.pipeline_overrides;
  sub->add_option("--impute", o.impute,
                  "Numeric columns: SimpleImputer strategy mean|median|most_frequent|constant|none")
      ->check(CLI::IsMember({"mean", "median", "most_frequent", "constant", "none"}));
  sub->add_option("--scale", o.scale, "Numeric columns: standard|minmax|none")
      ->check(CLI::IsMember({"standard", "minmax", "none"}));
  sub->add_option("--encode", o.encode, "Categorical columns: onehot|ordinal")
      ->check(CLI::IsMember({"onehot", "ordinal"}));
  sub->add_option("--handle-unknown", o.handle_unknown,
                  "Categories unseen in training: error|ignore|infrequent_if_exist")
      ->check(CLI::IsMember({"error", "ignore", "infrequent_if_exist"}));
  sub->add_option("--min-frequency", o.min_frequency,
                  "OneHotEncoder min_frequency: a count (integer) or a fraction of rows");
  sub->add_option("--max-categories", o.max_categories,
                  "OneHotEncoder max_categories (the infrequent bucket included)");
  sub->add_option("--drop,--drop-columns", options->drop_columns,
                  "Columns not to use as features (comma-separated, repeatable)");
  sub->add_option("--id", options->train.id_column,
                  "The rows' identifier: never a feature; predict copies it to its output");
  add_distributed_flag(sub, options->distributed);
  add_csv_flags(sub, options->train.csv, true);
  add_date_flags(sub, o);
  commands.push_back({sub, [options] { run(*options); }});
}

}  // namespace tabula::cli

// tabula predict: stream a CSV file through a model file (tabula::predict_file).
#include <memory>

#include "cli/command.hpp"
#include "cli/progress.hpp"
#include "tabula/scoring/batch_predict.hpp"

namespace tabula::cli {

void add_predict_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<BatchCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "predict",
      "Stream a CSV file through a model: one prediction per input row, in input order "
      "(class probabilities with --proba)");
  sub->add_option("--model", options->model, "Model file written by tabula train")->required();
  sub->add_option("--data", options->data,
                  "CSV, Parquet or Feather file (or a sqlite:// or postgresql:// URL); columns are "
                  "matched by name")
      ->required();
  sub->add_option(
      "--out", options->out,
      "Output file: CSV, or .npy or .parquet by its extension (required unless --check-only)");
  sub->add_flag("--proba", options->batch.proba, "Write proba_<label> columns (classifiers)");
  add_batch_options(sub, options->batch, options->on_error, options->quiet);
  commands.push_back({sub, [options] { run_batch_command(*options, &predict_file); }});
}

}  // namespace tabula::cli

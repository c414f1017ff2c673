// tabula transform: stream a CSV file through a transform model (tabula::transform_file).
#include <memory>

#include "cli/command.hpp"
#include "cli/progress.hpp"
#include "tabula/scoring/batch_predict.hpp"

namespace tabula::cli {

void add_transform_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<BatchCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "transform",
      "Apply a transform model (pca; kmeans, minibatch-kmeans: distances to the centres) to a "
      "CSV file");
  sub->add_option("--model", options->model, "Model file of a transform")->required();
  sub->add_option("--data", options->data,
                  "CSV, Parquet or Feather file (or a sqlite:// or postgresql:// URL); columns are "
                  "matched by name")
      ->required();
  sub->add_option(
      "--out", options->out,
      "Output file: CSV, or .npy or .parquet by its extension (required unless --check-only)");
  add_batch_options(sub, options->batch, options->on_error, options->quiet);
  commands.push_back({sub, [options] { run_batch_command(*options, &transform_file); }});
}

}  // namespace tabula::cli

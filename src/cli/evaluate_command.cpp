// tabula evaluate: a model scored on labelled data, with the charts people look at, as an HTML
// report and/or JSON (tabula::evaluation); a short summary on stdout.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.hpp"
#include "cli/csv_flags.hpp"
#include "io/atomic_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/evaluation/evaluation.hpp"

namespace tabula::cli {
namespace {

struct EvaluateCliOptions {
  evaluation::EvaluateFileOptions file;
  std::string report, json;
};

void run(const EvaluateCliOptions& options) {
  const nlohmann::json e = evaluation::evaluate_file(default_backend(), options.file);
  // Both outputs appear together, complete, or not at all.
  detail::PendingFiles outputs;
  if (!options.report.empty()) outputs.add(options.report, evaluation::report_page(e));
  if (!options.json.empty()) outputs.add(options.json, e.dump(2) + "\n");
  outputs.commit();
  fmt::print("model {} ({}) on {}\n{}", e.at("model").get<std::string>(),
             e.at("task").get<std::string>(), options.file.data_path, evaluation::summary_text(e));
  if (!options.report.empty()) fmt::print("wrote {}\n", options.report);
  if (!options.json.empty()) fmt::print("wrote {}\n", options.json);
  std::fflush(stdout);
}

}  // namespace

void add_evaluate_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<EvaluateCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "evaluate",
      "Score a model on labelled data: metrics, confusion matrix, ROC/PR/calibration curves or "
      "residual plots, feature and permutation importance (HTML report, JSON)");
  sub->add_option("--model", options->file.model_path, "Model file written by tabula train/tune")
      ->required();
  sub->add_option("--data", options->file.data_path,
                  "CSV file with the model's input columns and the true target")
      ->required();
  sub->add_option("--target", options->file.target,
                  "Target column (default: the model's training target name)");
  sub->add_option("--report", options->report, "Write a self-contained HTML report here");
  sub->add_option("--json", options->json, "Write every number of the evaluation as JSON here");
  sub->add_option("--n-repeats", options->file.evaluation.n_repeats,
                  "Permutation importance: shuffles per column")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--seed", options->file.evaluation.seed, "Permutation importance: seed")
      ->capture_default_str();
  add_csv_flags(sub, options->file.csv, false);
  commands.push_back({sub, [options] { run(*options); }});
}

}  // namespace tabula::cli

// tabula compare: champion (a) against challenger (b) on the same labelled rows, with paired
// bootstrap intervals of every metric's difference (tabula::evaluation::compare_files); a table
// on stdout and, with --json, every number.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.hpp"
#include "cli/csv_flags.hpp"
#include "io/atomic_file.hpp"
#include "io/path_identity.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/evaluation/compare.hpp"

namespace tabula::cli {
namespace {

struct CompareCliOptions {
  evaluation::CompareOptions compare;
  std::vector<std::string> models;
  std::string json, report;
};

void run(CompareCliOptions& options) {
  if (options.models.size() != 2)
    throw InputError(fmt::format("compare: --model must be given twice (a, then b), got {}",
                                 options.models.size()));
  options.compare.model_a = options.models[0];
  options.compare.model_b = options.models[1];
  io::check_outputs_distinct({{"--model", options.compare.model_a},
                              {"--model", options.compare.model_b},
                              {"--data", options.compare.data_path}},
                             {{"--json", options.json}, {"--report", options.report}});
  const nlohmann::json c = evaluation::compare_files(default_backend(), options.compare);
  detail::PendingFiles outputs;
  // Both outputs appear together, complete, or not at all.
  if (!options.report.empty()) outputs.add(options.report, evaluation::compare_report_page(c));
  if (!options.json.empty()) outputs.add(options.json, c.dump(2) + "\n");
  outputs.commit();
  fmt::print("{}", evaluation::compare_summary(c));
  if (!options.report.empty()) fmt::print("wrote {}\n", options.report);
  if (!options.json.empty()) fmt::print("wrote {}\n", options.json);
  std::fflush(stdout);
}

}  // namespace

void add_compare_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<CompareCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "compare",
      "Champion against challenger: two models' metrics on the same labelled rows, the "
      "differences with paired bootstrap intervals, and a verdict");
  sub->add_option("--model", options->models,
                  "Model file, given twice: a (the champion), then b (the challenger)")
      ->required();
  sub->add_option("--data", options->compare.data_path,
                  "CSV file with both models' input columns and the true target")
      ->required();
  sub->add_option("--target", options->compare.target,
                  "Target column (default: model a's training target name)");
  sub->add_option("--json", options->json, "Write every number of the comparison as JSON here");
  sub->add_option("--report", options->report,
                  "Write a self-contained HTML page of the comparison here");
  sub->add_option("--n-bootstrap", options->compare.n_bootstrap, "Paired bootstrap resamples")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sub->add_option("--confidence", options->compare.confidence, "Level of the intervals")
      ->check(CLI::Range(0.5, 0.999))
      ->capture_default_str();
  sub->add_option("--seed", options->compare.seed, "Seed of the resamples")->capture_default_str();
  add_csv_flags(sub, options->compare.csv, false);
  commands.push_back({sub, [options] { run(*options); }});
}

}  // namespace tabula::cli

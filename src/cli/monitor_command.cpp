// tabula monitor: a data file compared with the model's training profile (drift of every input
// column and of the predictions), as an HTML report and/or JSON; exits with status 3 when a
// column drifted, so cron or an orchestrator can trigger retraining.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.hpp"
#include "cli/csv_flags.hpp"
#include "io/atomic_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/monitoring/monitor.hpp"

namespace tabula::cli {
namespace {

constexpr int kExitDrift = 3;

struct MonitorCliOptions {
  monitoring::MonitorFileOptions file;
  std::string report, json;
};

int run(const MonitorCliOptions& options) {
  const nlohmann::json r = monitoring::monitor_file(default_backend(), options.file);
  // Both outputs appear together, complete, or not at all.
  detail::PendingFiles outputs;
  if (!options.report.empty()) outputs.add(options.report, monitoring::monitor_page(r));
  if (!options.json.empty()) outputs.add(options.json, r.dump(2) + "\n");
  outputs.commit();
  fmt::print("model {} ({}) on {}: {} rows\n{}", r.at("model").get<std::string>(),
             r.at("task").get<std::string>(), options.file.data_path,
             r.at("rows").get<std::int64_t>(), monitoring::monitor_summary(r));
  if (!options.report.empty()) fmt::print("wrote {}\n", options.report);
  if (!options.json.empty()) fmt::print("wrote {}\n", options.json);
  std::fflush(stdout);
  return r.at("status").get<std::string>() == "drift" ? kExitDrift : 0;
}

}  // namespace

void add_monitor_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<MonitorCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "monitor",
      "Compare a data file with the model's training profile: PSI, KS, missing and unseen "
      "shares per column and for the predictions (HTML report, JSON); exit status 3 on drift");
  sub->add_option("--model", options->file.model_path, "Model file written by tabula train/tune")
      ->required();
  sub->add_option("--data", options->file.data_path,
                  "CSV file with the model's input columns (other columns are ignored)")
      ->required();
  sub->add_option("--report", options->report, "Write a self-contained HTML report here");
  sub->add_option("--json", options->json, "Write every statistic as JSON here");
  sub->add_option("--threshold", options->file.drift.threshold,
                  "PSI above which a column has drifted")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--min-rows", options->file.drift.min_rows,
                  "Fewer rows than this give no verdict")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_csv_flags(sub, options->file.csv, false);
  commands.push_back(Command::with_status(sub, [options] { return run(*options); }));
}

}  // namespace tabula::cli

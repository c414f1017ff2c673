// Each subcommand registers itself with the CLI11 app in one explicit function and hands back
// what to run when it is chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace tabula::cli {

struct Command {
  /// A command that exits with status 0 unless it throws.
  Command(CLI::App* app, std::function<void()> action)
      : app(app), run([action = std::move(action)] {
          action();
          return 0;
        }) {}
  /// A command whose exit status is an answer (monitor: 3 when drift is found).
  static Command with_status(CLI::App* app, std::function<int()> run) {
    Command c(app, {});
    c.run = std::move(run);
    return c;
  }

  CLI::App* app = nullptr;   // the subcommand, owned by the parent app
  std::function<int()> run;  // runs after every option is parsed and applied: the exit status
};

using Commands = std::vector<Command>;

void add_devices_command(CLI::App& app, Commands& commands);
void add_describe_command(CLI::App& app, Commands& commands);
void add_models_command(CLI::App& app, Commands& commands);
void add_train_command(CLI::App& app, Commands& commands);
void add_predict_command(CLI::App& app, Commands& commands);
void add_inspect_command(CLI::App& app, Commands& commands);
void add_export_command(CLI::App& app, Commands& commands);
void add_transform_command(CLI::App& app, Commands& commands);
void add_score_command(CLI::App& app, Commands& commands);
void add_evaluate_command(CLI::App& app, Commands& commands);
void add_monitor_command(CLI::App& app, Commands& commands);
void add_compare_command(CLI::App& app, Commands& commands);
void add_tune_command(CLI::App& app, Commands& commands);
void add_serve_command(CLI::App& app, Commands& commands);

/// Registers every subcommand; the one place that lists them.
inline void add_all_commands(CLI::App& app, Commands& commands) {
  add_devices_command(app, commands);
  add_describe_command(app, commands);
  add_models_command(app, commands);
  add_train_command(app, commands);
  add_predict_command(app, commands);
  add_inspect_command(app, commands);
  add_export_command(app, commands);
  add_transform_command(app, commands);
  add_score_command(app, commands);
  add_evaluate_command(app, commands);
  add_monitor_command(app, commands);
  add_compare_command(app, commands);
  add_tune_command(app, commands);
  add_serve_command(app, commands);
}

}  // namespace tabula::cli

// tabula models: the registered model kinds and the tasks each can do (from the registry, so
// scripts and tests that must cover every model can enumerate them).
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/models/registry.hpp"

namespace tabula::cli {
namespace {

void print_models(bool json) {
  nlohmann::json out = nlohmann::json::array();
  if (!json) fmt::print("{:<20} {}\n", "MODEL", "TASKS");
  for (const std::string& name : estimator_names()) {
    nlohmann::json tasks = nlohmann::json::array();
    std::string text;
    for (Task task : estimator_tasks(name)) {
      tasks.push_back(to_string(task));
      text += (text.empty() ? "" : ",") + std::string(to_string(task));
    }
    out.push_back({{"name", name}, {"tasks", tasks}});
    if (!json) fmt::print("{:<20} {}\n", name, text);
  }
  if (json) fmt::print("{}\n", out.dump(2));
  std::fflush(stdout);
}

}  // namespace

void add_models_command(CLI::App& app, Commands& commands) {
  auto json = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("models", "List the model kinds and the tasks each can do");
  sub->add_flag("--json", *json, "Print a JSON array of {name, tasks}");
  commands.push_back({sub, [json] { print_models(*json); }});
}

}  // namespace tabula::cli

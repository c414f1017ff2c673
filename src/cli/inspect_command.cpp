// tabula inspect: what a model file holds (tabula::describe_model).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.hpp"
#include "tabula/artifact/model_file.hpp"

namespace tabula::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
};

}  // namespace

void add_inspect_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* sub = app.add_subcommand("inspect", "Show what a model file holds");
  sub->add_option("model", options->model, "Model file")->required();
  sub->add_flag("--json", options->json, "Print JSON");
  commands.push_back({sub, [options] {
                        const nlohmann::json d = describe_model(options->model);
                        if (options->json)
                          fmt::print("{}\n", d.dump(2));
                        else
                          fmt::print("{}", format_model_description(d));
                        std::fflush(stdout);
                      }});
}

}  // namespace tabula::cli

// tabula transform: apply a transform model (pca) to a CSV file (tabula::transform_file).
#include <spdlog/spdlog.h>

#include <memory>

#include "cli/command.hpp"
#include "tabula/batch_predict.hpp"
#include "tabula/device_registry.hpp"

namespace tabula::cli {
namespace {

struct TransformOptions {
  std::string model, data, out;
};

}  // namespace

void add_transform_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<TransformOptions>();
  CLI::App* sub = app.add_subcommand("transform", "Apply a transform model (pca) to a CSV file");
  sub->add_option("--model", options->model, "Model file of a transform")->required();
  sub->add_option("--data", options->data, "CSV file; columns are matched by name")->required();
  sub->add_option("--out", options->out, "CSV file to write")->required();
  commands.push_back(
      {sub, [options] {
         const BatchResult r =
             transform_file(default_backend(), options->model, options->data, options->out);
         for (const std::string& note : r.notes) spdlog::info("{}", note);
         spdlog::info("wrote {} rows x {} columns to {}", r.rows, r.columns.size(), options->out);
       }});
}

}  // namespace tabula::cli

// tabula export: a model file in another format (ONNX: tabula::export_onnx; an MLflow model
// directory: tabula::export_mlflow).
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "tabula/core/error.hpp"
#include "tabula/export/mlflow.hpp"
#include "tabula/export/onnx.hpp"

namespace tabula::cli {
namespace {

struct ExportOptions {
  std::string model;
  std::string format = "onnx";
  std::string out;
};

}  // namespace

void add_export_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* sub =
      app.add_subcommand("export", "Write a model file in another format (ONNX, MLflow)");
  sub->add_option("--model", options->model, "Model file")->required();
  sub->add_option("--format", options->format,
                  "onnx (a file) or mlflow (an MLflow model directory)")
      ->check(CLI::IsMember({"onnx", "mlflow"}));
  sub->add_option("--out", options->out, "Output file or directory (written whole or not at all)")
      ->required();
  commands.push_back({sub, [options] {
                        if (options->format == "mlflow")
                          export_mlflow(options->model, options->out);
                        else
                          export_onnx(options->model, options->out);
                        fmt::print(stderr, "wrote {} ({} of {})\n", options->out, options->format,
                                   options->model);
                      }});
}

}  // namespace tabula::cli

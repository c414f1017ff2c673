// tabula predict: apply a model file to a CSV file (tabula::predict_file).
#include <spdlog/spdlog.h>

#include <memory>

#include "cli/command.hpp"
#include "tabula/batch_predict.hpp"
#include "tabula/device_registry.hpp"

namespace tabula::cli {
namespace {

struct PredictOptions {
  std::string model, data, out;
  bool proba = false;
};

}  // namespace

void add_predict_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<PredictOptions>();
  CLI::App* sub = app.add_subcommand(
      "predict", "Write one prediction per input row (or class probabilities with --proba)");
  sub->add_option("--model", options->model, "Model file written by tabula train")->required();
  sub->add_option("--data", options->data, "CSV file; columns are matched by name")->required();
  sub->add_option("--out", options->out, "CSV file to write")->required();
  sub->add_flag("--proba", options->proba, "Write proba_<label> columns (classifiers)");
  commands.push_back({sub, [options] {
                        const BatchResult r =
                            predict_file(default_backend(), options->model, options->data,
                                         options->out, options->proba);
                        for (const std::string& note : r.notes) spdlog::info("{}", note);
                        spdlog::info("wrote {} rows to {}", r.rows, options->out);
                      }});
}

}  // namespace tabula::cli

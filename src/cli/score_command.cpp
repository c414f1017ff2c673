// tabula score: a metric of predictions already on disk, by scikit-learn scorer name.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::cli {
namespace {

struct ScoreOptions {
  std::string y_true, y_pred, proba, metric;
};

/// The numeric columns of a CSV file, row-major; `cols` receives their count.
std::vector<double> read_numbers(const std::string& path, std::int64_t& cols) {
  const Dataset data = io::read_csv(path);
  cols = data.cols();
  const std::int64_t rows = data.rows();
  std::vector<double> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t j = 0; j < cols; ++j) {
    const Column& c = data.columns[static_cast<std::size_t>(j)];
    if (c.type != ColumnType::kNumeric)
      throw InputError(path + ": column '" + c.name + "' is not numeric");
    for (std::int64_t i = 0; i < rows; ++i)
      out[static_cast<std::size_t>(i * cols + j)] = c.numeric[static_cast<std::size_t>(i)];
  }
  return out;
}

std::vector<double> read_column(const std::string& path) {
  std::int64_t cols = 0;
  std::vector<double> v = read_numbers(path, cols);
  if (cols != 1) throw InputError(path + ": expected one column, found " + std::to_string(cols));
  return v;
}

void run(const ScoreOptions& o) {
  const metrics::Scorer& scorer = metrics::scorer(o.metric);
  const std::vector<double> y_true = read_column(o.y_true);
  std::vector<double> y_pred, proba;
  std::int64_t k = 0;
  if (scorer.needs_proba) {
    if (o.proba.empty()) throw InputError("metric " + scorer.name + " needs --proba");
    proba = read_numbers(o.proba, k);
  } else {
    if (o.y_pred.empty()) throw InputError("metric " + scorer.name + " needs --y-pred");
    y_pred = read_column(o.y_pred);
  }
  fmt::print("{}\n", metrics::score(scorer.name, y_true, y_pred, proba, k));
  std::fflush(stdout);
}

}  // namespace

void add_score_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<ScoreOptions>();
  CLI::App* sub = app.add_subcommand(
      "score", "Compute a metric (scikit-learn scorer name) of predictions in CSV files");
  sub->add_option("--y-true", options->y_true, "CSV file, one column: the true values")->required();
  sub->add_option("--y-pred", options->y_pred, "CSV file, one column: predicted labels/values");
  sub->add_option("--proba", options->proba,
                  "CSV file, one column per class (sorted labels): probabilities");
  sub->add_option("--metric", options->metric, "Scorer name, e.g. roc_auc, f1_macro, r2")
      ->required();
  commands.push_back({sub, [options] { run(*options); }});
}

}  // namespace tabula::cli

// `tabula compare` as a library call: champion (a) against challenger (b) on the same labelled
// rows. Every metric of the task is computed for both models, with the difference b - a and a
// paired bootstrap confidence interval (the same resampled rows for both models), and a verdict
// per metric and overall. docs/evaluation.md, "Comparing two models", lists the JSON fields.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "tabula/backend/backend.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::evaluation {

struct CompareOptions {
  std::string model_a, model_b, data_path;
  std::string target;  // empty: model a's training target
  io::CsvSettings csv;
  int n_bootstrap = 1000;    // resamples, at least 1
  double confidence = 0.95;  // of the intervals, in (0, 1)
  std::uint64_t seed = 0;    // the resamples': the same seed gives the same intervals
};

/// Loads both models and the data once, predicts every row with each, and compares them.
/// InputError (naming the files) when either model is a transform or a clustering, when the two
/// differ in task or, for classifiers, in class labels, for the data's problems (as evaluate:
/// a missing target column, a missing target value, an unseen class), and for options out of
/// range. Metrics: classification accuracy, balanced_accuracy, f1 (binary) or f1_macro,
/// roc_auc and log_loss (when both models give probabilities); regression r2,
/// mean_squared_error, root_mean_squared_error, mean_absolute_error.
nlohmann::json compare_files(Backend& backend, const CompareOptions& options);

/// A self-contained HTML page (inline SVG, no script): the table of both values, b - a, its
/// interval and the verdicts, and one bar chart of a and b per metric.
std::string compare_report_page(const nlohmann::json& comparison);

/// The comparison as a few lines for a terminal: a table of the metrics and the verdicts.
std::string compare_summary(const nlohmann::json& comparison);

}  // namespace tabula::evaluation

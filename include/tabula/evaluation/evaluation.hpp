// `tabula evaluate` as a library call: a fitted model scored on labelled rows, with what people
// look at besides the numbers: confusion matrix, ROC, precision-recall and calibration curves
// (classification), predicted-vs-actual and residuals (regression), the model's own feature
// importances or coefficients by name, and permutation importance of its input columns. The
// result is one JSON document (docs/evaluation.md lists its fields); the HTML report and the
// text summary are drawn from it, and the tune report reuses the same sections.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "tabula/artifact/model_file.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula::evaluation {

struct EvaluationOptions {
  int n_repeats = 5;             // permutation importance: shuffles per column
  std::uint64_t seed = 0;        // permutation importance: the shuffles' seed
  std::size_t max_classes = 10;  // one-vs-rest curves for the first this many classes
  /// Permutation importance is computed on at most this many rows (evenly spaced), as it
  /// rescores the table n_repeats times per column.
  std::int64_t max_importance_rows = 20000;
};

/// A fitted model: its pipeline, its estimator and the schema naming its target and classes.
struct FittedModel {
  const Estimator& estimator;
  const Pipeline& pipeline;
  const ModelSchema& schema;
};

/// Scores `model` on `data` (raw input columns; extra columns are ignored) against `y` (the
/// target encoded as the model encodes it: encode_target_as). InputError for a transform
/// model, for rows the pipeline cannot encode (Pipeline::transform's messages), and for a
/// length mismatch. Metrics or curves undefined on these rows (a class absent) are left out
/// with a note in "notes", never NaN.
nlohmann::json evaluate(Backend& backend, const FittedModel& model, const Dataset& data,
                        std::span<const double> y, const EvaluationOptions& options);

struct EvaluateFileOptions {
  std::string model_path, data_path;
  std::string target;  // empty: the model's stored target name
  io::CsvSettings csv;
  EvaluationOptions evaluation;
};

/// Loads the model file and reads the data file, then evaluate(). InputError for a transform
/// model, a data file without the target column (naming it), and the target's problems
/// (encode_target_as: a missing value or an unseen class, with its row).
nlohmann::json evaluate_file(Backend& backend, const EvaluateFileOptions& options);

/// The charts and tables of an evaluation as HTML sections (inline SVG, no script), for a page
/// of the caller's.
std::string report_sections(const nlohmann::json& evaluation);
/// A whole self-contained page: style, title, report_sections.
std::string report_page(const nlohmann::json& evaluation);
/// A few lines for a terminal: the metrics and the top permutation importances.
std::string summary_text(const nlohmann::json& evaluation);

}  // namespace tabula::evaluation

// `tabula monitor` as a library call: a data file compared with a model's training profile
// (the drift of every input column and of the model's predictions), as JSON, an HTML report
// with the distributions of drifted columns overlaid, and a text summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tabula/backend/backend.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/monitoring/drift.hpp"

namespace tabula::monitoring {

struct MonitorFileOptions {
  std::string model_path, data_path;
  io::CsvSettings csv;
  DriftOptions drift;
};

/// Loads the model (InputError when its file has no profile), reads the data file, scores the
/// rows the pipeline accepts (the others are counted in "rows_refused", with the first
/// reason), and returns drift_report() with "model_file", "data_file", "model", "task",
/// "reference" (the profile's source).
nlohmann::json monitor_file(Backend& backend, const MonitorFileOptions& options);

/// A self-contained HTML page: the verdict, a table of every column's statistics and, for the
/// drifted columns (else the few with the largest PSI), reference and current shares overlaid.
std::string monitor_page(const nlohmann::json& report);
/// The verdict and the columns by falling PSI, for the terminal.
std::string monitor_summary(const nlohmann::json& report);

}  // namespace tabula::monitoring

// Applying a model file to a data file (`tabula predict`, `tabula transform`) as a stream:
// a reader thread parses chunks of rows, the calling thread runs the pipeline and the estimator
// on the backend, a writer thread formats and writes; bounded queues between them keep memory
// at a few chunks whatever the file size. Output rows are in input order; the output (and the
// rejects file) is written under a temporary name in the same folder and renamed at the end,
// so a failed job leaves no file behind and an existing file untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/io/csv.hpp"

namespace tabula {

enum class OnError { kStop, kSkip };

/// Parses "stop" / "skip"; InputError otherwise.
OnError parse_on_error(const std::string& text);

/// How far a batch job is; reported from the writer thread after each chunk.
struct BatchProgress {
  std::int64_t rows = 0;          // rows written so far
  std::int64_t rejected = 0;      // rows rejected so far
  std::uint64_t bytes_read = 0;   // input bytes consumed by the chunks written so far
  std::uint64_t bytes_total = 0;  // input size, 0 when unknown (not a regular file)
};

struct BatchOptions {
  /// Rows per chunk (at least 1); memory grows with it, a few chunks are in flight.
  std::int64_t chunk_rows = 65536;
  /// predict: one proba_<label> column per class instead of the prediction (classifiers).
  bool proba = false;
  /// Input column copied to the first output column, as written (empty: none).
  std::string id_column;
  /// Input columns copied to the output after the id column, as written (a column the model
  /// also reads is written as parsed: numbers in shortest form, missing as empty).
  std::vector<std::string> keep_columns;
  /// kStop: the first bad row fails the job with file, line, column and reason. kSkip: bad rows
  /// are left out of the output and listed in the rejects file (columns line,column,reason).
  OnError on_error = OnError::kStop;
  /// The rejects file in skip mode; empty: "<out>.rejects.csv".
  std::string rejects_path;
  /// Only read and parse the input as the model needs it (bad rows are found as usual):
  /// nothing is scored and no file is written. Measures the parsing floor; validates a file.
  bool check_only = false;
  /// The input's delimiter and extra missing values (column types come from the model: the
  /// settings' categorical and numeric lists are refused).
  io::CsvSettings csv;
  /// Called after each chunk is written (from the writer thread); may be empty.
  std::function<void(const BatchProgress&)> progress;
};

struct BatchResult {
  std::int64_t rows = 0;             // rows scored and written
  std::int64_t rejected = 0;         // rows left out (skip mode)
  std::vector<std::string> columns;  // the output header (CSV) or the columns of the array (.npy)
  std::vector<std::string> notes;    // e.g. the input columns the model ignored
  std::string rejects_path;          // written in skip mode, empty otherwise
};

/// Writes one row per scored input row to `out_path`: CSV (header: the id column, the kept
/// columns, then `prediction` (values, or the original class labels of a classifier) or, with
/// `proba`, `proba_<label>` per class), or, when `out_path` ends in ".npy", a float64 array
/// (rows, or rows x classes with `proba`; no id or kept columns, numeric class labels only).
/// InputError, before anything is written, for: a damaged or non-model file, a transform model,
/// `proba` on a regressor, missing feature columns (all named), a missing id or kept column,
/// options .npy cannot hold; and while streaming for a bad row (stop mode) or an unterminated
/// quote (file:line: column: reason).
BatchResult predict_file(Backend& backend, const std::string& model_path,
                         const std::string& data_path, const std::string& out_path,
                         const BatchOptions& options);
/// The same with default options and `proba`.
BatchResult predict_file(Backend& backend, const std::string& model_path,
                         const std::string& data_path, const std::string& out_path, bool proba);

/// Writes the transform's outputs (header `pc1`, `pc2`, ... for PCA) the same way; `proba` is
/// refused. InputError for a model that does not transform, and as above.
BatchResult transform_file(Backend& backend, const std::string& model_path,
                           const std::string& data_path, const std::string& out_path,
                           const BatchOptions& options);
BatchResult transform_file(Backend& backend, const std::string& model_path,
                           const std::string& data_path, const std::string& out_path);

}  // namespace tabula

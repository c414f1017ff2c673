// What the batch commands (predict, transform) share on the command line: their options, the
// progress bar and the summary.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "tabula/scoring/batch_predict.hpp"

namespace tabula::cli {

/// Adds --chunk-rows, --id-column, --keep-columns, --on-error, --rejects and --quiet to `sub`,
/// stored into the references (which must outlive the parse).
void add_batch_options(CLI::App* sub, BatchOptions& batch, std::string& on_error, bool& quiet);

/// Logs the notes and the summary line of a finished job (nothing when `quiet`).
void report_batch(const BatchResult& r, const std::string& out, bool quiet);

/// What a batch command (predict, transform) is given.
struct BatchCommandOptions {
  std::string model, data, out, on_error = "stop";
  BatchOptions batch;
  bool quiet = false;
};

/// predict_file or transform_file.
using BatchJob = BatchResult (*)(Backend&, const std::string& model_path,
                                 const std::string& data_path, const std::string& out_path,
                                 const BatchOptions&);

/// Checks the options, runs `job` on the default backend with a progress bar, and reports.
void run_batch_command(BatchCommandOptions& options, BatchJob job);

/// A one-line progress bar on stderr for long jobs: rows, rows/s and, when the input size is
/// known, percent and ETA from the bytes read. Drawn only when stderr is a terminal.
class ProgressBar {
 public:
  /// Draws nothing unless `enabled` and stderr is a terminal.
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Redraws at most a few times a second; safe to call from any one thread at a time.
  void update(const BatchProgress& progress);
  /// Clears the line (before the summary is logged).
  void finish();

 private:
  bool active_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  std::mutex mutex_;
};

}  // namespace tabula::cli

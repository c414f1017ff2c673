#include "cli/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

#include "cli/csv_flags.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"

namespace tabula::cli {
namespace {

constexpr auto kRedrawEvery = std::chrono::milliseconds(200);

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

void add_batch_options(CLI::App* sub, BatchOptions& batch, std::string& on_error, bool& quiet) {
  sub->add_option("--chunk-rows", batch.chunk_rows,
                  "Rows per chunk; memory grows with it (a few chunks are in flight)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--id,--id-column", batch.id_column,
                  "Input column copied, as written, to the first output column (default: the "
                  "model's id column, train --id, where the input has it)");
  sub->add_option("--keep-columns", batch.keep_columns,
                  "Input columns copied to the output, comma-separated")
      ->delimiter(',');
  sub->add_option("--on-error", on_error,
                  "stop: the first bad row fails the job, nothing is written; skip: bad rows go "
                  "to the rejects file")
      ->check(CLI::IsMember({"stop", "skip"}))
      ->capture_default_str();
  sub->add_option("--rejects", batch.rejects_path,
                  "Rejects file for --on-error skip (default: <out>.rejects.csv)");
  sub->add_flag("--check-only", batch.check_only,
                "Only read and check the input (types, field counts): no scoring, no output");
  sub->add_flag("--quiet", quiet, "No progress bar and no summary");
  add_csv_flags(sub, batch.csv, false);
}

void report_batch(const BatchResult& r, const std::string& out, bool quiet) {
  if (quiet) return;
  for (const std::string& note : r.notes) spdlog::info("{}", note);
  if (out.empty()) {  // --check-only
    spdlog::info("checked {} rows: {} readable, {} bad", r.rows + r.rejected, r.rows, r.rejected);
    return;
  }
  if (!r.rejects_path.empty())
    spdlog::info("scored {}, rejected {}, total {} lines; rejects in {}", r.rows, r.rejected,
                 r.rows + r.rejected, r.rejects_path);
  spdlog::info("wrote {} rows x {} columns to {}", r.rows, r.columns.size(), out);
}

ProgressBar::ProgressBar(bool enabled)
    : active_(enabled && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(const BatchProgress& p) {
  if (!active_) return;
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < kRedrawEvery) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(p.rows) / elapsed : 0.0;
  std::string line = fmt::format("\r{:>12} rows  {:>10.0f} rows/s", p.rows, rate);
  if (p.rejected > 0) line += fmt::format("  {} rejected", p.rejected);
  if (p.bytes_total > 0 && p.bytes_read > 0) {
    const double done = static_cast<double>(p.bytes_read) / static_cast<double>(p.bytes_total);
    line += fmt::format("  {:5.1f}%", 100.0 * std::min(done, 1.0));
    if (done > 0 && done < 1) line += "  ETA " + clock_text(elapsed * (1 - done) / done);
  }
  line += "\x1b[K";  // clear what a longer previous line left
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  std::lock_guard lock(mutex_);
  if (!drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

void run_batch_command(BatchCommandOptions& options, BatchJob job) {
  options.batch.on_error = parse_on_error(options.on_error);
  if (options.out.empty() && !options.batch.check_only)
    throw InputError("--out is required (unless --check-only)");
  ProgressBar bar(!options.quiet);
  options.batch.progress = [&bar](const BatchProgress& p) { bar.update(p); };
  const BatchResult r =
      job(default_backend(), options.model, options.data, options.out, options.batch);
  bar.finish();
  report_batch(r, options.batch.check_only ? "" : options.out, options.quiet);
}

}  // namespace tabula::cli

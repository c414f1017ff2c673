// Parses a CSV file N times with tabula's reader and prints the median time, MB/s and rows/s as
// one JSON object. Driven by benchmarks/csv/bench_csv.py, which compares it with pandas and
// pyarrow on the same files.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/csv.hpp"

namespace {

// CPU seconds (user + system, all threads) used by this process so far: on a shared machine
// this says more than wall time.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time tabula::io::read_csv on one file"};
  std::string file;
  int repeat = 3;
  int threads = 0;
  app.add_option("file", file, "CSV file")->required()->check(CLI::ExistingFile);
  app.add_option("--repeat", repeat, "Parses to time (the median is reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "CPU threads (0: all)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  tabula::set_thread_count(threads);
  spdlog::set_default_logger(spdlog::stderr_color_mt("tabula"));  // stdout holds the JSON

  std::vector<double> seconds, cpu;
  std::int64_t rows = 0, cols = 0;
  try {
    for (int r = 0; r < repeat; ++r) {
      const double cpu_start = cpu_seconds();
      const auto start = std::chrono::steady_clock::now();
      const tabula::Dataset data = tabula::io::read_csv(file);
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      cpu.push_back(cpu_seconds() - cpu_start);
      rows = data.rows();
      cols = data.cols();
    }
  } catch (const tabula::Error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  }
  std::sort(seconds.begin(), seconds.end());
  std::sort(cpu.begin(), cpu.end());
  const double median = seconds[seconds.size() / 2];
  const double megabytes = static_cast<double>(std::filesystem::file_size(file)) / 1e6;
  fmt::print(
      "{{\"file\": \"{}\", \"threads\": {}, \"repeat\": {}, \"rows\": {}, \"cols\": {}, "
      "\"megabytes\": {:.3f}, \"median_s\": {:.4f}, \"min_s\": {:.4f}, \"median_cpu_s\": {:.4f}, "
      "\"mb_per_s\": {:.1f}, "
      "\"rows_per_s\": {:.0f}}}\n",
      file, tabula::thread_count(), repeat, rows, cols, megabytes, median, seconds.front(),
      cpu[cpu.size() / 2], megabytes / median, static_cast<double>(rows) / median);
  return 0;
}

// Gram matrix throughput against the machine's dgemm peak through the same BLAS.
//
//   bench_gram [--device cpu] [--rows 1000000] [--cols 100] [--runs 5] [--threads 0]
//              [--peak-size 2000] [--json FILE]
//
// Gram: XᵀX of a rows x cols row-major matrix (float32 and float64 input, float64 result),
// median of --runs timed runs after one warm-up. Flop convention: rows * cols² per Gram (a
// syrk computes cols(cols+1)/2 dot products of length rows, 2 flops per term).
// Peak on the CPU: every pool thread runs one single-threaded BLAS dgemm on its own
// independent peak-size² matrices at once (2 * size³ flops each), best of the runs; the Gram
// runs on the same threads, and its dense products use the same BLAS where it uses one. On a
// CUDA device the peak is one backend dgemm (cuBLAS). Each run times the peak and both Grams
// back to back, so that all three see the same load on a shared machine.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "backend/cpu/blas.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

using Clock = std::chrono::steady_clock;

// CPU time of the whole process (all threads). On a shared machine the wall clock also counts
// time when other programs held the cores; CPU time does not.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

struct Timing {
  double wall = 0.0;
  double cpu = 0.0;
};

// Times fn() in wall-clock and process CPU seconds.
template <typename Fn>
Timing timed(const Fn& fn) {
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  fn();
  return {std::chrono::duration<double>(Clock::now() - start).count(),
          process_cpu_seconds() - cpu_start};
}

// Uniform values in [-1, 1) from a counter-based hash (splitmix64): reproducible for a seed,
// generated in parallel.
template <typename T>
std::vector<T> random_values(std::int64_t count, std::uint64_t seed) {
  std::vector<T> values(static_cast<std::size_t>(count));
  parallel_blocks(count, 1 << 20, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(i + 1);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      values[static_cast<std::size_t>(i)] = static_cast<T>(double(z >> 11) * 0x1.0p-52 - 1.0);
    }
  });
  return values;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One Gram problem on the device: X (rows x cols, row-major) and the output.
template <typename T>
class GramCase {
 public:
  GramCase(Backend& backend, std::int64_t rows, std::int64_t cols)
      : backend_(backend),
        rows_(rows),
        cols_(cols),
        x_(Buffer<T>::from_host(backend, random_values<T>(rows * cols, 2026))),
        out_(backend, cols * cols) {}
  const char* dtype() const { return std::is_same_v<T, float> ? "float32" : "float64"; }
  Timing run() {
    return timed([&] {
      backend_.linalg().gram(x_.matrix(rows_, cols_, Layout::kRowMajor), {}, RowSubset::all(),
                             out_.matrix(cols_, cols_, Layout::kColMajor));
      backend_.synchronize();
    });
  }

 private:
  Backend& backend_;
  std::int64_t rows_, cols_;
  Buffer<T> x_;
  Buffer<double> out_;
};

// The dgemm peak. CPU: every pool thread multiplies its own size x size matrices with
// single-threaded BLAS at the same time. Other devices: one backend dgemm (cuBLAS).
class PeakCase {
 public:
  PeakCase(Backend& backend, std::int64_t size) : backend_(backend), size_(size) {
    const int copies = backend.device().is_cpu() ? thread_count() : 1;
    for (int t = 0; t < copies; ++t) {
      a_.push_back(Buffer<double>::from_host(backend, random_values<double>(size * size, 100 + t)));
      b_.push_back(Buffer<double>::from_host(backend, random_values<double>(size * size, 200 + t)));
      c_.push_back(Buffer<double>::zeros(backend, size * size));
    }
  }
  std::string method() const {
    if (!backend_.device().is_cpu())
      return fmt::format("one backend dgemm {}x{}, best of the rounds", size_, size_);
    return fmt::format(
        "{} threads at once, each one single-threaded {} dgemm {}x{}, best of the rounds",
        a_.size(), cpu::blas_name(), size_, size_);
  }
  double flops() const {
    return 2.0 * double(size_) * double(size_) * double(size_) * double(a_.size());
  }
  Timing run() {
    return timed([&] {
      if (backend_.device().is_cpu()) {
        parallel_for(static_cast<std::int64_t>(a_.size()), [&](std::int64_t t) {
          cpu::gemm(Op::kNone, Op::kNone, size_, size_, size_, 1.0, a_[t].data(), size_,
                    b_[t].data(), size_, 0.0, c_[t].data(), size_);
        });
      } else {
        backend_.linalg().gemm(Op::kNone, Op::kNone, 1.0,
                               a_[0].matrix(size_, size_, Layout::kColMajor),
                               b_[0].matrix(size_, size_, Layout::kColMajor), 0.0,
                               c_[0].matrix(size_, size_, Layout::kColMajor));
        backend_.synchronize();
      }
    });
  }

 private:
  Backend& backend_;
  std::int64_t size_;
  std::vector<Buffer<double>> a_, b_, c_;
};

int run(int argc, char** argv) {
  CLI::App app{"Gram matrix GFLOP/s against the dgemm peak of the same BLAS"};
  std::string device_name = "cpu";
  std::int64_t rows = 1000000, cols = 100, peak_size = 2000;
  int runs = 5, threads = 0;
  std::string json_path;
  app.add_option("--device", device_name, "cpu, cuda:N or auto");
  app.add_option("--rows", rows, "rows of X")->check(CLI::PositiveNumber);
  app.add_option("--cols", cols, "columns of X")->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "timed runs (median reported)")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "CPU threads (0: all hardware threads)");
  app.add_option("--peak-size", peak_size, "order of the dgemm used for the peak")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", json_path, "also write the JSON result to this file");
  CLI11_PARSE(app, argc, argv);

  set_thread_count(threads);
  DeviceRegistry& registry = DeviceRegistry::instance();
  const Device device = registry.resolve(Device::parse(device_name));
  Backend& backend = registry.backend(device);
  const DeviceInfo* info = nullptr;
  for (const DeviceInfo& d : registry.devices())
    if (d.device == device) info = &d;

  // Rounds interleave the peak and the two Grams so that all three see the same machine load
  // (this benchmark may share its cores); round 0 is a warm-up.
  PeakCase peak_case(backend, peak_size);
  GramCase<float> gram32(backend, rows, cols);
  GramCase<double> gram64(backend, rows, cols);
  std::vector<Timing> peak_times, times32, times64;
  for (int round = 0; round <= runs; ++round) {
    const Timing p = peak_case.run(), t32 = gram32.run(), t64 = gram64.run();
    if (round == 0) continue;
    peak_times.push_back(p);
    times32.push_back(t32);
    times64.push_back(t64);
  }
  auto wall = [](const std::vector<Timing>& t) {
    std::vector<double> v;
    for (const Timing& x : t) v.push_back(x.wall);
    return v;
  };
  auto cpu = [](const std::vector<Timing>& t) {
    std::vector<double> v;
    for (const Timing& x : t) v.push_back(x.cpu);
    return v;
  };
  const std::vector<double> peak_wall = wall(peak_times), peak_cpu = cpu(peak_times);
  const double peak_gflops =
      peak_case.flops() / *std::min_element(peak_wall.begin(), peak_wall.end()) * 1e-9;
  // Per CPU-second: flops / process CPU time, for the peak and the Grams alike.
  const double peak_cpu_gflops =
      peak_case.flops() / *std::min_element(peak_cpu.begin(), peak_cpu.end()) * 1e-9;
  struct Row {
    const char* dtype;
    std::vector<Timing> times;
  };
  const Row rows_out[] = {{gram32.dtype(), times32}, {gram64.dtype(), times64}};
  const std::string blas = device.is_cpu() ? cpu::blas_name() : "cuBLAS";

  fmt::print("gram {} x {} on {} ({}), {} threads, BLAS {}\n", rows, cols, device.to_string(),
             info ? info->name : "?", thread_count(), blas);
  fmt::print("dgemm peak: {:.1f} GFLOP/s wall, {:.1f} GFLOP per CPU-second ({})\n", peak_gflops,
             peak_cpu_gflops, peak_case.method());
  fmt::print("{:<8} {:>10} {:>10} {:>9} {:>8} {:>10} {:>9} {:>8}\n", "input", "median s", "best s",
             "GFLOP/s", "of peak", "median cpu", "GF/cpu-s", "of peak");
  nlohmann::json json = {{"benchmark", "gram"},
                         {"device", device.to_string()},
                         {"device_name", info ? info->name : ""},
                         {"threads", thread_count()},
                         {"blas", blas},
                         {"rows", rows},
                         {"cols", cols},
                         {"runs", runs},
                         {"flops_per_gram", double(rows) * double(cols) * double(cols)},
                         {"dgemm_peak_gflops", peak_gflops},
                         {"dgemm_peak_gflops_per_cpu_second", peak_cpu_gflops},
                         {"peak_method", peak_case.method()},
                         {"results", nlohmann::json::array()}};
  for (const Row& row : rows_out) {
    const std::vector<double> w = wall(row.times), c = cpu(row.times);
    const double flops = double(rows) * double(cols) * double(cols);
    const double median_s = median(w), median_cpu = median(c);
    const double best_s = *std::min_element(w.begin(), w.end());
    const double gflops = flops / median_s * 1e-9, cpu_gflops = flops / median_cpu * 1e-9;
    fmt::print("{:<8} {:>10.4f} {:>10.4f} {:>9.1f} {:>7.1f}% {:>10.4f} {:>9.1f} {:>7.1f}%\n",
               row.dtype, median_s, best_s, gflops, 100.0 * gflops / peak_gflops, median_cpu,
               cpu_gflops, 100.0 * cpu_gflops / peak_cpu_gflops);
    json["results"].push_back({{"dtype", row.dtype},
                               {"median_s", median_s},
                               {"best_s", best_s},
                               {"gflops", gflops},
                               {"fraction_of_peak", gflops / peak_gflops},
                               {"median_cpu_s", median_cpu},
                               {"gflops_per_cpu_second", cpu_gflops},
                               {"fraction_of_peak_cpu_time", cpu_gflops / peak_cpu_gflops}});
  }
  std::cout << json.dump() << std::endl;
  if (!json_path.empty()) std::ofstream(json_path) << json.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace tabula

int main(int argc, char** argv) {
  try {
    return tabula::run(argc, argv);
  } catch (const tabula::Error& e) {
    std::cerr << "bench_gram: " << e.what() << "\n";
    return 1;
  }
}

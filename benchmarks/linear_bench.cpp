// bench_linear: times one linear-family fit (linear, ridge, logistic, pca) on .npy data with
// tabula's backend, and prints the timings and the fitted attributes as JSON, for the
// side-by-side comparison with scikit-learn in benchmarks/linear/bench_linear.py.
//
//   bench_linear --x X.npy [--y y.npy] --model ridge [--param alpha=1] [--repeat 3]
//                [--device cpu] [--threads 2]
//
// X: float32 (or float64, converted) n x d. y: n values (class indices 0..k-1 for logistic).
// Each repeat fits from host data, so the time includes the upload to the device.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/npy.hpp"
#include "tabula/models/estimator.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Time a tabula linear-family fit on .npy data"};
  std::string x_path, y_path, model = "linear", device = "cpu";
  std::vector<std::string> params;
  int repeat = 3, threads = 0;
  bool no_summary = false;
  app.add_option("--x", x_path, "Features: n x d .npy (float32)")->required();
  app.add_option("--y", y_path, "Target: n .npy (class indices for logistic)");
  app.add_option("--model", model, "linear, ridge, logistic or pca");
  app.add_option("--param", params, "key=value, repeatable");
  app.add_option("--repeat", repeat, "Timed fits (the median is reported)");
  app.add_option("--device", device, "cpu, cuda:N or auto");
  app.add_option("--threads", threads, "CPU threads (0: all)");
  app.add_flag("--no-summary", no_summary, "Leave the fitted attributes out of the JSON");
  CLI11_PARSE(app, argc, argv);

  try {
    tabula::set_thread_count(threads);
    tabula::ParamMap param_map;
    for (const std::string& p : params) {
      const auto eq = p.find('=');
      if (eq == std::string::npos)
        throw tabula::InputError("--param " + p + ": expected key=value");
      param_map[p.substr(0, eq)] = p.substr(eq + 1);
    }
    tabula::io::NpyArray x_npy = tabula::io::read_npy(x_path);
    std::vector<float> x = x_npy.f32;
    if (x_npy.dtype == tabula::io::NpyDtype::kFloat64) x.assign(x_npy.f64.begin(), x_npy.f64.end());
    const std::int64_t n = x_npy.rows(), d = x_npy.cols();
    std::vector<double> y;
    if (!y_path.empty()) y = tabula::io::read_npy(y_path).to_double();
    int n_classes = 0;
    if (model == "logistic") {
      double top = 0;
      for (double v : y) top = std::max(top, v);
      n_classes = static_cast<int>(top) + 1;
    }
    tabula::Backend& backend =
        tabula::DeviceRegistry::instance().backend(tabula::Device::parse(device));

    tabula::FitData data;
    data.x = tabula::MatrixView<const float>::row_major(x.data(), n, d);
    data.y = y;
    data.n_classes = n_classes;
    data.seed = 0;
    std::vector<double> seconds;
    std::unique_ptr<tabula::Estimator> fitted;
    for (int r = 0; r < std::max(repeat, 1); ++r) {
      auto estimator = tabula::make_estimator(model, param_map);
      const auto start = std::chrono::steady_clock::now();
      estimator->fit(backend, data);
      backend.synchronize();
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      fitted = std::move(estimator);
    }
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    nlohmann::json out = {{"model", model},
                          {"device", backend.device().to_string()},
                          {"threads", tabula::thread_count()},
                          {"rows", n},
                          {"cols", d},
                          {"params", fitted->params()},
                          {"fit_seconds", seconds},
                          {"median_seconds", sorted[sorted.size() / 2]}};
    if (!no_summary) out["summary"] = fitted->summary();
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_linear: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

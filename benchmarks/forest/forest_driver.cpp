// Times tabula's random forest on .npy files for bench_forest.py and the conformance tests:
// fit on (train x, train y), then predict (probabilities or values) on test x, writing them as
// .npy and printing one JSON line of timings and model facts.
//
//   bench_forest_driver --train-x X.npy --train-y y.npy --test-x T.npy --out P.npy
//       --task classification|regression [--n-classes K] [--param key=value ...]
//       [--threads N] [--device cpu|cuda:0|auto] [--seed S]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/npy.hpp"
#include "tabula/models/forest/forest.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<float> as_float(const tabula::io::NpyArray& a) {
  if (a.dtype == tabula::io::NpyDtype::kFloat32) return a.f32;
  return std::vector<float>(a.f64.begin(), a.f64.end());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tabula random forest benchmark driver"};
  std::string train_x, train_y, test_x, out, task = "classification", device = "cpu";
  std::vector<std::string> params;
  int n_classes = 2, threads = 0;
  std::uint64_t seed = 0;
  app.add_option("--train-x", train_x)->required();
  app.add_option("--train-y", train_y)->required();
  app.add_option("--test-x", test_x)->required();
  app.add_option("--out", out)->required();
  app.add_option("--task", task);
  app.add_option("--n-classes", n_classes);
  app.add_option("--param", params);
  app.add_option("--threads", threads);
  app.add_option("--device", device);
  app.add_option("--seed", seed);
  CLI11_PARSE(app, argc, argv);
  try {
    tabula::set_thread_count(threads);
    tabula::Backend& backend =
        tabula::DeviceRegistry::instance().backend(tabula::Device::parse(device));
    tabula::ParamMap map;
    for (const std::string& p : params) {
      const auto eq = p.find('=');
      if (eq == std::string::npos) throw tabula::InputError("--param needs key=value: " + p);
      map[p.substr(0, eq)] = p.substr(eq + 1);
    }
    const bool classifier = task == "classification";
    tabula::RandomForest model(
        classifier ? tabula::Task::kClassification : tabula::Task::kRegression,
        tabula::ForestParams::parse(
            map, classifier ? tabula::Task::kClassification : tabula::Task::kRegression));
    const auto load_start = std::chrono::steady_clock::now();
    const tabula::io::NpyArray xa = tabula::io::read_npy(train_x);
    const std::vector<float> x = as_float(xa);
    const std::vector<double> y = tabula::io::read_npy(train_y).to_double();
    const tabula::io::NpyArray ta = tabula::io::read_npy(test_x);
    const std::vector<float> t = as_float(ta);
    const double load_s = seconds_since(load_start);

    tabula::FitData data;
    data.x = tabula::MatrixView<const float>::row_major(x.data(), xa.rows(), xa.cols());
    data.y = y;
    data.n_classes = classifier ? n_classes : 0;
    data.seed = seed;
    const auto fit_start = std::chrono::steady_clock::now();
    model.fit(backend, data);
    const double fit_s = seconds_since(fit_start);

    const auto tv = tabula::MatrixView<const float>::row_major(t.data(), ta.rows(), ta.cols());
    const auto predict_start = std::chrono::steady_clock::now();
    const std::vector<double> pred =
        classifier ? model.predict_proba(backend, tv) : model.predict(backend, tv);
    const double predict_s = seconds_since(predict_start);
    tabula::io::write_npy(out, pred, ta.rows(), classifier ? n_classes : 0);

    nlohmann::json report = model.summary();
    report.erase("feature_importances_");
    report["load_s"] = load_s;
    report["fit_s"] = fit_s;
    report["predict_s"] = predict_s;
    report["train_rows"] = xa.rows();
    report["test_rows"] = ta.rows();
    report["threads"] = tabula::thread_count();
    report["device"] = backend.device().to_string();
    std::cout << report.dump() << std::endl;
  } catch (const tabula::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

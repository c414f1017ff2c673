// Times forest traversal alone (predict_proba / predict / apply) on a fitted forest, for tuning
// the CPU traversal: fits once and caches the model as an artifact, then predicts `--repeat`
// times and prints one JSON line with rows/s (best and median) and a hash of the output bits,
// so two builds can be checked for identical results.
//
//   bench_forest_predict --model /tmp/forest.tabula --train-x X.npy --train-y y.npy
//       --x T.npy [--rows N] [--repeat R] [--threads N] [--mode proba|apply]
//       [--param key=value ...] [--device cpu|cuda:0|auto]
// The model is fitted (when not cached) on the CPU; --device is where it is walked.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tabula/artifact/artifact.hpp"
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

// FNV-1a over the bytes of the output: equal hashes mean bit-identical results.
template <typename T>
std::uint64_t bit_hash(const std::vector<T>& v) {
  std::uint64_t h = 1469598103934665603ULL;
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (std::size_t i = 0; i < v.size() * sizeof(T); ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tabula forest traversal benchmark"};
  std::string model_path, train_x, train_y, x_path, mode = "proba", device = "cpu";
  std::vector<std::string> params;
  std::int64_t rows = 0;
  int repeat = 3, threads = 0;
  app.add_option("--model", model_path)->required();
  app.add_option("--train-x", train_x);
  app.add_option("--train-y", train_y);
  app.add_option("--x", x_path)->required();
  app.add_option("--rows", rows, "predict the first N rows (0: all)");
  app.add_option("--repeat", repeat);
  app.add_option("--threads", threads);
  app.add_option("--mode", mode, "proba | apply");
  app.add_option("--param", params, "forest parameters when fitting");
  app.add_option("--device", device, "where to walk the trees: cpu, cuda:N or auto");
  CLI11_PARSE(app, argc, argv);
  try {
    tabula::set_thread_count(threads);
    tabula::Backend& backend = tabula::DeviceRegistry::instance().backend(tabula::Device::cpu());
    tabula::Backend& walker =
        tabula::DeviceRegistry::instance().backend(tabula::Device::parse(device));
    tabula::RandomForestClassifier model;
    if (std::filesystem::exists(model_path)) {
      model.load(tabula::ArtifactReader(model_path));
    } else {
      if (train_x.empty() || train_y.empty())
        throw tabula::InputError("no model at " + model_path + " and no --train-x/--train-y");
      tabula::ParamMap map;
      for (const std::string& p : params) {
        const auto eq = p.find('=');
        if (eq == std::string::npos) throw tabula::InputError("--param needs key=value: " + p);
        map[p.substr(0, eq)] = p.substr(eq + 1);
      }
      model = tabula::RandomForestClassifier(map);
      const tabula::io::NpyArray xa = tabula::io::read_npy(train_x);
      const std::vector<float> x = as_float(xa);
      const std::vector<double> y = tabula::io::read_npy(train_y).to_double();
      tabula::FitData data;
      data.x = tabula::MatrixView<const float>::row_major(x.data(), xa.rows(), xa.cols());
      data.y = y;
      data.n_classes = 2;
      data.seed = 7;
      const auto start = std::chrono::steady_clock::now();
      model.fit(backend, data);
      std::cerr << "fit " << seconds_since(start) << " s\n";
      tabula::ArtifactWriter out;
      model.save(out);
      out.write(model_path);
    }
    const tabula::io::NpyArray ta = tabula::io::read_npy(x_path);
    std::vector<float> t = as_float(ta);
    const std::int64_t n = rows > 0 ? std::min(rows, ta.rows()) : ta.rows();
    const auto tv = tabula::MatrixView<const float>::row_major(t.data(), n, ta.cols());
    std::vector<double> secs;
    std::uint64_t hash = 0;
    for (int r = 0; r < repeat; ++r) {
      const auto start = std::chrono::steady_clock::now();
      if (mode == "apply") {
        const std::vector<std::int32_t> leaves = model.apply(walker, tv);
        secs.push_back(seconds_since(start));
        hash = bit_hash(leaves);
      } else {
        const std::vector<double> p = model.predict_proba(walker, tv);
        secs.push_back(seconds_since(start));
        hash = bit_hash(p);
      }
    }
    std::sort(secs.begin(), secs.end());
    nlohmann::json report;
    report["mode"] = mode;
    report["rows"] = n;
    report["trees"] = model.model().n_trees();
    report["nodes"] = model.model().n_nodes();
    report["threads"] = tabula::thread_count();
    report["device"] = walker.device().to_string();
    report["best_s"] = secs.front();
    report["median_s"] = secs[secs.size() / 2];
    report["rows_per_s"] = static_cast<double>(n) / secs.front();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    report["hash"] = hex;
    std::cout << report.dump() << std::endl;
  } catch (const tabula::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

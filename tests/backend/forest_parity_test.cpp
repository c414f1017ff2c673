// The histogram forest on every CUDA device against the CPU: the same data, parameters and seed
// must give bit-identical trees (integer histograms, shared split arithmetic) and identical
// predictions. Skips with the reason when no CUDA device is usable, unless TABULA_REQUIRE_GPU=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "support/same_forest.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {
namespace {

Backend* cuda_backend_or_skip() {
  for (const DeviceInfo& info : DeviceRegistry::instance().devices())
    if (info.device.is_cuda()) return &DeviceRegistry::instance().backend(info.device);
  return nullptr;
}

// Declares `gpu`, the first CUDA backend, or skips the test with the reason (fails instead under
// TABULA_REQUIRE_GPU=1).
#define TABULA_GPU_OR_SKIP(gpu)                                                      \
  Backend* gpu = cuda_backend_or_skip();                                             \
  if (gpu == nullptr) {                                                              \
    const std::string reason = DeviceRegistry::instance().cuda_unavailable_reason(); \
    const char* require = std::getenv("TABULA_REQUIRE_GPU");                         \
    if (require != nullptr && std::string(require) == "1")                           \
      FAIL() << "TABULA_REQUIRE_GPU=1 but no CUDA device is usable: " << reason;     \
    GTEST_SKIP() << "GPU forest parity skipped: " << reason;                         \
  }

struct Data {
  std::int64_t n, d;
  std::vector<float> x;
  std::vector<double> y;
};

Data make(std::int64_t n, std::int64_t d, bool classification, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Data data{n, d, std::vector<float>(static_cast<std::size_t>(n * d)),
            std::vector<double>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n; ++i) {
    float* row = data.x.data() + i * d;
    for (std::int64_t j = 0; j < d; ++j) row[j] = g(rng);
    const double score = row[0] + 0.5 * row[1] * row[2] - std::abs(row[3]) + 0.3 * g(rng);
    data.y[static_cast<std::size_t>(i)] =
        classification ? static_cast<double>((score > 0) + (score > 1)) : score;
    for (std::int64_t j = 0; j < d; ++j)
      if (u(rng) < 0.03f) row[j] = std::numeric_limits<float>::quiet_NaN();
  }
  return data;
}

using testing::expect_same_forest;

TEST(ForestParity, CudaGrowsTheCpuTreesBitForBit) {
  TABULA_GPU_OR_SKIP(gpu);
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  struct Case {
    const char* name;
    bool classification;
    ParamMap params;
  };
  const std::vector<Case> cases = {
      {"gini, sqrt features", true, {{"n_estimators", "4"}, {"max_depth", "10"}}},
      {"best-first, oob",
       true,
       {{"n_estimators", "3"}, {"max_leaf_nodes", "50"}, {"oob_score", "true"}}},
      {"squared error, subtraction", false, {{"n_estimators", "3"}, {"max_depth", "9"}}},
  };
  const Data cls = make(60000, 10, true, 1);
  const Data reg = make(60000, 10, false, 2);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Data& data = c.classification ? cls : reg;
    FitData fit;
    fit.x = MatrixView<const float>::row_major(data.x.data(), data.n, data.d);
    fit.y = data.y;
    fit.n_classes = c.classification ? 3 : 0;
    fit.seed = 5;
    const Task task = c.classification ? Task::kClassification : Task::kRegression;
    RandomForest on_cpu(task, ForestParams::parse(c.params, task));
    RandomForest on_gpu(task, ForestParams::parse(c.params, task));
    on_cpu.fit(cpu, fit);
    on_gpu.fit(*gpu, fit);
    expect_same_forest(on_cpu, on_gpu);
    if (!std::isnan(on_cpu.oob_score())) EXPECT_EQ(on_cpu.oob_score(), on_gpu.oob_score());
    const auto x = fit.x;
    EXPECT_EQ(on_cpu.predict(cpu, x), on_gpu.predict(*gpu, x));
    EXPECT_EQ(on_cpu.apply(cpu, x), on_gpu.apply(*gpu, x));
  }
}

template <typename T>
Buffer<T> upload(Backend& backend, const std::vector<T>& host) {
  return Buffer<T>::from_host(backend, std::span<const T>(host));
}

// 70 classes: more channels than the split kernel's per-thread arrays (64) and a histogram above
// 48 KB of shared memory (opt-in), so both of the kernels' large-class paths run.
TEST(ForestParity, CudaGrowsTheCpuTreesWithManyClasses) {
  TABULA_GPU_OR_SKIP(gpu);
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  constexpr int kClasses = 70;
  Data data = make(20000, 6, false, 3);
  for (double& y : data.y) y = std::clamp(std::floor((y + 3.0) * kClasses / 6.0), 0.0, 69.0);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(data.x.data(), data.n, data.d);
  fit.y = data.y;
  fit.n_classes = kClasses;
  fit.seed = 7;
  const ParamMap params = {{"n_estimators", "2"}, {"max_depth", "8"}};
  RandomForest on_cpu(Task::kClassification, ForestParams::parse(params, Task::kClassification));
  RandomForest on_gpu(Task::kClassification, ForestParams::parse(params, Task::kClassification));
  on_cpu.fit(cpu, fit);
  on_gpu.fit(*gpu, fit);
  expect_same_forest(on_cpu, on_gpu);
  EXPECT_EQ(on_cpu.predict_proba(cpu, fit.x), on_gpu.predict_proba(*gpu, fit.x));
}

// The device-side defence: trees that would send the walk outside the arrays are refused at
// upload with the tree and node named, and 255 edges for one feature are refused by forest_bin.
TEST(ForestParity, CudaRefusesMalformedTreesAndEdges) {
  TABULA_GPU_OR_SKIP(gpu);
  const std::vector<float> x = {0.0f, 1.0f};  // one row, d = 2
  const std::vector<std::int64_t> offsets = {0, 3};
  const std::vector<std::int32_t> feature = {5, -1, -1};  // splits on feature 5 of 2
  const std::vector<float> threshold = {0.5f, 0.0f, 0.0f};
  const std::vector<std::int32_t> left = {1, 0, 0}, right = {2, 0, 0};
  const std::vector<std::uint8_t> missing_left = {0, 0, 0};
  const std::vector<double> values = {0.0, 1.0, 2.0};
  const Buffer<float> dx = upload(*gpu, x);
  const Buffer<std::int64_t> doff = upload(*gpu, offsets);
  const Buffer<std::int32_t> dfeat = upload(*gpu, feature), dleft = upload(*gpu, left),
                             dright = upload(*gpu, right);
  const Buffer<float> dthr = upload(*gpu, threshold);
  const Buffer<std::uint8_t> dml = upload(*gpu, missing_left);
  const Buffer<double> dval = upload(*gpu, values);
  ForestTrees trees{doff.view(),   dfeat.view(), dthr.view(), dleft.view(),
                    dright.view(), dml.view(),   dval.view(), 1};
  Buffer<double> out(*gpu, 1);
  try {
    gpu->forest().predict(dx.matrix(1, 2, Layout::kRowMajor), trees,
                          out.matrix(1, 1, Layout::kRowMajor));
    ADD_FAILURE() << "forest_predict walked a tree with feature 5 of 2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tree 0 node 0 splits on feature 5 of 2"),
              std::string::npos)
        << e.what();
  }
  std::vector<float> edges(255);
  for (std::size_t i = 0; i < edges.size(); ++i) edges[i] = static_cast<float>(i);
  const std::vector<std::int32_t> edge_offsets = {0, 255, 255};
  const Buffer<float> dedges = upload(*gpu, edges);
  const Buffer<std::int32_t> deoff = upload(*gpu, edge_offsets);
  Buffer<std::uint8_t> codes(*gpu, 2);
  EXPECT_THROW(gpu->forest().bin(dx.matrix(1, 2, Layout::kRowMajor), dedges.view(), deoff.view(),
                                 codes.matrix(1, 2, Layout::kRowMajor)),
               Error);
}

}  // namespace
}  // namespace tabula

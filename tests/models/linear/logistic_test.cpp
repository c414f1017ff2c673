// LogisticRegression and the logistic_gradient_hessian primitive: derivatives against finite
// differences, optimality conditions checked with plain loops, Newton vs L-BFGS, weights,
// class weights, determinism over thread counts, bad input and the artifact round trip.
#include "tabula/models/linear/logistic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

struct Table {
  std::int64_t n = 0, d = 0;
  int k = 0;
  std::vector<float> x;
  std::vector<double> y;
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), n, d);
  }
  FitData fit_data(std::span<const double> weights = {}) const {
    FitData data;
    data.x = view();
    data.y = y;
    data.sample_weight = weights;
    data.n_classes = k;
    return data;
  }
};

// Labels drawn from a softmax (or sigmoid) model with fixed random weights; seeded.
Table make_table(std::int64_t n, std::int64_t d, int k, std::uint64_t seed) {
  Table t{n, d, k, {}, {}};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const int m = k == 2 ? 1 : k;
  std::vector<double> w(static_cast<std::size_t>(m * d));
  for (double& v : w) v = normal(rng);
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<double> z(static_cast<std::size_t>(m), 0.3);
    for (std::int64_t j = 0; j < d; ++j) {
      const float v = static_cast<float>(normal(rng) + (j == 0 ? 1.0 : 0.0));
      t.x.push_back(v);
      for (int c = 0; c < m; ++c) z[c] += w[c * d + j] * v;
    }
    if (m == 1) {
      t.y.push_back(uniform(rng) < 1.0 / (1.0 + std::exp(-z[0])) ? 1.0 : 0.0);
    } else {
      double sum = 0;
      for (double& e : z) sum += e = std::exp(e);
      double u = uniform(rng) * sum;
      int c = 0;
      while (c < m - 1 && u > z[c]) u -= z[c++];
      t.y.push_back(c);
    }
  }
  return t;
}

// Plain-loop gradient of sklearn's objective 0.5||W||² + C Σ s_i logloss_i at the fitted model.
std::vector<double> objective_gradient(const Table& t, const LogisticRegression& model, double c,
                                       std::span<const double> weights = {}) {
  const int m = t.k == 2 ? 1 : t.k;
  const std::int64_t p = t.d + 1;
  std::vector<double> g(static_cast<std::size_t>(m * p), 0.0);
  for (std::int64_t i = 0; i < t.n; ++i) {
    std::vector<double> z(static_cast<std::size_t>(m));
    for (int r = 0; r < m; ++r) {
      z[r] = model.intercept()[r];
      for (std::int64_t j = 0; j < t.d; ++j) z[r] += model.coef()[r * t.d + j] * t.x[i * t.d + j];
    }
    std::vector<double> residual(static_cast<std::size_t>(m));
    if (m == 1) {
      residual[0] = 1.0 / (1.0 + std::exp(-z[0])) - t.y[i];
    } else {
      double top = z[0], sum = 0;
      for (double e : z) top = std::max(top, e);
      for (double e : z) sum += std::exp(e - top);
      for (int r = 0; r < m; ++r) residual[r] = std::exp(z[r] - top) / sum - (t.y[i] == r ? 1 : 0);
    }
    const double s = weights.empty() ? 1.0 : weights[i];
    for (int r = 0; r < m; ++r) {
      for (std::int64_t j = 0; j < t.d; ++j) g[r * p + j] += c * s * residual[r] * t.x[i * t.d + j];
      g[r * p + t.d] += c * s * residual[r];
    }
  }
  for (int r = 0; r < m; ++r)
    for (std::int64_t j = 0; j < t.d; ++j) g[r * p + j] += model.coef()[r * t.d + j];
  return g;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double e : v) m = std::max(m, std::abs(e));
  return m;
}

struct Evaluation {
  double loss;
  std::vector<double> gradient, hessian;
};

Evaluation evaluate(const Table& t, const std::vector<double>& weights, bool intercept,
                    const std::vector<double>& coef, bool hessian) {
  Backend& b = cpu();
  const std::int64_t mp = static_cast<std::int64_t>(coef.size());
  Buffer<float> x = Buffer<float>::from_host(b, t.x);
  Buffer<double> y = Buffer<double>::from_host(b, t.y), w = Buffer<double>::from_host(b, weights);
  Buffer<double> c = Buffer<double>::from_host(b, coef), g(b, mp), h(b, hessian ? mp * mp : 0);
  Evaluation e;
  e.loss = b.logistic().gradient_hessian(
      std::as_const(x).matrix(t.n, t.d, Layout::kRowMajor), std::as_const(y).view(),
      std::as_const(w).view(), RowSubset::all(), t.k, intercept, std::as_const(c).view(), g.view(),
      hessian ? h.matrix(mp, mp, Layout::kColMajor) : MatrixView<double>{});
  e.gradient = g.to_host();
  if (hessian) e.hessian = h.to_host();
  return e;
}

void check_derivatives(int k, bool intercept) {
  const Table t = make_table(300, 4, k, 100 + k);
  std::vector<double> weights(static_cast<std::size_t>(t.n));
  for (std::int64_t i = 0; i < t.n; ++i) weights[i] = 0.5 + (i % 3);
  const int m = k == 2 ? 1 : k;
  const std::int64_t mp = m * (t.d + (intercept ? 1 : 0));
  std::vector<double> coef(static_cast<std::size_t>(mp));
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal(0.0, 0.5);
  for (double& v : coef) v = normal(rng);
  const Evaluation at = evaluate(t, weights, intercept, coef, true);
  const double h = 1e-5;
  for (std::int64_t q = 0; q < mp; ++q) {
    std::vector<double> up = coef, down = coef;
    up[q] += h;
    down[q] -= h;
    const Evaluation eu = evaluate(t, weights, intercept, up, false);
    const Evaluation ed = evaluate(t, weights, intercept, down, false);
    const double fd = (eu.loss - ed.loss) / (2 * h);
    EXPECT_NEAR(at.gradient[q], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "gradient " << q;
    for (std::int64_t r = 0; r < mp; ++r) {
      const double fdh = (eu.gradient[r] - ed.gradient[r]) / (2 * h);
      EXPECT_NEAR(at.hessian[q * mp + r], fdh, 1e-5 * std::max(1.0, std::abs(fdh)))
          << "hessian " << r << "," << q;
    }
  }
}

TEST(LogisticPrimitiveTest, BinaryDerivativesMatchFiniteDifferences) { check_derivatives(2, true); }
TEST(LogisticPrimitiveTest, MultinomialDerivativesMatchFiniteDifferences) {
  check_derivatives(3, true);
  check_derivatives(4, false);
}

TEST(LogisticPrimitiveTest, SameBitsForAnyThreadCount) {
  const Table t = make_table(20000, 5, 3, 4);
  const std::vector<double> w(static_cast<std::size_t>(t.n), 1.0);
  const std::vector<double> coef(18, 0.1);
  const int before = thread_count();
  set_thread_count(1);
  const Evaluation one = evaluate(t, w, true, coef, true);
  set_thread_count(2);
  const Evaluation two = evaluate(t, w, true, coef, true);
  set_thread_count(before);
  EXPECT_EQ(one.loss, two.loss);
  EXPECT_EQ(one.gradient, two.gradient);
  EXPECT_EQ(one.hessian, two.hessian);
}

// The first usable CUDA device, or a skip with the registry's reason (a failure when
// TABULA_REQUIRE_GPU=1, as in the parity suite).
Backend* cuda_or_skip() {
  DeviceRegistry& registry = DeviceRegistry::instance();
  for (const DeviceInfo& info : registry.devices())
    if (info.device.is_cuda()) return &registry.backend(info.device);
  const char* require = std::getenv("TABULA_REQUIRE_GPU");
  if (require != nullptr && std::string(require) == "1")
    ADD_FAILURE() << "TABULA_REQUIRE_GPU=1 but no CUDA device: "
                  << registry.cuda_unavailable_reason();
  return nullptr;
}

Evaluation evaluate_on(Backend& b, const Table& t, const std::vector<double>& weights,
                       const std::vector<std::int64_t>& subset, bool intercept,
                       const std::vector<double>& coef) {
  const std::int64_t mp = static_cast<std::int64_t>(coef.size());
  Buffer<float> x = Buffer<float>::from_host(b, t.x);
  Buffer<double> y = Buffer<double>::from_host(b, t.y), w = Buffer<double>::from_host(b, weights);
  Buffer<std::int64_t> rows = Buffer<std::int64_t>::from_host(b, subset);
  Buffer<double> c = Buffer<double>::from_host(b, coef), g(b, mp), h(b, mp * mp);
  Evaluation e;
  e.loss = b.logistic().gradient_hessian(
      std::as_const(x).matrix(t.n, t.d, Layout::kRowMajor), std::as_const(y).view(),
      std::as_const(w).view(), RowSubset{std::as_const(rows).view()}, t.k, intercept,
      std::as_const(c).view(), g.view(), h.matrix(mp, mp, Layout::kColMajor));
  e.gradient = g.to_host();
  e.hessian = h.to_host();
  return e;
}

// GPU vs CPU (the oracle): the same sums in a different order, so a relative tolerance.
TEST(LogisticPrimitiveTest, CudaMatchesCpu) {
  Backend* gpu = cuda_or_skip();
  if (gpu == nullptr)
    GTEST_SKIP() << "no CUDA device: " << DeviceRegistry::instance().cuda_unavailable_reason();
  for (int k : {2, 4}) {
    const Table t = make_table(40000, 7, k, 50 + k);
    std::vector<double> weights(static_cast<std::size_t>(t.n));
    for (std::int64_t i = 0; i < t.n; ++i) weights[i] = 0.25 * (i % 5);
    std::vector<std::int64_t> subset;
    for (std::int64_t i = 0; i < t.n; i += 3) subset.push_back((i * 7) % t.n);
    const std::int64_t mp = (k == 2 ? 1 : k) * (t.d + 1);
    std::vector<double> coef(static_cast<std::size_t>(mp));
    for (std::int64_t q = 0; q < mp; ++q) coef[q] = 0.1 * ((q % 7) - 3);
    const Evaluation ref = evaluate_on(cpu(), t, weights, subset, true, coef);
    const Evaluation got = evaluate_on(*gpu, t, weights, subset, true, coef);
    EXPECT_NEAR(got.loss, ref.loss, 1e-10 * std::abs(ref.loss));
    const double gscale = max_abs(ref.gradient), hscale = max_abs(ref.hessian);
    for (std::int64_t q = 0; q < mp; ++q)
      EXPECT_NEAR(got.gradient[q], ref.gradient[q], 1e-10 * gscale) << k << " gradient " << q;
    for (std::int64_t q = 0; q < mp * mp; ++q)
      EXPECT_NEAR(got.hessian[q], ref.hessian[q], 1e-10 * hscale) << k << " hessian " << q;
  }
}

// Whole fits on the GPU agree with the CPU's: logistic, ridge and PCA.
TEST(LogisticRegressionTest, CudaFitsMatchCpu) {
  Backend* gpu = cuda_or_skip();
  if (gpu == nullptr)
    GTEST_SKIP() << "no CUDA device: " << DeviceRegistry::instance().cuda_unavailable_reason();
  const Table t = make_table(30000, 6, 3, 77);
  for (const char* name : {"logistic", "ridge", "pca"}) {
    ParamMap params;
    if (std::string(name) == "logistic") params = {{"tol", "1e-10"}};
    auto on_cpu = make_estimator(name, params), on_gpu = make_estimator(name, params);
    FitData data = t.fit_data();
    if (std::string(name) == "ridge") data.n_classes = 0;
    if (std::string(name) == "pca") data.y = {};
    on_cpu->fit(cpu(), data);
    on_gpu->fit(*gpu, data);
    auto outputs = [&](const Estimator& model) {
      const std::string kind = model.name();
      if (kind == "pca") return model.transform(cpu(), t.view());
      if (kind == "logistic") return model.predict_proba(cpu(), t.view());
      return model.predict(cpu(), t.view());
    };
    const std::vector<double> a = outputs(*on_cpu), b = outputs(*on_gpu);
    ASSERT_EQ(a.size(), b.size());
    double scale = 0, diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      scale = std::max(scale, std::abs(a[i])), diff = std::max(diff, std::abs(a[i] - b[i]));
    EXPECT_LE(diff, 1e-8 * scale) << name;
  }
}

TEST(LogisticRegressionTest, BinaryFitIsOptimal) {
  const Table t = make_table(2000, 5, 2, 1);
  LogisticRegression model(LogisticRegressionParams::parse({{"C", "0.5"}, {"tol", "1e-10"}}));
  model.fit(cpu(), t.fit_data());
  EXPECT_TRUE(model.converged());
  EXPECT_EQ(model.solver_used(), "newton-cholesky");
  EXPECT_EQ(model.coef().size(), 5u);
  EXPECT_LT(max_abs(objective_gradient(t, model, 0.5)), 1e-6);
  // Predictions follow the scores and probabilities sum to one.
  const auto proba = model.predict_proba(cpu(), t.view());
  const auto pred = model.predict(cpu(), t.view());
  double correct = 0;
  for (std::int64_t i = 0; i < t.n; ++i) {
    EXPECT_NEAR(proba[2 * i] + proba[2 * i + 1], 1.0, 1e-12);
    EXPECT_EQ(pred[i], proba[2 * i + 1] > 0.5 ? 1.0 : 0.0);
    correct += pred[i] == t.y[i];
  }
  // The labels come from a logistic model on these features: beat the majority class clearly.
  double ones = 0;
  for (double y : t.y) ones += y;
  EXPECT_GT(correct / t.n, std::max(ones, t.n - ones) / t.n + 0.1);
}

TEST(LogisticRegressionTest, MultinomialFitIsOptimalWithCentredIntercepts) {
  const Table t = make_table(1500, 4, 3, 2);
  for (const char* solver : {"newton-cholesky", "lbfgs"}) {
    LogisticRegression model(LogisticRegressionParams::parse(
        {{"C", "2"}, {"tol", "1e-9"}, {"solver", solver}, {"max_iter", "1000"}}));
    model.fit(cpu(), t.fit_data());
    EXPECT_TRUE(model.converged()) << solver;
    EXPECT_LT(max_abs(objective_gradient(t, model, 2.0)), 1e-5) << solver;
    double sum = 0;
    for (double b : model.intercept()) sum += b;
    EXPECT_NEAR(sum, 0.0, 1e-6) << solver;
    const auto proba = model.predict_proba(cpu(), t.view());
    for (std::int64_t i = 0; i < t.n; ++i)
      EXPECT_NEAR(proba[3 * i] + proba[3 * i + 1] + proba[3 * i + 2], 1.0, 1e-12);
  }
}

TEST(LogisticRegressionTest, NewtonAndLbfgsAgree) {
  const Table t = make_table(1000, 6, 2, 3);
  LogisticRegression newton(
      LogisticRegressionParams::parse({{"solver", "newton-cholesky"}, {"tol", "1e-10"}}));
  LogisticRegression lbfgs(LogisticRegressionParams::parse(
      {{"solver", "lbfgs"}, {"tol", "1e-10"}, {"max_iter", "2000"}}));
  newton.fit(cpu(), t.fit_data());
  lbfgs.fit(cpu(), t.fit_data());
  EXPECT_EQ(lbfgs.solver_used(), "lbfgs");
  for (int j = 0; j < 6; ++j) EXPECT_NEAR(newton.coef()[j], lbfgs.coef()[j], 1e-6);
  EXPECT_NEAR(newton.intercept()[0], lbfgs.intercept()[0], 1e-6);
  EXPECT_LT(newton.n_iter(), lbfgs.n_iter());
}

TEST(LogisticRegressionTest, AutoPicksLbfgsForWideData) {
  // 300 features + intercept exceed kNewtonMaxParameters: the Hessian would be too costly.
  const Table t = make_table(400, 300, 2, 12);
  LogisticRegression model(LogisticRegressionParams::parse({{"tol", "1e-8"}, {"max_iter", "500"}}));
  model.fit(cpu(), t.fit_data());
  EXPECT_EQ(model.solver_used(), "lbfgs");
  EXPECT_TRUE(model.converged());
  EXPECT_LT(max_abs(objective_gradient(t, model, 1.0)), 1e-4);
}

TEST(LogisticRegressionTest, SampleWeightsEqualDuplicationAndBalancedClassWeights) {
  const Table t = make_table(300, 3, 3, 6);
  std::vector<double> weights(static_cast<std::size_t>(t.n));
  Table dup{0, t.d, t.k, {}, {}};
  for (std::int64_t i = 0; i < t.n; ++i) {
    weights[i] = static_cast<double>(i % 3);
    for (int r = 0; r < i % 3; ++r) {
      dup.x.insert(dup.x.end(), t.x.begin() + i * t.d, t.x.begin() + (i + 1) * t.d);
      dup.y.push_back(t.y[i]);
    }
  }
  dup.n = static_cast<std::int64_t>(dup.y.size());
  const ParamMap params = {{"tol", "1e-10"}};
  LogisticRegression a(LogisticRegressionParams::parse(params)),
      b(LogisticRegressionParams::parse(params));
  a.fit(cpu(), t.fit_data(weights));
  b.fit(cpu(), dup.fit_data());
  for (std::size_t j = 0; j < a.coef().size(); ++j) EXPECT_NEAR(a.coef()[j], b.coef()[j], 1e-7);

  // class_weight="balanced" is the same as weights n / (k * count_class).
  std::vector<double> counts(3, 0.0), balanced(static_cast<std::size_t>(t.n));
  for (double y : t.y) counts[static_cast<int>(y)] += 1;
  for (std::int64_t i = 0; i < t.n; ++i)
    balanced[i] = t.n / (3.0 * counts[static_cast<int>(t.y[i])]);
  LogisticRegression c(
      LogisticRegressionParams::parse({{"tol", "1e-10"}, {"class_weight", "balanced"}}));
  LogisticRegression d(LogisticRegressionParams::parse(params));
  c.fit(cpu(), t.fit_data());
  d.fit(cpu(), t.fit_data(balanced));
  for (std::size_t j = 0; j < c.coef().size(); ++j) EXPECT_NEAR(c.coef()[j], d.coef()[j], 1e-9);
}

TEST(LogisticRegressionTest, RejectsBadInput) {
  Table t = make_table(100, 2, 2, 7);
  for (double& y : t.y) y = 0.0;
  LogisticRegression model;
  FitData one_class = t.fit_data();
  one_class.n_classes = 1;
  EXPECT_THROW(model.fit(cpu(), one_class), InputError);
  EXPECT_THROW(model.fit(cpu(), t.fit_data()), InputError);  // class 1 has no rows
  t.y[0] = 2.0;
  EXPECT_THROW(model.fit(cpu(), t.fit_data()), InputError);  // not a class index
  EXPECT_THROW(LogisticRegressionParams::parse({{"C", "0"}}), InputError);
  EXPECT_THROW(LogisticRegressionParams::parse({{"class_weight", "auto"}}), InputError);
  EXPECT_THROW(LogisticRegressionParams::parse({{"penalty", "l1"}}), InputError);
  EXPECT_THROW(LogisticRegressionParams::parse({{"solver", "sag"}}), InputError);
}

TEST(LogisticRegressionTest, ArtifactRoundTrip) {
  const Table t = make_table(400, 3, 3, 8);
  LogisticRegression model(LogisticRegressionParams::parse({{"C", "0.3"}}));
  model.fit(cpu(), t.fit_data());
  const std::string path = testing::unique_temp_path("logistic_roundtrip.tabula").string();
  ArtifactWriter out;
  out.set("model", {{"kind", "logistic"}});
  model.save(out);
  out.write(path);
  LogisticRegression loaded;
  loaded.load(ArtifactReader(path));
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.n_classes(), 3);
  EXPECT_EQ(loaded.params()["C"].get<double>(), 0.3);
  EXPECT_EQ(loaded.predict_proba(cpu(), t.view()), model.predict_proba(cpu(), t.view()));
}

}  // namespace
}  // namespace tabula

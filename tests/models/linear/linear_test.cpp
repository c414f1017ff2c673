// LinearRegression and Ridge: known coefficients, optimality conditions checked with plain
// loops, the minimum-norm solution on collinear and wide data, weights as row duplication,
// several targets, bad input and the artifact round trip.
#include "tabula/models/linear/linear.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

struct Table {
  std::int64_t n = 0, d = 0;
  std::vector<float> x;  // n x d row-major
  std::vector<double> y;
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), n, d);
  }
  FitData fit_data(std::span<const double> weights = {}) const {
    FitData data;
    data.x = view();
    data.y = y;
    data.sample_weight = weights;
    return data;
  }
};

// y = x w + b (+ noise) with x ~ N(mean, 1), seeded.
Table make_table(std::int64_t n, const std::vector<double>& w, double b, double noise,
                 std::uint64_t seed, double mean = 0.0) {
  Table t;
  t.n = n;
  t.d = static_cast<std::int64_t>(w.size());
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  t.x.resize(static_cast<std::size_t>(n * t.d));
  t.y.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    double s = b;
    for (std::int64_t j = 0; j < t.d; ++j) {
      const float v = static_cast<float>(mean + normal(rng));
      t.x[i * t.d + j] = v;
      s += w[j] * static_cast<double>(v);
    }
    t.y[i] = s + noise * normal(rng);
  }
  return t;
}

// Σ_i s_i (y_i - ŷ_i) x_ij - alpha w_j for each j, and Σ_i s_i (y_i - ŷ_i): zero at the optimum.
std::vector<double> normal_equation_residual(const Table& t, const LeastSquaresModel& m,
                                             double alpha, std::span<const double> weights = {}) {
  std::vector<double> r(static_cast<std::size_t>(t.d + 1), 0.0);
  for (std::int64_t i = 0; i < t.n; ++i) {
    double pred = m.intercept()[0];
    for (std::int64_t j = 0; j < t.d; ++j) pred += m.coef()[j] * t.x[i * t.d + j];
    const double s = weights.empty() ? 1.0 : weights[i];
    for (std::int64_t j = 0; j < t.d; ++j) r[j] += s * (t.y[i] - pred) * t.x[i * t.d + j];
    r[t.d] += s * (t.y[i] - pred);
  }
  for (std::int64_t j = 0; j < t.d; ++j) r[j] -= alpha * m.coef()[j];
  return r;
}

TEST(LinearRegressionTest, RecoversExactCoefficients) {
  const std::vector<double> w = {1.5, -2.0, 0.25, 3.0, 0.0};
  const Table t = make_table(3000, w, 4.0, 0.0, 11, 2.0);
  LinearRegression model;
  model.fit(cpu(), t.fit_data());
  ASSERT_EQ(model.coef().size(), w.size());
  for (std::size_t j = 0; j < w.size(); ++j) EXPECT_NEAR(model.coef()[j], w[j], 1e-9);
  EXPECT_NEAR(model.intercept()[0], 4.0, 1e-8);
  EXPECT_FALSE(model.used_eigen_fallback());
  EXPECT_EQ(model.rank(), 5);
  const std::vector<double> pred = model.predict(cpu(), t.view());
  for (std::int64_t i = 0; i < t.n; i += 97) EXPECT_NEAR(pred[i], t.y[i], 1e-8);
}

TEST(LinearRegressionTest, WithoutInterceptSolvesUncentredSystem) {
  const Table t = make_table(500, {0.5, -1.0}, 3.0, 0.1, 5, 1.0);
  LinearRegression model(LinearRegressionParams::parse({{"fit_intercept", "false"}}));
  model.fit(cpu(), t.fit_data());
  EXPECT_EQ(model.intercept()[0], 0.0);
  // Optimality without intercept: Xᵀ(y - Xw) = 0 (the last entry, the intercept's, is not).
  const std::vector<double> r = normal_equation_residual(t, model, 0.0);
  for (std::int64_t j = 0; j < t.d; ++j) EXPECT_NEAR(r[j], 0.0, 1e-7);
  EXPECT_GT(std::abs(r[t.d]), 1.0);  // the data has an offset the model cannot absorb
}

TEST(RidgeTest, SatisfiesPenalisedNormalEquations) {
  const Table t = make_table(800, {1.0, 2.0, -1.0, 0.5}, -1.0, 0.5, 21, 3.0);
  for (double alpha : {0.0, 1.0, 250.0}) {
    Ridge model(RidgeParams::parse({{"alpha", std::to_string(alpha)}}));
    model.fit(cpu(), t.fit_data());
    const std::vector<double> r = normal_equation_residual(t, model, alpha);
    for (double v : r) EXPECT_NEAR(v, 0.0, 1e-7) << "alpha " << alpha;
  }
  // A larger penalty shrinks the coefficients.
  Ridge weak(RidgeParams::parse({{"alpha", "0.1"}})),
      strong(RidgeParams::parse({{"alpha", "1e4"}}));
  weak.fit(cpu(), t.fit_data());
  strong.fit(cpu(), t.fit_data());
  double nw = 0, ns = 0;
  for (int j = 0; j < 4; ++j)
    nw += weak.coef()[j] * weak.coef()[j], ns += strong.coef()[j] * strong.coef()[j];
  EXPECT_LT(ns, 0.5 * nw);
}

TEST(LinearRegressionTest, CollinearDataGivesMinimumNormSolution) {
  // x3 = x1 + x2 exactly (small integers), y = x1 + x2 + 5: every w with w1 + w3 = 1 and
  // w2 + w3 = 1 fits; the minimum-norm one is (1/3, 1/3, 2/3).
  Table t;
  t.n = 200;
  t.d = 3;
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> u(-20, 20);
  for (std::int64_t i = 0; i < t.n; ++i) {
    const float a = static_cast<float>(u(rng)), b = static_cast<float>(u(rng));
    t.x.insert(t.x.end(), {a, b, a + b});
    t.y.push_back(a + b + 5.0);
  }
  LinearRegression model;
  model.fit(cpu(), t.fit_data());
  EXPECT_TRUE(model.used_eigen_fallback());
  EXPECT_EQ(model.rank(), 2);
  EXPECT_NEAR(model.coef()[0], 1.0 / 3.0, 1e-9);
  EXPECT_NEAR(model.coef()[1], 1.0 / 3.0, 1e-9);
  EXPECT_NEAR(model.coef()[2], 2.0 / 3.0, 1e-9);
  EXPECT_NEAR(model.intercept()[0], 5.0, 1e-9);
}

TEST(LinearRegressionTest, ConstantFeatureGetsZeroCoefficient) {
  Table t = make_table(300, {2.0, -1.0, 0.0}, 1.0, 0.0, 8);
  for (std::int64_t i = 0; i < t.n; ++i) t.x[i * 3 + 2] = 7.0f;
  LinearRegression model;
  model.fit(cpu(), t.fit_data());
  EXPECT_NEAR(model.coef()[0], 2.0, 1e-9);
  EXPECT_NEAR(model.coef()[1], -1.0, 1e-9);
  EXPECT_NEAR(model.coef()[2], 0.0, 1e-12);
}

TEST(LinearRegressionTest, MoreFeaturesThanRowsInterpolatesWithMinimumNorm) {
  const Table t = make_table(6, std::vector<double>(12, 0.3), 0.0, 1.0, 17);
  LinearRegression model(LinearRegressionParams::parse({{"fit_intercept", "false"}}));
  model.fit(cpu(), t.fit_data());
  EXPECT_EQ(model.rank(), 6);
  const std::vector<double> pred = model.predict(cpu(), t.view());
  for (std::int64_t i = 0; i < t.n; ++i) EXPECT_NEAR(pred[i], t.y[i], 1e-8);
  // Minimum norm: w lies in the row space of X, so w = Xᵀ c; check w is orthogonal to a null
  // vector of X built by projecting a random vector off the row space (Gram–Schmidt).
  std::vector<std::vector<double>> basis;
  for (std::int64_t i = 0; i < t.n; ++i) {
    std::vector<double> v(t.x.begin() + i * t.d, t.x.begin() + (i + 1) * t.d);
    for (const auto& b : basis) {
      double dot = 0;
      for (int j = 0; j < t.d; ++j) dot += v[j] * b[j];
      for (int j = 0; j < t.d; ++j) v[j] -= dot * b[j];
    }
    double norm = 0;
    for (double e : v) norm += e * e;
    for (double& e : v) e /= std::sqrt(norm);
    basis.push_back(v);
  }
  double outside = 0.0, total = 0.0;
  std::vector<double> w = model.coef();
  for (const auto& b : basis) {
    double dot = 0;
    for (int j = 0; j < t.d; ++j) dot += w[j] * b[j];
    for (int j = 0; j < t.d; ++j) w[j] -= dot * b[j];
  }
  for (int j = 0; j < t.d; ++j) outside += w[j] * w[j], total += model.coef()[j] * model.coef()[j];
  EXPECT_LT(outside, 1e-16 * total);
}

TEST(LinearRegressionTest, SampleWeightsEqualRowDuplication) {
  const Table t = make_table(120, {1.0, -0.5, 2.0}, 0.5, 1.0, 29);
  std::vector<double> weights(static_cast<std::size_t>(t.n));
  Table dup;
  dup.d = t.d;
  for (std::int64_t i = 0; i < t.n; ++i) {
    weights[i] = static_cast<double>(i % 4);
    for (int r = 0; r < i % 4; ++r) {
      dup.x.insert(dup.x.end(), t.x.begin() + i * t.d, t.x.begin() + (i + 1) * t.d);
      dup.y.push_back(t.y[i]);
    }
  }
  dup.n = static_cast<std::int64_t>(dup.y.size());
  for (const char* name : {"linear", "ridge"}) {
    auto a = make_estimator(name, {});
    auto b = make_estimator(name, {});
    a->fit(cpu(), t.fit_data(weights));
    b->fit(cpu(), dup.fit_data());
    const auto& la = dynamic_cast<const LeastSquaresModel&>(*a);
    const auto& lb = dynamic_cast<const LeastSquaresModel&>(*b);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(la.coef()[j], lb.coef()[j], 1e-10) << name;
    EXPECT_NEAR(la.intercept()[0], lb.intercept()[0], 1e-10) << name;
  }
}

TEST(RidgeTest, SeveralTargetsEqualSeparateFits) {
  const Table t = make_table(400, {1.0, 2.0, 3.0}, 0.0, 1.0, 41);
  std::vector<double> y2(static_cast<std::size_t>(t.n * 2));
  Table second = t;
  for (std::int64_t i = 0; i < t.n; ++i) {
    second.y[i] = -t.y[i] + t.x[i * 3] * 4.0;
    y2[i * 2] = t.y[i];
    y2[i * 2 + 1] = second.y[i];
  }
  Ridge both(RidgeParams::parse({{"alpha", "3"}}));
  both.fit_targets(cpu(), t.view(), MatrixView<const double>::row_major(y2.data(), t.n, 2), {});
  Ridge one(RidgeParams::parse({{"alpha", "3"}})), two(RidgeParams::parse({{"alpha", "3"}}));
  one.fit(cpu(), t.fit_data());
  two.fit(cpu(), second.fit_data());
  EXPECT_EQ(both.n_outputs(), 2);
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(both.coef()[j], one.coef()[j], 1e-10);
    EXPECT_NEAR(both.coef()[3 + j], two.coef()[j], 1e-10);
  }
  const std::vector<double> pred = both.predict(cpu(), t.view());
  const std::vector<double> p2 = two.predict(cpu(), t.view());
  EXPECT_NEAR(pred[2 * 7 + 1], p2[7], 1e-9);
}

TEST(LinearRegressionTest, RejectsBadInputAndParams) {
  Table t = make_table(50, {1.0, 2.0}, 0.0, 0.0, 2);
  t.y[10] = std::nan("");
  LinearRegression model;
  EXPECT_THROW(model.fit(cpu(), t.fit_data()), InputError);
  t.y[10] = 0.0;
  t.x[5 * 2 + 1] = std::nanf("");
  try {
    model.fit(cpu(), t.fit_data());
    FAIL() << "NaN feature accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("column 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RidgeParams::parse({{"alpha", "-1"}}), InputError);
  EXPECT_THROW(RidgeParams::parse({{"alpha", "abc"}}), InputError);
  EXPECT_THROW(RidgeParams::parse({{"lambda", "1"}}), InputError);
  EXPECT_THROW(LinearRegressionParams::parse({{"fit_intercept", "maybe"}}), InputError);
  const Table good = make_table(50, {1.0, 2.0}, 0.0, 0.0, 2);
  std::vector<double> negative(50, 1.0);
  negative[3] = -1.0;
  EXPECT_THROW(model.fit(cpu(), good.fit_data(negative)), InputError);
}

TEST(LinearRegressionTest, ArtifactRoundTrip) {
  const Table t = make_table(200, {1.0, -3.0, 0.5}, 2.0, 0.3, 55);
  Ridge model(RidgeParams::parse({{"alpha", "2.5"}}));
  model.fit(cpu(), t.fit_data());
  const std::string path = testing::unique_temp_path("ridge_roundtrip.tabula").string();
  ArtifactWriter out;
  out.set("model", {{"kind", "ridge"}});
  model.save(out);
  out.write(path);
  Ridge loaded;
  loaded.load(ArtifactReader(path));
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.params()["alpha"].get<double>(), 2.5);
  EXPECT_EQ(loaded.coef(), model.coef());
  EXPECT_EQ(loaded.intercept(), model.intercept());
  EXPECT_EQ(loaded.predict(cpu(), t.view()), model.predict(cpu(), t.view()));
}

}  // namespace
}  // namespace tabula

// PCA: orthonormal components with sklearn's sign convention, explained variance equal to the
// variance of the projections, ratios, the variance-fraction rule, whitening, the round trip
// through inverse_transform, bad input and the artifact round trip.
#include "tabula/models/linear/pca.hpp"

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
  std::vector<float> x;
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), n, d);
  }
  FitData fit_data() const {
    FitData data;
    data.x = view();
    return data;
  }
};

// Correlated features with distinct variances and non-zero means; seeded.
Table make_table(std::int64_t n, std::int64_t d, std::uint64_t seed) {
  Table t{n, d, {}};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> mix(static_cast<std::size_t>(d * d));
  for (double& v : mix) v = normal(rng);
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<double> z(static_cast<std::size_t>(d));
    for (std::int64_t j = 0; j < d; ++j) z[j] = normal(rng) * (d - j);
    for (std::int64_t j = 0; j < d; ++j) {
      double v = 10.0 + j;
      for (std::int64_t q = 0; q < d; ++q) v += mix[j * d + q] * z[q];
      t.x.push_back(static_cast<float>(v));
    }
  }
  return t;
}

TEST(PcaTest, ComponentsAreOrthonormalWithSklearnSigns) {
  const Table t = make_table(1000, 6, 1);
  Pca pca;
  pca.fit(cpu(), t.fit_data());
  ASSERT_EQ(pca.n_components(), 6);
  const auto& v = pca.components();
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) {
      double dot = 0;
      for (int j = 0; j < 6; ++j) dot += v[a * 6 + j] * v[b * 6 + j];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-10);
    }
    int arg = 0;
    for (int j = 1; j < 6; ++j)
      if (std::abs(v[a * 6 + j]) > std::abs(v[a * 6 + arg])) arg = j;
    EXPECT_GT(v[a * 6 + arg], 0.0) << "component " << a;
  }
}

TEST(PcaTest, ExplainedVarianceIsTheVarianceOfProjections) {
  const Table t = make_table(2000, 5, 2);
  Pca pca(PcaParams::parse({{"n_components", "3"}}));
  pca.fit(cpu(), t.fit_data());
  ASSERT_EQ(pca.n_components(), 3);
  const std::vector<double> z = pca.transform(cpu(), t.view());
  double ratio_sum = 0;
  for (int c = 0; c < 3; ++c) {
    double mean = 0, var = 0;
    for (std::int64_t i = 0; i < t.n; ++i) mean += z[i * 3 + c];
    mean /= t.n;
    for (std::int64_t i = 0; i < t.n; ++i) var += (z[i * 3 + c] - mean) * (z[i * 3 + c] - mean);
    var /= t.n - 1;
    EXPECT_NEAR(mean, 0.0, 1e-6);
    EXPECT_NEAR(var, pca.explained_variance()[c], 1e-8 * var);
    EXPECT_NEAR(pca.singular_values()[c], std::sqrt(var * (t.n - 1)), 1e-6 * std::sqrt(var * t.n));
    if (c > 0) EXPECT_GE(pca.explained_variance()[c - 1], pca.explained_variance()[c]);
    ratio_sum += pca.explained_variance_ratio()[c];
  }
  EXPECT_LT(ratio_sum, 1.0);
  // The total variance (sum of the per-feature variances) is the ratios' denominator.
  double total = 0;
  for (std::int64_t j = 0; j < t.d; ++j) {
    double mean = 0, var = 0;
    for (std::int64_t i = 0; i < t.n; ++i) mean += t.x[i * t.d + j];
    mean /= t.n;
    for (std::int64_t i = 0; i < t.n; ++i) var += std::pow(t.x[i * t.d + j] - mean, 2);
    total += var / (t.n - 1);
  }
  EXPECT_NEAR(pca.explained_variance_ratio()[0], pca.explained_variance()[0] / total, 1e-9);
}

TEST(PcaTest, AllComponentsRoundTrip) {
  const Table t = make_table(300, 4, 3);
  for (const char* whiten : {"false", "true"}) {
    Pca pca(PcaParams::parse({{"whiten", whiten}}));
    pca.fit(cpu(), t.fit_data());
    double ratio_sum = 0;
    for (double r : pca.explained_variance_ratio()) ratio_sum += r;
    EXPECT_NEAR(ratio_sum, 1.0, 1e-12);
    const std::vector<double> z = pca.transform(cpu(), t.view());
    const std::vector<double> back = pca.inverse_transform(z, t.n);
    for (std::size_t i = 0; i < back.size(); ++i)
      EXPECT_NEAR(back[i], t.x[i], 1e-9 * std::max(1.0, std::abs(back[i]))) << whiten;
  }
}

TEST(PcaTest, WhitenedProjectionsHaveUnitVariance) {
  const Table t = make_table(500, 4, 4);
  Pca pca(PcaParams::parse({{"n_components", "2"}, {"whiten", "true"}}));
  pca.fit(cpu(), t.fit_data());
  const std::vector<double> z = pca.transform(cpu(), t.view());
  for (int c = 0; c < 2; ++c) {
    double var = 0;
    for (std::int64_t i = 0; i < t.n; ++i) var += z[i * 2 + c] * z[i * 2 + c];
    EXPECT_NEAR(var / (t.n - 1), 1.0, 1e-8);
  }
}

TEST(PcaTest, VarianceFractionPicksFewestComponentsAboveIt) {
  const Table t = make_table(800, 6, 5);
  Pca all;
  all.fit(cpu(), t.fit_data());
  const auto& ratio = all.explained_variance_ratio();
  const double fraction = ratio[0] + ratio[1] + 0.5 * ratio[2];  // needs 3 components
  Pca some(PcaParams::parse({{"n_components", std::to_string(fraction)}}));
  some.fit(cpu(), t.fit_data());
  EXPECT_EQ(some.n_components(), 3);
  EXPECT_EQ(some.params()["n_components"].get<double>(), std::stod(std::to_string(fraction)));
}

TEST(PcaTest, RandomizedSolverMatchesFullForManyFeatures) {
  // 600 features (> kRandomizedMinFeatures) and 5 components: auto picks the randomized
  // solver. The data has 5 strong directions plus small noise, so the result must match the
  // full eigendecomposition closely.
  const std::int64_t n = 1000, d = 600, rank = 5;
  std::mt19937_64 rng(31);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> w(static_cast<std::size_t>(rank * d));
  for (double& v : w) v = normal(rng);
  Table t{n, d, {}};
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<double> z(static_cast<std::size_t>(rank));
    for (std::int64_t r = 0; r < rank; ++r) z[r] = normal(rng) * (10.0 - r);
    for (std::int64_t j = 0; j < d; ++j) {
      double v = 0.05 * normal(rng);
      for (std::int64_t r = 0; r < rank; ++r) v += z[r] * w[r * d + j];
      t.x.push_back(static_cast<float>(v));
    }
  }
  FitData data = t.fit_data();
  data.seed = 5;
  Pca fast(PcaParams::parse({{"n_components", "5"}}));
  Pca full(PcaParams::parse({{"n_components", "5"}, {"svd_solver", "full"}}));
  fast.fit(cpu(), data);
  full.fit(cpu(), data);
  EXPECT_EQ(fast.solver_used(), "randomized");
  EXPECT_EQ(full.solver_used(), "full");
  for (int c = 0; c < 5; ++c) {
    EXPECT_NEAR(fast.explained_variance()[c], full.explained_variance()[c],
                1e-8 * full.explained_variance()[c]);
    EXPECT_NEAR(fast.explained_variance_ratio()[c], full.explained_variance_ratio()[c], 1e-10);
    double dot = 0;
    for (std::int64_t j = 0; j < d; ++j)
      dot += fast.components()[c * d + j] * full.components()[c * d + j];
    EXPECT_NEAR(dot, 1.0, 1e-8) << "component " << c;  // same sign convention too
  }
  EXPECT_NEAR(fast.noise_variance(), full.noise_variance(), 1e-6 * full.noise_variance());
  EXPECT_THROW(PcaParams::parse({{"svd_solver", "randomized"}}), InputError);
  EXPECT_THROW(PcaParams::parse({{"svd_solver", "arpack"}}), InputError);
}

TEST(PcaTest, RejectsBadInput) {
  const Table t = make_table(10, 3, 6);
  EXPECT_THROW(PcaParams::parse({{"n_components", "0"}}), InputError);
  EXPECT_THROW(PcaParams::parse({{"n_components", "1.5"}}), InputError);
  EXPECT_THROW(PcaParams::parse({{"n_components", "two"}}), InputError);
  Pca too_many(PcaParams::parse({{"n_components", "4"}}));
  EXPECT_THROW(too_many.fit(cpu(), t.fit_data()), InputError);
  const Table one = make_table(1, 3, 6);
  Pca pca;
  EXPECT_THROW(pca.fit(cpu(), one.fit_data()), InputError);
  EXPECT_THROW(pca.predict(cpu(), t.view()), InputError);
}

TEST(PcaTest, ArtifactRoundTrip) {
  const Table t = make_table(200, 5, 7);
  Pca pca(PcaParams::parse({{"n_components", "0.9"}, {"whiten", "true"}}));
  pca.fit(cpu(), t.fit_data());
  const std::string path = testing::unique_temp_path("pca_roundtrip.tabula").string();
  ArtifactWriter out;
  out.set("model", {{"kind", "pca"}});
  pca.save(out);
  out.write(path);
  Pca loaded;
  loaded.load(ArtifactReader(path));
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.n_components(), pca.n_components());
  EXPECT_EQ(loaded.params(), pca.params());
  EXPECT_EQ(loaded.transform(cpu(), t.view()), pca.transform(cpu(), t.view()));
}

}  // namespace
}  // namespace tabula

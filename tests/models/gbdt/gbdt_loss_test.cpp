// The boosted trees' losses: the binomial gradients and probabilities are one formula
// (tabula's own exp, no fused multiply-add) whichever vector clone runs them, so a model has
// the same bits on every x86-64 CPU. This file is compiled with -ffp-contract=off (tests/
// CMakeLists.txt), as the loss is: its reference is the formula, rounded step by step.
#include "models/gbdt/gbdt_loss.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/portable_exp.hpp"

namespace tabula {
namespace {

double reference_sigmoid(double raw) {
  const double e = portable_exp_nonpositive(-std::abs(raw));
  return (raw >= 0 ? 1.0 : e) / (1.0 + e);
}

// Raw scores of every magnitude, both signs, zero and beyond the exp's range; an odd count,
// over several row blocks, so that the vector loops' remainders run too.
std::vector<double> raw_scores() {
  std::vector<double> raw{0.0, -0.0, 1e-300, -1e-300, 750.0, -750.0, 36.0, -36.0};
  std::mt19937_64 rng(8);
  std::normal_distribution<double> normal(0.0, 4.0);
  while (raw.size() < 20011) raw.push_back(normal(rng));
  return raw;
}

TEST(GbdtLoss, BinomialGradientsAreTheFormulaOnEveryRow) {
  const std::vector<double> raw = raw_scores();
  std::vector<double> y(raw.size()), weight(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    y[i] = static_cast<double>(i % 3 == 0);
    weight[i] = 0.25 + static_cast<double>(i % 5);
  }
  for (const bool weighted : {false, true}) {
    gbdt::LossData data{GbdtLoss::kLogLoss, 1, y,
                        weighted ? std::span<const double>(weight) : std::span<const double>()};
    std::vector<double> grad_hess;
    gbdt::gradients(data, raw, grad_hess);
    ASSERT_EQ(grad_hess.size(), 2 * raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const double p = reference_sigmoid(raw[i]);
      const double w = weighted ? weight[i] : 1.0;
      ASSERT_EQ(grad_hess[2 * i], w * (p - y[i])) << "row " << i << ", raw " << raw[i];
      ASSERT_EQ(grad_hess[2 * i + 1], w * p * (1 - p)) << "row " << i << ", raw " << raw[i];
    }
  }
}

TEST(GbdtLoss, BinomialProbabilitiesAreTheSameSigmoid) {
  const std::vector<double> raw = raw_scores();
  const std::vector<double> p = gbdt::probabilities(raw, 1, 2);
  ASSERT_EQ(p.size(), 2 * raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    ASSERT_EQ(p[2 * i + 1], reference_sigmoid(raw[i])) << "row " << i;
    ASSERT_EQ(p[2 * i], 1 - p[2 * i + 1]) << "row " << i;
    ASSERT_TRUE(p[2 * i + 1] > 0 && p[2 * i + 1] <= 1) << "row " << i;
  }
}

// The largest magnitudes the gradient pass finds block by block (what quantisation scales by)
// are each column's maxima over every row, for every loss, weighted or not, k = 1 and k = 3.
TEST(GbdtLoss, GradientsReportEachColumnsLargestMagnitudes) {
  const std::vector<double> raw = raw_scores();
  struct Case {
    GbdtLoss loss;
    std::int64_t k;
  };
  for (const Case c : {Case{GbdtLoss::kSquaredError, 1}, Case{GbdtLoss::kAbsoluteError, 1},
                       Case{GbdtLoss::kLogLoss, 1}, Case{GbdtLoss::kLogLoss, 3}}) {
    const std::size_t n = raw.size() / static_cast<std::size_t>(c.k);
    std::vector<double> y(n), weight(n);
    for (std::size_t i = 0; i < n; ++i) {
      y[i] = c.loss == GbdtLoss::kLogLoss ? static_cast<double>(i % (c.k == 1 ? 2 : c.k))
                                          : std::sin(static_cast<double>(i)) * 50.0;
      weight[i] = 0.25 + static_cast<double>(i * 7 % 11);
    }
    const std::span<const double> scores(raw.data(), n * static_cast<std::size_t>(c.k));
    for (const bool weighted : {false, true}) {
      const gbdt::LossData data{
          c.loss, c.k, y, weighted ? std::span<const double>(weight) : std::span<const double>()};
      std::vector<double> grad_hess, largest;
      gbdt::gradients(data, scores, grad_hess, &largest);
      std::vector<double> expected(static_cast<std::size_t>(2 * c.k), 0.0);
      for (std::size_t v = 0; v < grad_hess.size(); ++v) {
        double& top = expected[v % expected.size()];
        top = std::max(top, std::abs(grad_hess[v]));
      }
      const std::string what = "loss " + std::to_string(static_cast<int>(c.loss)) + ", k " +
                               std::to_string(c.k) + (weighted ? ", weighted" : "");
      EXPECT_EQ(largest, expected) << what;
      EXPECT_EQ(gbdt::largest_magnitudes(grad_hess, c.k), expected) << what;
      EXPECT_GT(expected[0], 0.0) << what;  // not a vacuous all-zero comparison
    }
  }
}

}  // namespace
}  // namespace tabula

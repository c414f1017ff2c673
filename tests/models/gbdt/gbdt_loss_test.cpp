// The boosted trees' losses: the binomial gradients and probabilities are one formula
// (tabula's own exp, no fused multiply-add) whichever vector clone runs them, so a model has
// the same bits on every x86-64 CPU. This file is compiled with -ffp-contract=off (tests/
// CMakeLists.txt), as the loss is: its reference is the formula, rounded step by step.
#include "models/gbdt/gbdt_loss.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
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

}  // namespace
}  // namespace tabula

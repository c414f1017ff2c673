// tabula's own e^x (src/core/portable_exp.hpp): within 2 ulp of the exact value over its whole
// range and below 1 ulp almost everywhere, exact at 0, clamped (never zero or subnormal) below
// -708, NaN for NaN.
#include "core/portable_exp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace tabula {
namespace {

// |approx - e^x| in units of approx's last place, from a long double reference.
double ulp_error(double approx, double x) {
  const long double exact = std::exp(static_cast<long double>(x));
  const double ulp = std::nextafter(approx, std::numeric_limits<double>::infinity()) - approx;
  return static_cast<double>(std::fabs(static_cast<long double>(approx) - exact) / ulp);
}

TEST(PortableExp, WithinTwoUlpAndMostlyBelowOne) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> wide(-708.0, 0.0), near_zero(-1.0, 0.0);
  std::int64_t above_one_ulp = 0;
  const std::int64_t draws = 400000;
  double worst = 0.0;
  for (std::int64_t i = 0; i < draws; ++i) {
    // Both ranges: the sigmoids of boosting see mostly |raw| < 1.
    const double x = i % 2 == 0 ? wide(rng) : near_zero(rng);
    const double error = ulp_error(portable_exp_nonpositive(x), x);
    worst = std::max(worst, error);
    above_one_ulp += error >= 1.0;
  }
  EXPECT_LT(worst, 2.0);
  EXPECT_LT(above_one_ulp, draws / 1000) << "of " << draws;
  // The reduction's edges: x at multiples of ln 2 and halfway between.
  for (int k = 0; k <= 1020; ++k)
    for (const double x : {-k * 0.6931471805599453, -(k + 0.5) * 0.6931471805599453})
      EXPECT_LT(ulp_error(portable_exp_nonpositive(x), x), 2.0) << x;
}

TEST(PortableExp, ExactAtZeroClampedBelowTheRangeNaNStaysNaN) {
  EXPECT_EQ(portable_exp_nonpositive(0.0), 1.0);
  EXPECT_EQ(portable_exp_nonpositive(-0.0), 1.0);
  const double floor = portable_exp_nonpositive(-708.0);
  EXPECT_GT(floor, 0.0);
  EXPECT_TRUE(std::isnormal(floor));
  for (const double x : {-708.5, -745.0, -1e6, -std::numeric_limits<double>::infinity()})
    EXPECT_EQ(portable_exp_nonpositive(x), floor) << x;
  EXPECT_TRUE(std::isnan(portable_exp_nonpositive(std::numeric_limits<double>::quiet_NaN())));
}

}  // namespace
}  // namespace tabula

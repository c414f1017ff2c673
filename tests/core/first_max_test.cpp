#include "core/first_max.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace tabula {
namespace {

TEST(FirstMax, TakesTheFirstOfEqualMaximaAndSkipsInvalidAndNaN) {
  FirstMax m;
  EXPECT_FALSE(m.found());
  EXPECT_EQ(m.index(), -1);
  m.offer(true, 1.0, 0);
  m.offer(true, 3.0, 1);
  m.offer(true, 3.0, 2);                                       // a tie: the earlier stays
  m.offer(false, 9.0, 3);                                      // invalid: never taken
  m.offer(true, std::numeric_limits<double>::quiet_NaN(), 4);  // NaN: never taken
  m.offer(true, 2.0, 5);
  EXPECT_TRUE(m.found());
  EXPECT_EQ(m.index(), 1);
  EXPECT_EQ(m.value(), 3.0);
  // -0.0 and 0.0 compare equal: the first stays.
  FirstMax zeros;
  zeros.offer(true, -0.0, 7);
  zeros.offer(true, 0.0, 8);
  EXPECT_EQ(zeros.index(), 7);
  EXPECT_TRUE(std::signbit(zeros.value()));
}

TEST(FirstMax, AStartValueMustBeExceeded) {
  FirstMax positive(0.0);
  positive.offer(true, 0.0, 0);
  positive.offer(true, -1.0, 1);
  EXPECT_FALSE(positive.found());
  EXPECT_EQ(positive.value(), 0.0);
  positive.offer(true, 1e-300, 2);
  EXPECT_EQ(positive.index(), 2);
}

TEST(FirstMax, AgreesWithABranchingScanOnRandomGains) {
  // Gains drawn from a few values, so ties are common, some candidates invalid; indices up to
  // 2^40 stay exact.
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    FirstMax m;
    bool found = false;
    double best = 0.0;
    std::int64_t at = -1;
    const int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      const double gain = static_cast<double>(rng() % 7) - 3.0;
      const bool valid = rng() % 5 != 0;
      const std::int64_t index = (std::int64_t{1} << 40) + i;
      m.offer(valid, gain, index);
      if (valid && (!found || gain > best)) {
        found = true;
        best = gain;
        at = index;
      }
    }
    ASSERT_EQ(m.found(), found);
    if (found) {
      EXPECT_EQ(m.index(), at);
      EXPECT_EQ(m.value(), best);
    }
  }
}

}  // namespace
}  // namespace tabula

// The exact reductions without MPI: ExactSum's order independence, and the radix selection of
// order statistics run through a communicator whose "other rank" holds a copy of this rank's
// values (every all-reduced count doubles), so its answers are known from one sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "distributed/reduce.hpp"
#include "distributed/select.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula {
namespace {

/// Two ranks holding the same values: sums double, gathers repeat this rank's part.
class MirroredCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void all_reduce_sum(std::span<double> values) override {
    for (double& v : values) v += v;
  }
  void all_reduce_sum(std::span<std::int64_t> values) override {
    for (std::int64_t& v : values) v += v;
  }
  void broadcast(std::string&, int) override {}
  std::vector<std::string> all_gather(const std::string& bytes) override { return {bytes, bytes}; }
  [[noreturn]] void abort(int) override { std::abort(); }
  std::string describe() const override { return "mirrored rank"; }
};

std::vector<double> awkward_values() {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> v;
  for (int i = 0; i < 500; ++i) v.push_back(std::round(normal(rng) * 4) / 4);  // many ties
  for (double x : {-0.0, 0.0, 1e-310, -1e-310, 1e300, -1e300, 3.5, -2.25}) v.insert(v.end(), 3, x);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

TEST(ExactSum, IsExactWhateverTheOrder) {
  distributed::ExactSum a;
  for (double x : {1e100, 1.0, -1e100, 0x1p-1074, 3e-300}) a.add(x);
  EXPECT_EQ(a.value(), 1.0);  // 1 + 2^-1074 + 3e-300 rounds to 1
  distributed::ExactSum b;
  for (double x : {0x1p-1074, -0x1p-1074, -0x1p-1074}) b.add(x);
  EXPECT_EQ(b.value(), -0x1p-1074);  // subnormals exactly
  std::vector<double> v = awkward_values();
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::abs(x) > 1e200; }),
          v.end());
  distributed::ExactSum forward, backward;
  for (double x : v) forward.add(x);
  for (auto it = v.rbegin(); it != v.rend(); ++it) backward.add(*it);
  EXPECT_EQ(forward.value(), backward.value());
  long double reference = 0;
  for (double x : v) reference += x;
  EXPECT_NEAR(forward.value(), static_cast<double>(reference), 1e-12);
  EXPECT_THROW(forward.add(std::numeric_limits<double>::infinity()), InputError);
}

TEST(ExactSum, OverRanksIsTheSumOfEveryRanksValues) {
  MirroredCommunicator two;
  distributed::ExactSum s;
  for (double x : {0.1, 0.2, 0.3, -1e-300}) s.add(x);
  distributed::ExactSum twice;
  for (int r = 0; r < 2; ++r)
    for (double x : {0.1, 0.2, 0.3, -1e-300}) twice.add(x);
  s.sum_over_ranks(&two);
  EXPECT_EQ(s.value(), twice.value());
}

TEST(SelectOverRanks, GivesTheOrderStatisticsOfEveryRanksValues) {
  const std::vector<double> v = awkward_values();
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> both;  // the two ranks' values together
  for (double x : sorted) both.insert(both.end(), 2, x == 0.0 ? 0.0 : x);
  std::vector<std::int64_t> positions;
  for (std::int64_t p = 0; p < static_cast<std::int64_t>(both.size()); p += 7)
    positions.push_back(p);
  positions.push_back(static_cast<std::int64_t>(both.size()) - 1);
  MirroredCommunicator two;
  const std::vector<double> got = distributed::select_over_ranks(&two, v, positions);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const double want = both[static_cast<std::size_t>(positions[i])];
    EXPECT_EQ(got[i], want) << "position " << positions[i];
    EXPECT_EQ(std::signbit(got[i]), std::signbit(want == 0.0 ? 0.0 : want));
  }
  // One process: the same values from a local selection.
  const std::int64_t mid[1] = {static_cast<std::int64_t>(v.size() / 2)};
  EXPECT_EQ(distributed::select_over_ranks(nullptr, v, mid)[0], sorted[v.size() / 2]);
  EXPECT_THROW(distributed::select_over_ranks(
                   &two, v, std::vector<std::int64_t>{static_cast<std::int64_t>(both.size())}),
               InputError);
}

TEST(QuantileOverRanks, AppliesNumPysInterpolationToTheSelectedValues) {
  const std::vector<double> v{4.0, -1.0, 2.5, 10.0, 2.5};
  // np.median([4, -1, 2.5, 10, 2.5]) = 2.5; np.quantile(..., 0.3) = 2.5;
  // doubled: np.median of ten values = 2.5, np.quantile(..., 0.9) = 10.
  EXPECT_EQ(distributed::median_over_ranks(nullptr, v), 2.5);
  EXPECT_EQ(distributed::quantile_over_ranks(nullptr, v, 0.75), 4.0);
  EXPECT_EQ(distributed::median_over_ranks(nullptr, std::vector<double>{1.0, 2.0}), 1.5);
  MirroredCommunicator two;
  EXPECT_EQ(distributed::median_over_ranks(&two, v), 2.5);
  // Doubled: [-1 -1 2.5 2.5 2.5 2.5 4 4 10 10], position 0.7 * 9 = 6.3 -> 4 + 0.3 * 0 = 4.
  EXPECT_EQ(distributed::quantile_over_ranks(&two, v, 0.7), 4.0);
  // position 0.8 * 9 = 7.2 -> 4 + 0.2 * (10 - 4)
  EXPECT_DOUBLE_EQ(distributed::quantile_over_ranks(&two, v, 0.8), 4.0 + 0.2 * 6.0);
  EXPECT_THROW(distributed::median_over_ranks(&two, std::vector<double>{}), InputError);
}

}  // namespace
}  // namespace tabula

// The exact selection over ranks (src/distributed/select.hpp): the order-preserving key, and the
// k-th smallest of every rank's values, equal to a sort's on one process, for ranks as threads.
#include "distributed/select.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "support/thread_communicator.hpp"
#include "tabula/core/error.hpp"

namespace tabula::distributed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(OrderKey, OrdersAsTheDoublesAndInverts) {
  const std::vector<double> ascending{-kInf,
                                      -std::numeric_limits<double>::max(),
                                      -1.5,
                                      -std::numeric_limits<double>::denorm_min(),
                                      0.0,
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::min(),
                                      1.0,
                                      1.0 + std::numeric_limits<double>::epsilon(),
                                      std::numeric_limits<double>::max(),
                                      kInf};
  for (std::size_t i = 0; i < ascending.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(from_order_key(order_key(ascending[i]))),
              std::bit_cast<std::uint64_t>(ascending[i]));
    if (i > 0) EXPECT_LT(order_key(ascending[i - 1]), order_key(ascending[i])) << i;
  }
  EXPECT_EQ(order_key(-0.0), order_key(0.0));  // equal as doubles, one key
}

/// Values with ties, both signs, zeros of both signs, infinities and tiny magnitudes.
std::vector<double> awkward_values(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, 9);
  std::normal_distribution<double> normal(0.0, 1e3);
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) {
    switch (pick(rng)) {
      case 0:
        v.push_back(std::round(normal(rng) / 100.0));
        break;  // many ties
      case 1:
        v.push_back(i % 2 ? -0.0 : 0.0);
        break;
      case 2:
        v.push_back(i % 3 ? 1e-310 : -1e-310);
        break;
      case 3:
        v.push_back(i % 7 == 0 ? -kInf : i % 7 == 1 ? kInf : 42.0);
        break;
      default:
        v.push_back(normal(rng));
    }
  }
  return v;
}

TEST(SelectOverRanks, OneProcessTakesTheSortedValue) {
  const std::vector<double> v = awkward_values(5000, 3);
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const std::vector<std::int64_t> orders{0, 1, 777, 2499, 2500, 4998, 4999};
  LocalCommunicator local;
  for (Communicator* comm :
       {static_cast<Communicator*>(nullptr), static_cast<Communicator*>(&local)}) {
    const std::vector<double> got = select_over_ranks(comm, v, orders);
    ASSERT_EQ(got.size(), orders.size());
    for (std::size_t i = 0; i < orders.size(); ++i)
      EXPECT_EQ(got[i], sorted[static_cast<std::size_t>(orders[i])]) << orders[i];
  }
}

TEST(SelectOverRanks, RanksTakeTheOneProcessValueBitForBit) {
  const std::vector<double> v = awkward_values(3001, 5);
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const std::vector<std::int64_t> orders{0, 1499, 1500, 1501, 3000};
  const std::vector<double> alone = select_over_ranks(nullptr, v, orders);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    // Uneven shares, one of them empty when there are 3 or more ranks.
    std::vector<std::size_t> cuts{0};
    for (int r = 1; r < ranks; ++r) cuts.push_back(r == 1 ? 0 : v.size() * r / (ranks + 1));
    cuts.push_back(v.size());
    std::vector<std::vector<double>> got(static_cast<std::size_t>(ranks));
    testing::run_ranks(ranks, [&](Communicator& comm) {
      const auto r = static_cast<std::size_t>(comm.rank());
      const std::span<const double> share(v.data() + cuts[r], cuts[r + 1] - cuts[r]);
      got[r] = select_over_ranks(&comm, share, orders);
    });
    for (int r = 0; r < ranks; ++r)
      for (std::size_t i = 0; i < orders.size(); ++i) {
        SCOPED_TRACE("rank " + std::to_string(r) + " of " + std::to_string(ranks));
        EXPECT_EQ(std::bit_cast<std::uint64_t>(got[static_cast<std::size_t>(r)][i]),
                  std::bit_cast<std::uint64_t>(alone[i]));
        EXPECT_EQ(got[static_cast<std::size_t>(r)][i], sorted[static_cast<std::size_t>(orders[i])]);
      }
  }
}

TEST(SelectOverRanks, AnOrderBeyondTheValuesIsAnInputError) {
  const std::vector<double> v{3.0, 1.0, 2.0};
  const std::vector<std::int64_t> beyond{3}, negative{-1};
  EXPECT_THROW(select_over_ranks(nullptr, v, beyond), InputError);
  EXPECT_THROW(select_over_ranks(nullptr, v, negative), InputError);
  EXPECT_THROW(select_over_ranks(nullptr, {}, std::vector<std::int64_t>{0}), InputError);
}

}  // namespace
}  // namespace tabula::distributed

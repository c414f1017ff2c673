// A/B split: weights respected, sticky keys, determinism.
#include "serve/traffic_split.hpp"

#include <gtest/gtest.h>

#include <map>

#include "tabula/core/error.hpp"

namespace tabula::serve {
namespace {

TEST(TrafficSplitTest, SharesFollowTheWeights) {
  const TrafficSplit split({"1", "2", "3"}, {70, 20, 10});
  std::map<std::string, int> counts;
  constexpr int kN = 20000;
  for (std::uint64_t i = 0; i < kN; ++i) ++counts[split.pick(std::nullopt, i)];
  EXPECT_NEAR(counts["1"] / double(kN), 0.7, 0.02);
  EXPECT_NEAR(counts["2"] / double(kN), 0.2, 0.02);
  EXPECT_NEAR(counts["3"] / double(kN), 0.1, 0.02);
}

TEST(TrafficSplitTest, StickyKeysAlwaysReachTheSameVersionAndSpread) {
  const TrafficSplit split({"a", "b"}, {1, 1});
  std::map<std::string, int> counts;
  for (int user = 0; user < 2000; ++user) {
    const std::string key = "user-" + std::to_string(user);
    const std::string& first = split.pick(key, 0);
    for (std::uint64_t seq : {1u, 17u, 99999u}) EXPECT_EQ(split.pick(key, seq), first);
    ++counts[first];
  }
  EXPECT_NEAR(counts["a"] / 2000.0, 0.5, 0.05);
  // The same split built again answers the same (no hidden state, no seed).
  const TrafficSplit again({"a", "b"}, {1, 1});
  for (int user = 0; user < 100; ++user) {
    const std::string key = "user-" + std::to_string(user);
    EXPECT_EQ(split.pick(key, 0), again.pick(key, 5));
  }
}

TEST(TrafficSplitTest, ZeroWeightIsNeverChosen) {
  const TrafficSplit split({"old", "new"}, {0, 3});
  for (std::uint64_t i = 0; i < 5000; ++i) EXPECT_EQ(split.pick(std::nullopt, i), "new");
  for (int k = 0; k < 500; ++k) EXPECT_EQ(split.pick(std::to_string(k), 0), "new");
}

TEST(TrafficSplitTest, RejectsBadWeights) {
  EXPECT_THROW(TrafficSplit({"1"}, {}), InputError);
  EXPECT_THROW(TrafficSplit({"1", "2"}, {0, 0}), InputError);
  EXPECT_THROW(TrafficSplit({"1", "2"}, {1, -1}), InputError);
  EXPECT_THROW(TrafficSplit({}, {}), InputError);
}

TEST(TrafficSplitTest, StickyHashIsStable) {
  EXPECT_EQ(sticky_hash("abc"), sticky_hash("abc"));
  EXPECT_NE(sticky_hash("abc"), sticky_hash("abd"));
}

}  // namespace
}  // namespace tabula::serve

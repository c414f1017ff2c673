// Holdout splits: sizes as sklearn, a partition of the rows, reproducible, stratified by class.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/selection/model_selection.hpp"

namespace tabula {
namespace {

void expect_partition(const TrainTestSplit& s, std::int64_t n) {
  std::vector<std::int64_t> all = s.train;
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(static_cast<std::size_t>(n));
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  EXPECT_TRUE(std::is_sorted(s.test.begin(), s.test.end()));
}

TEST(TrainTestSplit, SizesPartitionAndSeed) {
  const TrainTestSplit a = train_test_split(101, 0.2, 0);
  EXPECT_EQ(a.test.size(), 21u);  // ceil(0.2 * 101), as sklearn
  EXPECT_EQ(a.train.size(), 80u);
  expect_partition(a, 101);
  EXPECT_EQ(train_test_split(101, 0.2, 0).test, a.test);
  EXPECT_NE(train_test_split(101, 0.2, 1).test, a.test);
  // Shuffled, not the first or last rows.
  EXPECT_NE(a.test.back() - a.test.front(), 20);
}

TEST(TrainTestSplit, RefusesBadSizes) {
  EXPECT_THROW(train_test_split(10, 0.0, 0), InputError);
  EXPECT_THROW(train_test_split(10, 1.0, 0), InputError);
  EXPECT_THROW(train_test_split(1, 0.5, 0), InputError);
  EXPECT_THROW(train_test_split(2, 0.99, 0), InputError);
}

TEST(StratifiedSplit, KeepsClassProportions) {
  // 3 classes: 70, 20, 10 rows, interleaved.
  std::vector<double> y;
  for (int i = 0; i < 100; ++i) y.push_back(i % 10 < 7 ? 0.0 : (i % 10 < 9 ? 1.0 : 2.0));
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    const TrainTestSplit s = stratified_train_test_split(y, 3, 0.25, seed);
    expect_partition(s, 100);
    EXPECT_EQ(s.test.size(), 25u);
    std::vector<int> counts(3, 0);
    for (auto i : s.test) ++counts[static_cast<std::size_t>(y[static_cast<std::size_t>(i)])];
    EXPECT_NEAR(counts[0], 17.5, 1.0);
    EXPECT_NEAR(counts[1], 5.0, 1.0);
    EXPECT_NEAR(counts[2], 2.5, 1.0);
  }
  EXPECT_EQ(stratified_train_test_split(y, 3, 0.25, 5).test,
            stratified_train_test_split(y, 3, 0.25, 5).test);
}

TEST(StratifiedSplit, RefusesTinyClasses) {
  EXPECT_THROW(stratified_train_test_split(std::vector<double>{0, 0, 0, 1}, 2, 0.5, 0), InputError);
  // 2 classes but a test part of one row.
  EXPECT_THROW(stratified_train_test_split(std::vector<double>{0, 0, 0, 0, 1, 1}, 2, 0.1, 0),
               InputError);
}

TEST(GroupTrainTestSplit, HoldsOutWholeGroupsInProportion) {
  // 7 groups of uneven sizes, ids interleaved over the rows.
  std::vector<std::int64_t> groups;
  for (int row = 0; row < 200; ++row) groups.push_back((row * 5 + row / 7) % 7);
  const TrainTestSplit split = group_train_test_split(groups, 0.3, 11);
  std::set<std::int64_t> test_groups, train_groups;
  for (std::int64_t r : split.test) test_groups.insert(groups[static_cast<std::size_t>(r)]);
  for (std::int64_t r : split.train) train_groups.insert(groups[static_cast<std::size_t>(r)]);
  EXPECT_EQ(test_groups.size(), 3u);  // ceil(0.3 * 7)
  EXPECT_EQ(train_groups.size(), 4u);
  for (std::int64_t g : test_groups) EXPECT_EQ(train_groups.count(g), 0u) << "group " << g;
  EXPECT_EQ(split.train.size() + split.test.size(), groups.size());
  EXPECT_TRUE(std::is_sorted(split.test.begin(), split.test.end()));
  const TrainTestSplit again = group_train_test_split(groups, 0.3, 11);
  EXPECT_EQ(again.test, split.test);
  std::set<std::vector<std::int64_t>> distinct;
  for (std::uint64_t seed = 0; seed < 8; ++seed)
    distinct.insert(group_train_test_split(groups, 0.3, seed).test);
  EXPECT_GT(distinct.size(), 1u) << "the seed must choose the groups";
  EXPECT_THROW(group_train_test_split(std::vector<std::int64_t>(10, 0), 0.3, 0), InputError);
}

}  // namespace
}  // namespace tabula

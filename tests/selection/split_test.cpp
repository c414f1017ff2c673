// Holdout splits: sizes as sklearn, a partition of the rows, reproducible, stratified by class.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "tabula/error.hpp"
#include "tabula/model_selection.hpp"

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

}  // namespace
}  // namespace tabula

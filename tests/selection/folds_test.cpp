// Cross-validation splitters: partitions, sizes as sklearn, stratification, time order, groups.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/selection/model_selection.hpp"

namespace tabula {
namespace {

/// Each fold: train and test disjoint, ascending, covering 0..n-1; the test sets together
/// cover every row once.
void expect_kfold_partition(const std::vector<Fold>& folds, std::int64_t n) {
  std::vector<int> tested(static_cast<std::size_t>(n), 0);
  for (const Fold& f : folds) {
    EXPECT_TRUE(std::is_sorted(f.train.begin(), f.train.end()));
    EXPECT_TRUE(std::is_sorted(f.test.begin(), f.test.end()));
    std::vector<std::int64_t> all = f.train;
    all.insert(all.end(), f.test.begin(), f.test.end());
    std::sort(all.begin(), all.end());
    std::vector<std::int64_t> expected(static_cast<std::size_t>(n));
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(all, expected);
    for (std::int64_t r : f.test) ++tested[static_cast<std::size_t>(r)];
  }
  for (int t : tested) EXPECT_EQ(t, 1);
}

TEST(KFold, SizesAsSklearnAndPartition) {
  const std::vector<Fold> folds = kfold(23, 5, false, 0);
  ASSERT_EQ(folds.size(), 5u);
  const std::vector<std::size_t> sizes = {5, 5, 5, 4, 4};  // sklearn: first n % k get one more
  for (std::size_t f = 0; f < 5; ++f) EXPECT_EQ(folds[f].test.size(), sizes[f]);
  expect_kfold_partition(folds, 23);
  // Without shuffle the test folds are consecutive blocks.
  EXPECT_EQ(folds[1].test.front(), 5);
  EXPECT_EQ(folds[1].test.back(), 9);
}

TEST(KFold, ShuffleIsSeeded) {
  const std::vector<Fold> a = kfold(50, 4, true, 7), b = kfold(50, 4, true, 7),
                          c = kfold(50, 4, true, 8);
  EXPECT_EQ(a[0].test, b[0].test);
  EXPECT_NE(a[0].test, c[0].test);
  expect_kfold_partition(a, 50);
  // Shuffled: not a consecutive block.
  EXPECT_NE(a[0].test.back() - a[0].test.front(), static_cast<std::int64_t>(a[0].test.size()) - 1);
}

TEST(KFold, Errors) {
  EXPECT_THROW(kfold(3, 5, false, 0), InputError);
  EXPECT_THROW(kfold(10, 1, false, 0), InputError);
  try {
    kfold(3, 5, false, 0);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("fewer rows than folds"), std::string::npos);
  }
}

TEST(StratifiedKFold, EachClassSplitEvenly) {
  // Classes in sorted blocks (a typical sorted file): 17 of class 1, 9 of class 0, 4 of class 2.
  std::vector<double> y;
  for (int i = 0; i < 17; ++i) y.push_back(1);
  for (int i = 0; i < 9; ++i) y.push_back(0);
  for (int i = 0; i < 4; ++i) y.push_back(2);
  for (bool shuffle : {false, true}) {
    const std::vector<Fold> folds = stratified_kfold(y, 4, shuffle, 3);
    expect_kfold_partition(folds, static_cast<std::int64_t>(y.size()));
    for (const Fold& f : folds) {
      std::map<double, int> count;
      for (std::int64_t r : f.test) ++count[y[static_cast<std::size_t>(r)]];
      EXPECT_NEAR(count[1], 17.0 / 4, 1.0);
      EXPECT_NEAR(count[0], 9.0 / 4, 1.0);
      EXPECT_EQ(count[2], 1);
    }
  }
  // sklearn's sizes for this y with 4 folds (the class sequence dealt round-robin): 8 8 7 7.
  const std::vector<Fold> folds = stratified_kfold(y, 4, false, 0);
  EXPECT_EQ(folds[0].test.size(), 8u);
  EXPECT_EQ(folds[1].test.size(), 8u);
  EXPECT_EQ(folds[2].test.size(), 7u);
  EXPECT_EQ(folds[3].test.size(), 7u);
}

TEST(StratifiedKFold, ClassSmallerThanFoldsIsAnError) {
  std::vector<double> y(20, 0.0);
  y[3] = 1;
  y[9] = 1;
  try {
    stratified_kfold(y, 3, false, 0);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("fewer than the 3 folds"), std::string::npos) << e.what();
  }
}

TEST(GroupKFold, GroupsNeverSplitAndBalanced) {
  std::vector<std::int64_t> groups;
  const std::vector<int> sizes = {7, 3, 3, 5, 1, 2, 6, 4};
  for (std::size_t g = 0; g < sizes.size(); ++g)
    for (int i = 0; i < sizes[g]; ++i) groups.push_back(static_cast<std::int64_t>(g) * 10);
  const std::vector<Fold> folds = group_kfold(groups, 3);
  expect_kfold_partition(folds, static_cast<std::int64_t>(groups.size()));
  for (const Fold& f : folds) {
    std::set<std::int64_t> in_test, in_train;
    for (std::int64_t r : f.test) in_test.insert(groups[static_cast<std::size_t>(r)]);
    for (std::int64_t r : f.train) in_train.insert(groups[static_cast<std::size_t>(r)]);
    for (std::int64_t g : in_test) EXPECT_FALSE(in_train.count(g)) << "group " << g << " split";
  }
  // Greedy largest-first into the lightest fold: 31 rows -> 11, 10, 10.
  std::vector<std::size_t> test_sizes;
  for (const Fold& f : folds) test_sizes.push_back(f.test.size());
  std::sort(test_sizes.begin(), test_sizes.end());
  EXPECT_EQ(test_sizes, (std::vector<std::size_t>{10, 10, 11}));
}

TEST(GroupKFold, OneGroupIsAnError) {
  const std::vector<std::int64_t> groups(10, 4);
  try {
    group_kfold(groups, 2);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("1 distinct group"), std::string::npos) << e.what();
  }
}

TEST(TimeSeriesSplit, TrainAlwaysBeforeTestSizesAsSklearn) {
  const std::vector<Fold> folds = time_series_split(23, 4);
  ASSERT_EQ(folds.size(), 4u);
  // sklearn: test_size = 23 // 5 = 4, test starts at 7, 11, 15, 19.
  for (std::size_t f = 0; f < 4; ++f) {
    EXPECT_EQ(folds[f].test.size(), 4u);
    EXPECT_EQ(folds[f].test.front(), 7 + 4 * static_cast<std::int64_t>(f));
    EXPECT_EQ(folds[f].train.size(), 7 + 4 * f);
    EXPECT_LT(folds[f].train.back(), folds[f].test.front());
  }
  const std::vector<Fold> gapped = time_series_split(23, 4, 2, 5);
  for (const Fold& f : gapped) {
    EXPECT_LE(f.train.size(), 5u);
    EXPECT_EQ(f.test.front() - f.train.back(), 3);  // two rows left out
  }
  EXPECT_THROW(time_series_split(4, 4), InputError);
}

TEST(RepeatedKFold, RepeatsDifferAndEachIsAPartition) {
  const std::vector<Fold> folds = repeated_kfold(30, 3, 2, 11);
  ASSERT_EQ(folds.size(), 6u);
  expect_kfold_partition({folds.begin(), folds.begin() + 3}, 30);
  expect_kfold_partition({folds.begin() + 3, folds.end()}, 30);
  EXPECT_NE(folds[0].test, folds[3].test);
  EXPECT_EQ(repeated_kfold(30, 3, 2, 11)[4].test, folds[4].test);
  EXPECT_THROW(repeated_kfold(30, 3, 0, 11), InputError);
}

}  // namespace
}  // namespace tabula

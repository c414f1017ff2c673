// One preparation for train and tune: the same refusals, the same task, and test rows held out
// by time, by group or by class.
#include "training/labelled_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

/// 20 rows: x, a group g (5 groups), a time t (descending), a class y (2 classes).
std::string write_table(const testing::ScopedTempDir& dir, bool missing_target = false) {
  const std::string path = (dir.path() / "table.csv").string();
  std::ofstream out(path);
  out << "x,g,t,y\n";
  for (int i = 0; i < 20; ++i)
    out << i << ",g" << i % 5 << "," << 100 - i << ","
        << (missing_target && i == 3 ? "" : std::to_string(i % 2)) << "\n";
  return path;
}

TEST(LabelledTable, TakesOutNonFeaturesAndEncodesTheTarget) {
  const testing::ScopedTempDir dir;
  const LabelledTable t = prepare_labelled_table({.data_path = write_table(dir),
                                                  .target = "y",
                                                  .model = "forest",
                                                  .group_column = "g",
                                                  .time_column = "t"});
  EXPECT_EQ(t.choice.task, Task::kClassification);
  EXPECT_EQ(t.data.cols(), 1);  // only x is a feature
  ASSERT_TRUE(t.group && t.time);
  EXPECT_EQ(t.n_classes, 2);
  EXPECT_EQ(t.y.size(), 20u);
  EXPECT_EQ(t.schema.class_labels, (std::vector<std::string>{"0", "1"}));
}

TEST(LabelledTable, RefusesWhatTrainAndTuneBothRefuse) {
  const testing::ScopedTempDir dir;
  const std::string path = write_table(dir, true);
  try {
    prepare_labelled_table({.data_path = path, .target = "y", .model = "forest"});
    FAIL() << "a target with a missing value was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has 1 missing value(s)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prepare_labelled_table(
                   {.data_path = path, .target = "y", .model = "forest", .drop_columns = {"zz"}}),
               InputError);
  EXPECT_THROW(prepare_labelled_table(
                   {.data_path = path, .target = "y", .model = "ridge", .group_column = "nope"}),
               InputError);
}

TEST(LabelledTable, HoldsOutTheLatestRowsByTime) {
  const testing::ScopedTempDir dir;
  const LabelledTable t = prepare_labelled_table(
      {.data_path = write_table(dir), .target = "y", .model = "forest", .time_column = "t"});
  const TrainTestSplit s = hold_out_test_rows(t, 0.2, 0);
  ASSERT_EQ(s.test.size(), 4u);
  // t falls as the row grows: the latest times are the first rows.
  for (std::int64_t r : s.test) EXPECT_LT(r, 4);
  EXPECT_EQ(s.train.front(), 19);  // the earliest time first
}

TEST(LabelledTable, HoldsOutWholeGroupsOrStratifiesByClass) {
  const testing::ScopedTempDir dir;
  const std::string path = write_table(dir);
  const LabelledTable grouped = prepare_labelled_table(
      {.data_path = path, .target = "y", .model = "forest", .group_column = "g"});
  const TrainTestSplit g = hold_out_test_rows(grouped, 0.2, 3);
  std::set<std::int64_t> test_groups, train_groups;
  for (std::int64_t r : g.test) test_groups.insert(r % 5);
  for (std::int64_t r : g.train) train_groups.insert(r % 5);
  EXPECT_EQ(test_groups.size(), 1u);  // ceil(0.2 x 5 groups)
  for (std::int64_t group : test_groups) EXPECT_EQ(train_groups.count(group), 0u);

  const LabelledTable plain =
      prepare_labelled_table({.data_path = path, .target = "y", .model = "forest"});
  const TrainTestSplit s = hold_out_test_rows(plain, 0.2, 3);
  const auto ones = std::count_if(s.test.begin(), s.test.end(), [](auto r) { return r % 2; });
  EXPECT_EQ(ones, 2);  // stratified: half of the 4 test rows in each class
  EXPECT_EQ(hold_out_test_rows(plain, 0.0, 3).test.size(), 0u);
}

}  // namespace
}  // namespace tabula

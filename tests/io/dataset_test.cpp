// Dataset (src/core/dataset.cpp) on tables built by hand; lives with the io tests that fill it.
#include <gtest/gtest.h>

#include <cmath>

#include "tabula/core/dataset.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

Dataset small_table() {
  Dataset d;
  d.source = "t.csv";
  Column a{"a", ColumnType::kNumeric, {1.0, NAN, 3.0}, {}, {}};
  Column b{"b", ColumnType::kNumeric, {-1.0, 2.5, 0.0}, {}, {}};
  d.columns = {a, b};
  d.target = Column{"y", ColumnType::kCategorical, {}, {1, -1, 0}, {"no", "yes"}};
  return d;
}

TEST(Dataset, ShapeAndLookup) {
  const Dataset d = small_table();
  EXPECT_EQ(d.rows(), 3);
  EXPECT_EQ(d.cols(), 2);
  EXPECT_EQ(d.find("b"), 1);
  EXPECT_FALSE(d.find("y").has_value());  // the target is not a feature
  EXPECT_EQ(d.column("y").codes.size(), 3u);
  try {
    d.column("zzz");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv: column 'zzz': no such column"), std::string::npos)
        << e.what();
  }
}

TEST(Dataset, MissingValues) {
  const Dataset d = small_table();
  EXPECT_EQ(d.columns[0].missing_count(), 1);
  EXPECT_TRUE(d.columns[0].is_missing(1));
  EXPECT_FALSE(d.columns[0].is_missing(0));
  EXPECT_EQ(d.target->missing_count(), 1);
  EXPECT_TRUE(d.target->is_missing(1));
  EXPECT_FALSE(d.target->is_missing(2));
  EXPECT_THROW(d.columns[0].is_missing(3), Error);
  EXPECT_EQ(to_string(ColumnType::kCategorical), "categorical");
  EXPECT_EQ(to_string(ColumnType::kNumeric), "numeric");
}

TEST(Dataset, NumericMatrixIsRowMajorWithNaN) {
  const std::vector<float> m = small_table().numeric_matrix_row_major();
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0], 1.0f);
  EXPECT_EQ(m[1], -1.0f);
  EXPECT_TRUE(std::isnan(m[2]));
  EXPECT_EQ(m[3], 2.5f);
  EXPECT_EQ(m[4], 3.0f);
}

TEST(Dataset, NumericMatrixRejectsCategoricalFeatures) {
  Dataset d = small_table();
  d.columns.push_back(Column{"city", ColumnType::kCategorical, {}, {0, 0, 0}, {"x"}});
  try {
    d.numeric_matrix_row_major();
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("column 3 ('city')"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tabula

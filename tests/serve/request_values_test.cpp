// Values a float32 model cannot hold (infinite, or beyond float32's range) are a 400 naming the
// input and the row, checked where request values become the model's columns, whatever the
// protocol; missing values (NaN, JSON null) pass through to the pipeline.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "serve/http_error.hpp"
#include "serve/request_table.hpp"

namespace tabula::serve {
namespace {

RequestTable table_with(double value) {
  RequestTable t;
  t.rows = 3;
  t.columns.push_back({"a", ColumnType::kNumeric, {1.0, 2.0, 3.0}, {}, {}});
  t.columns.push_back({"b", ColumnType::kNumeric, {0.5, value, 1.5}, {}, {}});
  return t;
}

ModelSchema schema() {
  ModelSchema s;
  s.features = {{"a", ColumnType::kNumeric}, {"b", ColumnType::kNumeric}};
  return s;
}

TEST(RequestValues, OutOfFloat32RangeIsA400NamingInputAndRow) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double v : {inf, -inf, 1e39, -3.5e38, std::numeric_limits<double>::max()}) {
    try {
      validate(table_with(v), schema());
      ADD_FAILURE() << v << " was accepted";
    } catch (const HttpError& e) {
      EXPECT_EQ(e.status(), 400);
      EXPECT_NE(std::string(e.what()).find("input 'b', row 2: value"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("float32 range"), std::string::npos);
    }
  }
}

TEST(RequestValues, MissingAndInRangeValuesPass) {
  for (double v : {std::numeric_limits<double>::quiet_NaN(), 3.4e38, -3.4e38, 0.0, 1e-300})
    EXPECT_NO_THROW(validate(table_with(v), schema())) << v;
  // A column the model does not read is not checked.
  RequestTable t = table_with(1.0);
  t.columns.push_back(
      {"extra", ColumnType::kNumeric, {std::numeric_limits<double>::infinity(), 0, 0}, {}, {}});
  EXPECT_NO_THROW(validate(t, schema()));
}

}  // namespace
}  // namespace tabula::serve

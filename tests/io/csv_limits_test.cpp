// The CSV readers' limits on hostile files (docs/security.md): fields longer than
// max_field_bytes, and numbers a float32 model cannot hold, are errors with file, line and
// column, whatever the chunking; NaN and the NA strings stay missing values.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "io/csv/parser.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io {
namespace {

std::string error_of(const std::string& text, const CsvOptions& options, std::size_t chunk_bytes) {
  try {
    detail::parse_csv_chunked(text, "t.csv", options, chunk_bytes);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

TEST(CsvLimits, FieldLongerThanTheLimitIsAnErrorAtItsLine) {
  CsvOptions options;
  options.max_field_bytes = 16;
  const std::string ok = std::string(16, 'a');
  const std::string over = std::string(17, 'b');
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 20}) {
    EXPECT_NO_THROW(detail::parse_csv_chunked("x,y\n1," + ok + "\n", "t.csv", options, chunk));
    for (const std::string& field :
         {over, "\"" + over + "\"", "\"" + over + "\"\"x\"", std::string(17, '7')}) {
      const std::string text = "x,y\n1,a\n2,b\n3," + field + "\n4,c\n";
      const std::string e = error_of(text, options, chunk);
      EXPECT_NE(e.find("t.csv:4: column 2 ('y'): a field of"), std::string::npos) << e;
      EXPECT_NE(e.find("limit of 16 bytes per field (max_field_bytes)"), std::string::npos) << e;
    }
    // The last field of the file, with no newline after it.
    EXPECT_NE(error_of("x,y\n1," + over, options, chunk).find("t.csv:2: column 2"),
              std::string::npos);
  }
  // A header name is a field too.
  EXPECT_NE(error_of("x," + over + "\n1,2\n", options, 1 << 20).find("t.csv:1: column 2"),
            std::string::npos);
}

TEST(CsvLimits, DefaultFieldLimitIsOneMebibyte) {
  EXPECT_EQ(CsvOptions{}.max_field_bytes, std::size_t{1} << 20);
  const std::string text = "x\n" + std::string((std::size_t{1} << 20) + 1, 'q') + "\n";
  EXPECT_THROW(parse_csv(text, "t.csv"), InputError);
}

TEST(CsvLimits, NumbersBeyondFloat32AreErrorsNamingTheirLine) {
  for (const char* value : {"inf", "-inf", "Infinity", "1e39", "-3.5e38", "1e400"}) {
    const std::string text = std::string("x,y\n1,2\n3,4\n5,") + value + "\n6,7\n";
    for (std::size_t chunk : {std::size_t{1}, std::size_t{1} << 20}) {
      const std::string e = error_of(text, {}, chunk);
      EXPECT_NE(e.find("t.csv:4: column 2 ('y'): value '" + std::string(value) +
                       "' is infinite or outside the float32 range"),
                std::string::npos)
          << value << ": " << e;
      CsvOptions forced;
      forced.numeric = {"y"};
      EXPECT_NE(error_of(text, forced, chunk).find("t.csv:4: column 2 ('y')"), std::string::npos);
    }
  }
  // The first bad value in file order is the one named, across columns and chunks.
  const std::string text = "a,b\n1,2\n3,1e39\ninf,4\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{1} << 20})
    EXPECT_NE(error_of(text, {}, chunk).find("t.csv:3: column 2 ('b')"), std::string::npos);
}

TEST(CsvLimits, Float32RangeAndMissingValuesAreAccepted) {
  const Dataset d = parse_csv("x\n3.4e38\n-3.4e38\nNaN\n\n1e-50\n5\n", "t.csv");
  const std::vector<double>& x = d.columns[0].numeric;
  ASSERT_EQ(x.size(), 5u);
  EXPECT_EQ(x[0], 3.4e38);
  EXPECT_EQ(x[1], -3.4e38);
  EXPECT_TRUE(std::isnan(x[2]));
  EXPECT_EQ(x[3], 1e-50);
}

TEST(CsvLimits, TextColumnMayHoldTheWordInf) {
  const Dataset d = parse_csv("name\ninf\nfoo\nInfinity\n", "t.csv");
  EXPECT_EQ(d.columns[0].type, ColumnType::kCategorical);
}

TEST(CsvLimits, RecordsSkipModeRejectsOutOfRangeRowsOnly) {
  const std::string text = "x,y\n1,2\n3,inf\n5,nan\n7,1e39\n9,10\n";
  detail::RecordsSpec spec;
  spec.names = {"x", "y"};
  spec.kinds = {detail::FieldKind::kNumber, detail::FieldKind::kNumber};
  spec.skip_bad_records = true;
  const std::size_t begin = text.find('\n') + 1;
  const detail::Records r = detail::parse_records(text, begin, text.size(), spec, 1 << 20, 0);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].column, 2);
  EXPECT_EQ(text.substr(r.errors[0].offset, 5), "3,inf");
  EXPECT_EQ(text.substr(r.errors[1].offset, 6), "7,1e39");
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_EQ(r.columns[1].numeric.size(), 3u);  // 2, NaN (missing), 10
  EXPECT_TRUE(std::isnan(r.columns[1].numeric[1]));
}

}  // namespace
}  // namespace tabula::io

#include "tabula/io/csv_stream.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "io/columnar/columnar.hpp"
#include "io/compressed_file.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io {
namespace {

using tabula::testing::TempFile;

// Rows with numbers, NA strings, quoted text holding commas, doubled quotes and newlines, and
// CRLF line ends, so chunk cuts land inside quotes and between the CR and LF. `lines` gets
// the line each row starts on.
std::string make_csv(int rows, std::uint32_t seed, std::vector<std::int64_t>* lines) {
  std::mt19937 rng(seed);
  std::string text = "id,x,label,y\n";
  std::int64_t line = 2;
  for (int i = 0; i < rows; ++i) {
    lines->push_back(line);
    text += std::to_string(i) + ",";
    const int pick = static_cast<int>(rng() % 6);
    if (pick == 0) {
      text += "NA";
    } else if (pick == 1) {
      text += "";
    } else {
      text += std::to_string(static_cast<int>(rng() % 2000) - 1000) + "." +
              std::to_string(rng() % 1000);
    }
    text += ",";
    switch (rng() % 5) {
      case 0:
        text += "plain";
        break;
      case 1:
        text += "\"with, comma\"";
        break;
      case 2:
        text += "\"two\nlines\"";
        ++line;
        break;
      case 3:
        text += "\"say \"\"hi\"\"\"";
        break;
      default:
        text += "NA";
        break;
    }
    text += "," + std::to_string(rng() % 100);
    text += (rng() % 3 == 0) ? "\r\n" : "\n";
    ++line;
  }
  return text;
}

std::vector<StreamColumn> typed_columns() {
  return {{"id", StreamColumnKind::kNumeric},
          {"x", StreamColumnKind::kNumeric},
          {"label", StreamColumnKind::kCategorical},
          {"y", StreamColumnKind::kNumeric}};
}

CsvOptions typed_options() {
  CsvOptions options;
  options.numeric = {"id", "x", "y"};
  options.categorical = {"label"};
  return options;
}

// Reads the whole file chunk by chunk and checks every row against read_csv's.
void expect_same_as_read_csv(const std::string& path, const std::vector<std::int64_t>& lines,
                             CsvStreamOptions options) {
  const Dataset whole = read_csv(path, typed_options());
  CsvStream stream(path, options);
  stream.select(typed_columns());
  CsvChunk chunk;
  std::int64_t row = 0;
  std::uint64_t last_offset = 0;
  while (stream.next(chunk)) {
    ASSERT_EQ(chunk.data.cols(), 4);
    ASSERT_EQ(chunk.data.rows(), chunk.rows());
    EXPECT_GT(chunk.end_offset, last_offset);
    last_offset = chunk.end_offset;
    for (std::int64_t i = 0; i < chunk.rows(); ++i, ++row) {
      ASSERT_LT(row, whole.rows());
      const auto r = static_cast<std::size_t>(row);
      const auto k = static_cast<std::size_t>(i);
      EXPECT_EQ(chunk.lines[k], lines[r]) << "row " << row;
      for (const char* name : {"id", "x", "y"}) {
        const double a = whole.column(name).numeric[r];
        const double b = chunk.data.column(name).numeric[k];
        EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << name << " row " << row;
      }
      const Column& wl = whole.column("label");
      const Column& cl = chunk.data.column("label");
      ASSERT_EQ(wl.codes[r] < 0, cl.codes[k] < 0) << "row " << row;
      if (wl.codes[r] >= 0)
        EXPECT_EQ(wl.categories[static_cast<std::size_t>(wl.codes[r])],
                  cl.categories[static_cast<std::size_t>(cl.codes[k])]);
    }
  }
  EXPECT_EQ(row, whole.rows());
  EXPECT_EQ(last_offset, std::filesystem::file_size(path));
}

TEST(CsvStream, AnyChunkSizeGivesTheRowsOfReadCsv) {
  std::vector<std::int64_t> lines;
  const TempFile file("rows.csv", make_csv(300, 7, &lines));
  for (std::int64_t rows : {1, 2, 3, 7, 64, 1000}) {
    SCOPED_TRACE("chunk_rows " + std::to_string(rows));
    CsvStreamOptions options;
    options.chunk_rows = rows;
    expect_same_as_read_csv(file.path.string(), lines, options);
  }
  for (std::size_t bytes : {1, 5, 40, 333}) {
    SCOPED_TRACE("chunk_bytes " + std::to_string(bytes));
    CsvStreamOptions options;
    options.chunk_bytes = bytes;
    expect_same_as_read_csv(file.path.string(), lines, options);
  }
}

TEST(CsvStream, LargerThanOneReadBlockAndOneThread) {
  // ~3 MB: several read() blocks, so the buffer is compacted and refilled mid-record.
  std::vector<std::int64_t> lines;
  const TempFile file("big.csv", make_csv(120000, 11, &lines));
  ASSERT_GT(std::filesystem::file_size(file.path), std::size_t{2} << 20);
  CsvStreamOptions options;
  options.chunk_rows = 7919;
  expect_same_as_read_csv(file.path.string(), lines, options);
  const int saved = thread_count();
  set_thread_count(1);
  options.chunk_rows = 50000;
  expect_same_as_read_csv(file.path.string(), lines, options);
  set_thread_count(saved);
}

TEST(CsvStream, LastRecordWithoutNewlineAndBlankLines) {
  const TempFile file("tail.csv", "\xEF\xBB\xBF\na,b\n1,x\n\n2,\"y\nz\"\n3,w");
  for (std::int64_t rows : {1, 2, 100}) {
    CsvStreamOptions options;
    options.chunk_rows = rows;
    CsvStream stream(file.path.string(), options);
    EXPECT_EQ(stream.header(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(stream.header_line(), 2);
    stream.select({{"a", StreamColumnKind::kNumeric}, {"b", StreamColumnKind::kText}});
    std::vector<double> a;
    std::vector<std::string> b;
    std::vector<std::int64_t> lines;
    CsvChunk chunk;
    while (stream.next(chunk)) {
      for (std::int64_t i = 0; i < chunk.rows(); ++i) {
        a.push_back(chunk.data.column("a").numeric[i]);
        const Column& cb = chunk.data.column("b");
        b.push_back(cb.categories[cb.codes[i]]);
        lines.push_back(chunk.lines[i]);
      }
    }
    EXPECT_EQ(a, (std::vector<double>{1, 2, 3}));
    EXPECT_EQ(b, (std::vector<std::string>{"x", "y\nz", "w"}));
    EXPECT_EQ(lines, (std::vector<std::int64_t>{3, 5, 7}));
  }
}

TEST(CsvStream, DelimiterIsSniffedUnlessGiven) {
  const TempFile file("semicolons.csv", "id;x\n1;2,5\n2;3\n");
  CsvStream stream(file.path.string(), {});
  EXPECT_EQ(stream.header(), (std::vector<std::string>{"id", "x"}));
  stream.select({{"id", StreamColumnKind::kNumeric}, {"x", StreamColumnKind::kText}});
  CsvChunk chunk;
  ASSERT_TRUE(stream.next(chunk));
  EXPECT_EQ(chunk.data.column("id").numeric, (std::vector<double>{1, 2}));
  CsvStreamOptions comma;
  comma.delimiter = ',';
  EXPECT_EQ(CsvStream(file.path.string(), comma).header(), (std::vector<std::string>{"id;x"}));
}

TEST(CsvStream, DecimalCommas) {
  const TempFile file("decimal.csv", "x;y\n1,5;a\n-2,25;b\n");
  CsvStreamOptions options;
  options.decimal = ',';
  CsvStream stream(file.path.string(), options);
  stream.select({{"x", StreamColumnKind::kNumeric}});
  CsvChunk chunk;
  ASSERT_TRUE(stream.next(chunk));
  EXPECT_EQ(chunk.data.column("x").numeric, (std::vector<double>{1.5, -2.25}));
}

TEST(CsvStream, TextColumnsKeepNaStrings) {
  const TempFile file("text.csv", "id,v\nNA,1\n,2\nabc,3\n");
  CsvStream stream(file.path.string(), {});
  stream.select({{"id", StreamColumnKind::kText}, {"v", StreamColumnKind::kNumeric}});
  CsvChunk chunk;
  ASSERT_TRUE(stream.next(chunk));
  const Column& id = chunk.data.column("id");
  ASSERT_EQ(id.codes.size(), 3u);
  EXPECT_EQ(id.categories[id.codes[0]], "NA");
  EXPECT_EQ(id.categories[id.codes[1]], "");
  EXPECT_EQ(id.missing_count(), 0);
  EXPECT_FALSE(stream.next(chunk));
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

std::string drain(CsvStream& stream) {
  CsvChunk chunk;
  std::int64_t rows = 0;
  while (stream.next(chunk)) rows += chunk.rows();
  return std::to_string(rows);
}

TEST(CsvStream, StopModeNamesFileLineAndColumn) {
  const std::string text = "a,b\n1,2\n\"multi\nline\",3\n4,oops\n5,6\n";
  const TempFile file("bad.csv", text);
  for (std::int64_t rows : {1, 2, 100}) {
    CsvStreamOptions options;
    options.chunk_rows = rows;
    CsvStream stream(file.path.string(), options);
    stream.select({{"a", StreamColumnKind::kCategorical}, {"b", StreamColumnKind::kNumeric}});
    const std::string message = error_of([&] { drain(stream); });
    EXPECT_NE(message.find(file.path.string() + ":5: column 2 ('b')"), std::string::npos)
        << message;
    EXPECT_NE(message.find("'oops' is not a number"), std::string::npos) << message;
  }
  const TempFile ragged("ragged.csv", "a,b\n1,2\n3\n");
  CsvStream stream(ragged.path.string(), {});
  const std::string message = error_of([&] { drain(stream); });
  EXPECT_NE(message.find(":3: wrong number of fields: expected 2"), std::string::npos) << message;
}

TEST(CsvStream, SkipModeDropsBadRowsAndListsTheirLines) {
  const std::string text =
      "a,b\n1,2\n3\n\"x\ny\",4\n5,bad\n6,7,8\n9,\"q\"\"\"\n10,11\n\"r\"z,12\n13,14\n";
  const TempFile file("skip.csv", text);
  for (std::int64_t rows : {1, 3, 100}) {
    SCOPED_TRACE(rows);
    CsvStreamOptions options;
    options.chunk_rows = rows;
    options.skip_bad_rows = true;
    CsvStream stream(file.path.string(), options);
    stream.select({{"a", StreamColumnKind::kCategorical}, {"b", StreamColumnKind::kNumeric}});
    CsvChunk chunk;
    std::vector<double> b;
    std::vector<std::int64_t> lines, rejected;
    std::vector<std::string> reasons;
    while (stream.next(chunk)) {
      for (std::int64_t i = 0; i < chunk.rows(); ++i) {
        b.push_back(chunk.data.column("b").numeric[i]);
        lines.push_back(chunk.lines[i]);
      }
      for (const CsvRowError& e : chunk.rejected) {
        rejected.push_back(e.line);
        reasons.push_back(e.reason);
      }
    }
    EXPECT_EQ(b, (std::vector<double>{2, 4, 11, 14}));
    EXPECT_EQ(lines, (std::vector<std::int64_t>{2, 4, 9, 11}));
    EXPECT_EQ(rejected, (std::vector<std::int64_t>{3, 6, 7, 8, 10}));
    ASSERT_EQ(reasons.size(), 5u);
    EXPECT_NE(reasons[0].find("wrong number of fields"), std::string::npos);
    EXPECT_NE(reasons[1].find("'bad' is not a number"), std::string::npos);
    EXPECT_NE(reasons[3].find("is not a number"), std::string::npos);
  }
}

TEST(CsvStream, UnterminatedQuoteStopsEvenInSkipMode) {
  const TempFile file("open.csv", "a,b\n1,2\n3,\"never closed\n4,5\n");
  CsvStreamOptions options;
  options.skip_bad_rows = true;
  CsvStream stream(file.path.string(), options);
  const std::string message = error_of([&] { drain(stream); });
  EXPECT_NE(message.find(":3: column 2 ('b'): unterminated quoted field"), std::string::npos)
      << message;
}

TEST(CsvStream, HeaderErrorsAndMissingColumns) {
  const TempFile empty("empty.csv", "");
  EXPECT_NE(error_of([&] { CsvStream s(empty.path.string(), {}); }).find("empty"),
            std::string::npos);
  const TempFile header_only("header.csv", "a,b\n\n");
  CsvStream stream(header_only.path.string(), {});
  EXPECT_NE(error_of([&] { drain(stream); }).find("header but no data rows"), std::string::npos);
  const TempFile dup("dup.csv", "a,a\n1,2\n");
  EXPECT_NE(error_of([&] { CsvStream s(dup.path.string(), {}); }).find("duplicate column name"),
            std::string::npos);
  const TempFile ok("ok.csv", "a,b\n1,2\n");
  CsvStream s(ok.path.string(), {});
  const std::string message = error_of([&] {
    s.select({{"zz", StreamColumnKind::kNumeric},
              {"a", StreamColumnKind::kNumeric},
              {"yy", StreamColumnKind::kText}});
  });
  EXPECT_NE(message.find("missing 2 column(s): 'zz', 'yy'"), std::string::npos) << message;
  EXPECT_NE(error_of([&] { CsvStream d(::testing::TempDir(), {}); }).find("directory"),
            std::string::npos);
}

TEST(CsvStream, OverlongRecordIsAnError) {
  // 2 MB inside one quoted field: more than one read block, so the limit is reached before
  // the field closes.
  std::string text = "a\n1\n\"";
  text += std::string(std::size_t{2} << 20, 'x');
  text += "\"\n1\n";
  const TempFile file("long.csv", text);
  CsvStreamOptions options;
  options.max_record_bytes = 1000;
  options.chunk_rows = 1;
  CsvStream stream(file.path.string(), options);
  CsvChunk chunk;
  ASSERT_TRUE(stream.next(chunk));
  const std::string message = error_of([&] { drain(stream); });
  EXPECT_NE(message.find(":3: no end of this record within 1000 bytes"), std::string::npos)
      << message;
}

// Compressed, columnar and UTF-16 files are named by their content, whatever their extension,
// in both readers; a header that merely starts like a signature is still a CSV.
TEST(CsvStream, BinaryFormatsAreNamedNotReadAsText) {
  const std::pair<std::string, std::string> cases[] = {
      {std::string("\x1F\x8B\x08\x00\n\x01,\x02", 8), "a gzip-compressed file"},
      {std::string("\xFD"
                   "7zXZ\x00\x00\x04\n",
                   9),
       "an xz-compressed file"},
      {std::string("\x28\xB5\x2F\xFD\x20\n", 6), "a zstd-compressed file"},
      {std::string("BZh91AY&SY\x01\n", 12), "a bzip2-compressed file"},
      {std::string("PAR1\x15\x04\x15\n", 8), "a Parquet file"},
      {std::string("ARROW1\x00\x00\n", 9), "an Arrow IPC/Feather file"},
      {std::string("\xFF\xFE"
                   "a\x00,\x00"
                   "b\x00\n\x00",
                   10),
       "UTF-16 text"},
  };
  for (const auto& [bytes, what] : cases) {
    SCOPED_TRACE(what);
    const TempFile file("data.csv", bytes);
    // Compressed signatures are read when the build can (these payloads are then corrupt).
    // Columnar files go to the Arrow reader when the build has one (these are damaged files).
    const Compression compression = compression_of(bytes);
    const bool columnar = columnar_format_of(bytes) != ColumnarFormat::kNone;
    const std::string expected =
        compression != Compression::kNone && compression_supported()
            ? std::string(compression_name(compression)) + " data"
        : columnar && columnar_supported() ? "'" + file.path.string() + "': "
        : columnar                         ? "'" + file.path.string() + "' is " + what +
                         ", and this tabula was built "
                         "without Apache Arrow"
                   : "'" + file.path.string() + "' is " + what + ", not a CSV file";
    const std::string streamed = error_of([&] { CsvStream s(file.path.string(), {}); });
    EXPECT_NE(streamed.find(expected), std::string::npos) << streamed;
    EXPECT_NE(streamed.find("'" + file.path.string() + "'"), std::string::npos) << streamed;
    const std::string whole = error_of([&] { read_csv(file.path.string()); });
    EXPECT_NE(whole.find(expected), std::string::npos) << whole;
    EXPECT_NE(whole.find("'" + file.path.string() + "'"), std::string::npos) << whole;
  }
  const TempFile lookalike("names.csv", "PAR1,BZh,ARROW1\n1,2,3\n");
  const Dataset data = read_csv(lookalike.path.string());
  ASSERT_EQ(data.columns.size(), 3u);
  EXPECT_EQ(data.columns[0].name, "PAR1");
  CsvStream stream(lookalike.path.string(), {});
  EXPECT_EQ(stream.header(), (std::vector<std::string>{"PAR1", "BZh", "ARROW1"}));
  EXPECT_EQ(drain(stream), "1");
}

}  // namespace
}  // namespace tabula::io

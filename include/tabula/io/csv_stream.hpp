// Reading a CSV file in chunks of rows with bounded memory: plain read() calls into a buffer of
// about one chunk (never a map of the whole file), chunks cut at record boundaries (a quoted
// field may span lines), column types fixed up front (no inference: a model says what it needs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io {

/// How a selected column is read. kNumeric: a value that is not a number (or an NA string), or
/// a number that is infinite or beyond the float32 range, is a bad row. kCategorical: text, NA
/// strings read as missing (code -1). kText: text exactly as written, no NA matching (for columns
/// copied through to an output).
enum class StreamColumnKind { kNumeric, kCategorical, kText };

struct StreamColumn {
  std::string name;
  StreamColumnKind kind = StreamColumnKind::kNumeric;
};

struct CsvStreamOptions;
/// Stream options that read a file as `settings` say (delimiter, decimal, NA values, encoding);
/// the rest at their defaults. Column types come from select().
CsvStreamOptions stream_options(const CsvSettings& settings);

struct CsvStreamOptions {
  /// The field separator; 0: sniffed from the file's first records (see CsvOptions).
  char delimiter = 0;
  /// A chunk ends at the first record boundary after `chunk_rows` records (blank lines count)
  /// or `chunk_bytes` bytes, whichever comes first. Both at least 1.
  std::int64_t chunk_rows = 65536;
  std::size_t chunk_bytes = std::size_t{64} << 20;
  /// A record longer than this is an InputError (usually an unterminated quote).
  std::size_t max_record_bytes = std::size_t{64} << 20;
  std::vector<std::string> na_values = CsvOptions{}.na_values;
  /// false: the first bad row throws InputError "file:line: column k ('name'): reason".
  /// true: bad rows are dropped and listed in CsvChunk::rejected. An unterminated quote always
  /// throws: nothing after it can be told apart from the field.
  bool skip_bad_rows = false;
  /// Why a kNumeric column needs numbers, closing the message "value 'x' is not a number (...)".
  std::string number_hint = "the column is read as numbers";
  /// A field longer than this is a bad row (CsvOptions::max_field_bytes).
  std::size_t max_field_bytes = kDefaultMaxFieldBytes;
  /// The decimal mark of numbers (CsvOptions::decimal).
  char decimal = '.';
  /// The text's encoding (CsvOptions::encoding).
  std::string encoding;
  /// Keep each chunk's text (UTF-8) and where its records start (CsvChunk::text): for a reader
  /// that keeps some records as written (train's sample of a file read in passes).
  bool keep_records = false;
};

/// A row dropped in skip mode.
struct CsvRowError {
  std::int64_t line = 0;    // 1-based line where the record starts
  std::int64_t column = 0;  // 1-based position in the header, 0 when not one column
  std::string column_name;  // empty when column is 0
  std::string reason;
};

/// One chunk of rows, in file order.
struct CsvChunk {
  /// The selected columns in file order (numeric or categorical; categories are those of this
  /// chunk only, sorted). source = the file name.
  Dataset data;
  std::vector<std::int64_t> lines;  // data.rows() entries: the line each row starts on
  std::vector<CsvRowError> rejected;
  std::int64_t first_line = 0;   // line of the chunk's first byte
  std::uint64_t end_offset = 0;  // bytes of the file consumed once this chunk was cut
  /// With CsvStreamOptions::keep_records: the chunk's text, and the offset in it of each row's
  /// record (a row's record runs to the next one's start, or to the end of the text).
  std::string text;
  std::vector<std::size_t> record_offsets;

  std::int64_t rows() const { return static_cast<std::int64_t>(lines.size()); }
};

class CsvStream {
 public:
  /// Opens `path` and reads its header. InputError naming the file for a missing, unreadable or
  /// empty file, a directory, or a bad header (empty or duplicate names, bad quoting).
  CsvStream(const std::string& path, CsvStreamOptions options);
  ~CsvStream();
  CsvStream(const CsvStream&) = delete;
  CsvStream& operator=(const CsvStream&) = delete;

  const std::string& path() const;
  const std::vector<std::string>& header() const;
  /// Line number of the header row.
  std::int64_t header_line() const;
  /// The field separator: the one given, or the one sniffed from the file.
  char delimiter() const;
  /// Size of the file in bytes when it is a regular, uncompressed file, otherwise 0 (the
  /// readers' offsets count decompressed bytes).
  std::uint64_t file_size() const;

  /// Chooses the columns next() parses; the others are only counted. Before the first call
  /// every column is read as kText. InputError naming every requested column the header lacks
  /// (and any named twice).
  void select(const std::vector<StreamColumn>& columns);

  /// Reads and parses the next chunk into `chunk`; false at the end of the file. Throws
  /// InputError for a bad row (stop mode), an unterminated quote, a record longer than
  /// max_record_bytes, or, at the end, a file with a header and no records at all.
  bool next(CsvChunk& chunk);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tabula::io

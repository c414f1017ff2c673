// The CSV reader's internal interface, used by the streaming reader, the tests and the fuzzer:
// parsing with an explicit chunk size, so that the "same result for any chunking and thread
// count" property can be checked on small inputs, and the record parser the stream drives.
// The stages behind it, one file each in this folder: sniffer (dialect, header, type guess),
// tokenizer (fields of a record) and boundaries (records of a text), convert (numbers,
// missing values, text), chunk and merge (columns of a chunk, then of the file), error (where
// messages get their file, line and column), reader (whole file), records and stream (chunks
// of a file read with read()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/csv/error.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io::detail {

/// Chunk size read_csv and parse_csv use for `bytes` of text on `threads` threads.
std::size_t default_chunk_bytes(std::size_t bytes, int threads);

/// parse_csv with the body cut into chunks of about `chunk_bytes` (at least 1) at record
/// boundaries. The result and any error do not depend on `chunk_bytes`.
Dataset parse_csv_chunked(std::string_view text, const std::string& source,
                          const CsvOptions& options, std::size_t chunk_bytes);

/// Strips a UTF-8 byte order mark and blank lines before the header, then reads the header
/// record at `p` (which must be complete in `text`; `text` starts at the start of the file, so
/// errors name the right line). InputError naming `source` for an empty file, an empty or
/// duplicate column name, or a malformed header. On return `p` is at the first byte after it.
std::vector<std::string> parse_header_names(std::string_view text, const char*& p,
                                            const std::string& source, char delimiter,
                                            std::size_t max_field_bytes = kDefaultMaxFieldBytes);

/// How parse_records reads one column: a number (anything else is an error), text with the NA
/// strings read as missing (code -1), text kept as written (no NA matching), or not at all
/// (the field is still counted).
enum class FieldKind : std::uint8_t { kNumber, kText, kRawText, kSkip };

struct RecordsSpec {
  std::vector<std::string> names;  // the header, in file order
  std::vector<FieldKind> kinds;    // one per header column
  char delimiter = ',';
  std::vector<std::string> na_values = CsvOptions{}.na_values;
  /// Drop bad records into Records::errors and go on; otherwise stop at the first. An
  /// unterminated quote always stops (nothing after it can be told apart from the field).
  bool skip_bad_records = false;
  /// Ends the message for a kNumber field that is not a number: "value 'x' is not a number
  /// (<number_hint>)".
  std::string number_hint = "the column is forced numeric";
  /// A longer field is a bad record (see CsvOptions::max_field_bytes).
  std::size_t max_field_bytes = kDefaultMaxFieldBytes;
  char decimal = '.';  // the decimal mark of numbers
};

struct Records {
  /// One per header column whose kind is not kSkip, in file order; kNumber columns are
  /// numeric, the others categorical (categories sorted, as read_csv makes them).
  std::vector<Column> columns;
  std::vector<std::size_t> row_offsets;  // byte offset in the text of each row's start
  /// Skip mode: the dropped records, in file order. Stop mode: the first bad record, if any
  /// (then `columns` is incomplete and must not be used).
  std::vector<RecordError> errors;
  bool fatal = false;  // errors.back() stopped the parse even in skip mode
};

/// Parses the records of text[begin, end): `begin` is a record start, `end` a record boundary
/// or text.size(). Pieces of about `piece_bytes` are parsed in parallel; `rows_hint` (may be 0)
/// sizes the arrays. The result does not depend on `piece_bytes`.
Records parse_records(std::string_view text, std::size_t begin, std::size_t end,
                      const RecordsSpec& spec, std::size_t piece_bytes, std::size_t rows_hint);

}  // namespace tabula::io::detail

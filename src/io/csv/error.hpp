// Where the CSV reader's errors are built: a problem is found as a byte offset and a column
// while parsing (cheap, and per chunk in parallel), and turned into an InputError naming the
// file, line, column and column name only once the first one in file order is known.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tabula::io::detail {

/// A record that could not be read: the byte offset of the problem in the text (in skip mode,
/// of the record's start), the 1-based column (0 when not one column), the reason.
struct RecordError {
  std::size_t offset = 0;
  std::int64_t column = 0;
  std::string message;
};

/// `value` in quotes for a message, cut to a readable length.
std::string quote_value(std::string_view value);

/// The reason for a field longer than max_field_bytes.
std::string field_too_long(std::size_t bytes, std::size_t limit);

/// The first few header names, quoted, for "not found; columns: ..." messages.
std::string list_names(const std::vector<std::string>& names);

/// The header name of 1-based `column`; empty when the error is not in one column.
std::string column_name(const std::vector<std::string>& names, std::int64_t column);

/// 1-based line of byte `offset` of `text` (clamped to its end).
std::int64_t line_at(std::string_view text, std::size_t offset);

/// InputError naming `source`, `line`, 1-based `column` (0: none) and its `name`: every message of
/// the CSV reader that has a place in the file goes through here (core's describe_location).
[[noreturn]] void throw_located(const std::string& source, std::int64_t line, std::int64_t column,
                                std::string_view name, std::string_view message);

/// InputError for `error` at `line` of `source`, naming its column from `names`.
[[noreturn]] void throw_record_error(const std::string& source, std::int64_t line,
                                     const std::vector<std::string>& names,
                                     const RecordError& error);

/// As above, with the line found from the error's offset in `text`.
[[noreturn]] void throw_at(std::string_view text, const std::string& source,
                           const std::vector<std::string>& names, const RecordError& error);

/// A file with nothing but a byte order mark and blank lines.
[[noreturn]] void throw_empty_file(const std::string& source);

/// A header and then nothing but blank lines.
[[noreturn]] void throw_no_rows(const std::string& source, std::int64_t header_line);

}  // namespace tabula::io::detail

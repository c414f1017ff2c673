// Reading CSV files: RFC 4180 quoting, type inference with overrides, missing values, and a
// target column by name, parsed on all threads.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/core/dataset.hpp"

namespace tabula::io {

/// Longest field the CSV readers accept, in bytes (docs/security.md): a longer one is an
/// InputError naming file, line and column, found before the value is copied.
inline constexpr std::size_t kDefaultMaxFieldBytes = std::size_t{1} << 20;

struct CsvOptions {
  /// The field separator; 0: sniffed from the first records: of ',' tab ';' '|', the one that
  /// cuts them into the same number of fields, at least two (else ',').
  char delimiter = 0;
  /// Column split off into Dataset::target; InputError naming it when the file lacks it.
  std::optional<std::string> target;
  /// Columns forced categorical (otherwise a column is numeric when every present value parses
  /// as a number).
  std::vector<std::string> categorical;
  /// Columns forced numeric: a value that does not parse is an InputError with line and column.
  std::vector<std::string> numeric;
  /// Cells read as missing (compared exactly, after trimming surrounding spaces).
  std::vector<std::string> na_values = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"};
  /// Longest field accepted, in bytes; the header's names too.
  std::size_t max_field_bytes = kDefaultMaxFieldBytes;
  /// The decimal mark of numbers: '.' or ',' ("1,5"; the delimiter must then not be ',').
  char decimal = '.';
  /// The text's encoding (iconv's names: latin1, cp1252, utf-16...), converted to UTF-8 as it
  /// is read; empty: UTF-8. Not used for Parquet, Arrow IPC and SQL sources (UTF-8 by design).
  std::string encoding;
  /// Leading columns holding a row index as pandas writes it (is_pandas_index) are dropped,
  /// with a message. false keeps them: a share of a file cannot tell (its rows do not start at
  /// row 0), so distributed training decides over every rank's rows instead.
  bool drop_index_columns = true;
};

/// Whether `column` is a row index as pandas writes it (`df.to_csv()`): no name, or a numeric
/// `Unnamed: <k>` column holding first_row, first_row + 1, ... row by row.
bool is_pandas_index(const Column& column, std::int64_t first_row = 0);

/// What a user says about a CSV file (the same flags on every command that reads one): the
/// delimiter (0: sniffed), strings read as missing besides CsvOptions' defaults, and columns
/// forced categorical or numeric.
struct CsvSettings {
  char delimiter = 0;
  char decimal = '.';
  std::vector<std::string> na_values;
  std::vector<std::string> categorical;
  std::vector<std::string> numeric;
  std::string encoding;

  /// CsvOptions that read with these settings (target unset).
  CsvOptions options() const;
  bool operator==(const CsvSettings&) const = default;
};

/// The delimiter a user wrote: one character, or "tab" / "\t" for a tab. InputError otherwise
/// (a quote or a line break included).
char parse_delimiter(const std::string& text);

/// The decimal mark a user wrote: "." or ","; InputError otherwise.
char parse_decimal(const std::string& text);

/// InputError when `decimal` is not '.' or ',', or is ',' with a ',' delimiter (given or sniffed).
void check_decimal(char decimal, char delimiter);

/// Reads a whole file. Throws InputError naming the file, line and column for: a missing or
/// empty file, a header with no rows, empty or duplicate column names, ragged rows, an
/// unterminated quote, invalid UTF-8, a missing target column, a non-numeric value in a column
/// forced numeric, a field longer than max_field_bytes, a number in a numeric column that is
/// infinite or beyond the float32 range (NaN and the NA strings are missing values).
Dataset read_csv(const std::string& path, const CsvOptions& options = {});

/// Appends `text` as one CSV field separated by `delimiter`: as is, or quoted (RFC 4180, quotes
/// doubled) when it holds the delimiter, a quote or a line break, so read_csv reads it back.
void append_csv_field(std::string& out, std::string_view text, char delimiter = ',');

/// Parses CSV text already in memory; `source` names it in messages.
Dataset parse_csv(std::string_view text, const std::string& source, const CsvOptions& options = {});

}  // namespace tabula::io

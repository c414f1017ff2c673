// One chunk of records into per-column arrays (tokenise each record, convert each field), and
// the chunks merged in file order into the Dataset's columns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "io/csv/convert.hpp"
#include "io/csv/error.hpp"
#include "io/csv/tokenizer.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io::detail {

struct ChunkColumns {
  std::int64_t rows = 0;
  std::vector<std::vector<double>> numeric;      // per column, kNumeric/kStrictNumeric
  std::vector<std::vector<std::int32_t>> codes;  // per column, kStrings
  std::vector<Dictionary> dictionaries;          // per column, kStrings
  std::vector<char> not_numeric;                 // per column: a value failed to parse
  // Per column: the first number outside the float32 range in an inferred column; an error
  // only if the column ends up numeric (a text column may well hold "inf").
  std::vector<std::optional<RecordError>> out_of_range;
  std::optional<RecordError> error;
  std::vector<std::size_t> row_offsets;  // start of each row (when asked for)
  std::vector<RecordError> rejected;     // records dropped (skip mode), in order
};

/// How parse_chunk treats a bad record and what it records besides the columns.
struct ChunkPolicy {
  bool skip_bad = false;     // drop a bad record into `rejected` and go on
  bool row_offsets = false;  // fill ChunkColumns::row_offsets
  std::string_view number_hint = "the column is forced numeric";  // why a number was expected
  std::size_t max_field_bytes = kDefaultMaxFieldBytes;
  char decimal = '.';  // the decimal mark of numbers
};

/// Parses the records in text[begin, end) into per-column arrays, one column per entry of
/// `modes` (the header's width). `reserve_rows` sizes the arrays.
ChunkColumns parse_chunk(std::string_view text, std::size_t begin, std::size_t end,
                         const std::vector<Mode>& modes, char delimiter, const NaMatcher& is_na,
                         std::size_t reserve_rows, const ChunkPolicy& policy = {});

/// Concatenates the chunks' column `j` in chunk order (`row_offsets`: each chunk's first row,
/// then the total), releasing the parts.
Column merge_numeric(std::string name, std::vector<ChunkColumns>& chunks, std::size_t j,
                     const std::vector<std::size_t>& row_offsets);

/// Sorts the union of the chunks' dictionaries of column `j` and recodes each chunk against it.
Column merge_strings(std::string name, std::vector<ChunkColumns>& chunks, std::size_t j,
                     const std::vector<std::size_t>& row_offsets);

/// Each chunk's first row, then the total.
std::vector<std::size_t> chunk_row_offsets(const std::vector<ChunkColumns>& chunks);

}  // namespace tabula::io::detail

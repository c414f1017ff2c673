// Columnar files: Parquet and Arrow IPC (Feather v2), read through Apache Arrow C++ record batch
// by record batch and converted column by column into the engine's Dataset, with no text
// detour. Types come from the file's schema: numbers and booleans are numeric, strings
// categorical, dates and timestamps ISO 8601 text (which the pipeline's DateFeatures reads).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/io/csv_stream.hpp"

namespace tabula::io {

enum class ColumnarFormat { kNone, kParquet, kArrowIpc };

/// The columnar format whose magic bytes `head` (a file's first bytes) starts with.
ColumnarFormat columnar_format_of(std::string_view head);
/// The format of the file at `path` (kNone for a SQL URL or a file that cannot be read: the
/// CSV readers then report it).
ColumnarFormat columnar_format_of_file(const std::string& path);
/// "Parquet" / "Arrow IPC".
std::string_view columnar_format_name(ColumnarFormat format);
/// What a file of the format is cut into: "row group" (Parquet) / "record batch" (Arrow IPC).
std::string_view columnar_piece_name(ColumnarFormat format);
/// Whether this build reads columnar files (Arrow C++ was found at configure time).
bool columnar_supported();

/// A contiguous run of a columnar file's pieces (Parquet row groups, Arrow IPC record batches),
/// the unit a file is cut into for ranks: pieces [first, last); last < 0 means to the end.
/// `first_row` is the file row the run starts at, so messages name rows of the whole file.
struct ColumnarPieces {
  int first = 0;
  int last = -1;
  std::int64_t first_row = 0;
};

/// The row count of each piece of the file, from its footer (no data read). InputError naming
/// the file for a damaged footer, a negative count, or a build without Arrow.
std::vector<std::int64_t> columnar_piece_rows(const std::string& path, ColumnarFormat format);

/// The whole file (or the run `pieces` of it) as a Dataset: CsvOptions' target, categorical,
/// numeric and na_values (matched against string cells) apply; the delimiter and decimal do not.
/// InputError naming the file (and column and row) for a damaged file, a type tabula does not
/// read (lists, structs, binary, decimals), a number beyond float32, a forced-numeric cell that
/// is not a number, duplicate column names, pieces outside the file, or a build without Arrow.
Dataset read_columnar(const std::string& path, ColumnarFormat format, const CsvOptions& options,
                      const ColumnarPieces& pieces = {});

/// Record batches as CsvStream chunks (CsvStream delegates to it for columnar files). Row r
/// (0-based) is reported as line r + 2, its line in the file's CSV export.
class ColumnarBatches {
 public:
  virtual ~ColumnarBatches() = default;
  virtual const std::vector<std::string>& names() const = 0;
  /// The next batch's `selected` columns (in file order) into `chunk`; false at the end.
  virtual bool next(const std::vector<StreamColumn>& selected, CsvChunk& chunk) = 0;
};

std::unique_ptr<ColumnarBatches> open_columnar_batches(const std::string& path,
                                                       ColumnarFormat format,
                                                       const CsvStreamOptions& options);

/// A Parquet file written batch by batch (a row group each) through `write_bytes`, so the caller
/// keeps its own temporary-file-then-rename handling. Columns: numeric (float64; NaN stays NaN)
/// or categorical (strings; code -1 is null), named and typed by the first batch's columns.
class ParquetSink {
 public:
  virtual ~ParquetSink() = default;
  /// One batch: every column the same length, the same names and types as the first batch.
  virtual void write(const std::vector<Column>& columns) = 0;
  /// Writes the footer; nothing may be written after it.
  virtual void close() = 0;
};

/// InputError (naming `path`, used in messages only) in a build without Arrow.
std::unique_ptr<ParquetSink> open_parquet_sink(
    const std::string& path, std::function<void(std::string_view bytes)> write_bytes);

}  // namespace tabula::io

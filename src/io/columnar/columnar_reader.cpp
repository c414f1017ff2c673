// Parquet and Arrow IPC through Arrow C++ (pyarrow's libraries): record batches converted column
// by column. Both the whole-file reader and the stream read batches, so memory while streaming
// is one batch (a Parquet row group is decoded in batch_size pieces).
#include "io/columnar/columnar.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/system_memory.hpp"
#include "io/columnar/parquet_numbers.hpp"
#include "io/csv/convert.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

#ifdef TABULA_WITH_ARROW
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>
#include <sys/mman.h>
#endif

namespace tabula::io {
namespace {

// "PAR1" or "ARROW1" followed by binary (a control byte): a CSV header could start with the
// word, not with the byte after it (the same rule as the CSV sniffer's refusal).
bool magic_then_binary(std::string_view head, std::string_view magic) {
  if (!head.starts_with(magic) || head.size() <= magic.size()) return false;
  const auto c = static_cast<unsigned char>(head[magic.size()]);
  return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

}  // namespace

ColumnarFormat columnar_format_of(std::string_view head) {
  if (magic_then_binary(head, "PAR1")) return ColumnarFormat::kParquet;
  if (magic_then_binary(head, "ARROW1")) return ColumnarFormat::kArrowIpc;
  return ColumnarFormat::kNone;
}

ColumnarFormat columnar_format_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  if (!in.read(head, sizeof head)) return ColumnarFormat::kNone;
  return columnar_format_of(std::string_view(head, sizeof head));
}

std::string_view columnar_format_name(ColumnarFormat format) {
  return format == ColumnarFormat::kParquet ? "Parquet" : "Arrow IPC";
}

std::string_view columnar_piece_name(ColumnarFormat format) {
  return format == ColumnarFormat::kParquet ? "row group" : "record batch";
}

#ifndef TABULA_WITH_ARROW

bool columnar_supported() { return false; }

namespace {
[[noreturn]] void no_arrow(const std::string& path, ColumnarFormat format) {
  throw InputError("'" + path + "' is a " + std::string(columnar_format_name(format)) +
                   " file, and this tabula was built without Apache Arrow (run scripts/setup.sh, "
                   "whose .venv's pyarrow provides it, and reconfigure)");
}
}  // namespace

std::vector<std::int64_t> columnar_piece_rows(const std::string& path, ColumnarFormat format) {
  no_arrow(path, format);
}

Dataset read_columnar(const std::string& path, ColumnarFormat format, const CsvOptions&,
                      const ColumnarPieces&) {
  no_arrow(path, format);
}

std::unique_ptr<ColumnarBatches> open_columnar_batches(const std::string& path,
                                                       ColumnarFormat format,
                                                       const CsvStreamOptions&) {
  no_arrow(path, format);
}

#else

bool columnar_supported() { return true; }

namespace {

constexpr std::int64_t kWholeFileBatchRows = 65536;

template <class T>
T ok_or_throw(arrow::Result<T> result, const std::string& path) {
  if (!result.ok()) throw InputError("'" + path + "': " + result.status().message());
  return std::move(result).ValueUnsafe();
}

void ok_or_throw(const arrow::Status& status, const std::string& path) {
  if (!status.ok()) throw InputError("'" + path + "': " + status.message());
}

/// A file's schema and its record batches, in order.
class BatchReader {
 public:
  /// `whole_file`: the file is memory-mapped (no copies of what is read whole); a stream reads
  /// it page by page instead, so that its memory stays one batch.
  BatchReader(const std::string& path, ColumnarFormat format, std::int64_t batch_rows,
              bool whole_file)
      : path_(path) {
    try {
      if (whole_file)
        file_ =
            ok_or_throw(arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ), path);
      else
        file_ = ok_or_throw(arrow::io::ReadableFile::Open(path), path);
      if (format == ColumnarFormat::kParquet) {
        // Strings come as dictionaries (Parquet stores them so): each distinct value is then
        // looked up once per batch rather than once per row.
        parquet::arrow::FileReaderBuilder builder;
        // A stream reads each column chunk through a small buffer; by default Parquet reads a
        // whole column chunk at once (a row group of 1M rows: every column's chunk in memory).
        parquet::ReaderProperties reading = parquet::default_reader_properties();
        if (!whole_file) reading.enable_buffered_stream();
        ok_or_throw(builder.Open(file_, reading), path);
        parquet::ArrowReaderProperties properties;
        properties.set_batch_size(batch_rows);
        properties.set_use_threads(true);
        properties.set_pre_buffer(false);  // mapped, or streamed page by page
        for (int c = 0; c < builder.raw_reader()->metadata()->num_columns(); ++c)
          properties.set_read_dictionary(c, true);
        ok_or_throw(builder.properties(properties)->Build(&parquet_), path);
        ok_or_throw(parquet_->GetSchema(&schema_), path);
      } else {
        ipc_ = ok_or_throw(arrow::ipc::RecordBatchFileReader::Open(file_.get()), path);
        schema_ = ipc_->schema();
      }
    } catch (const parquet::ParquetException& e) {
      throw InputError("'" + path + "': " + e.what());
    }
  }

  const arrow::Schema& schema() const { return *schema_; }

  /// The Parquet file underneath, for read_parquet_numbers; null for Arrow IPC.
  parquet::ParquetFileReader* parquet_file() const {
    return parquet_ ? parquet_->parquet_reader() : nullptr;
  }

  /// The row count of each piece: Parquet row groups (from the footer), Arrow IPC record
  /// batches (from each batch's header; the memory-mapped bodies are not copied).
  std::vector<std::int64_t> piece_rows() {
    std::vector<std::int64_t> rows;
    try {
      if (parquet_) {
        const std::shared_ptr<parquet::FileMetaData> meta = parquet_file()->metadata();
        for (int g = 0; g < meta->num_row_groups(); ++g)
          rows.push_back(meta->RowGroup(g)->num_rows());
      } else {
        for (int b = 0; b < ipc_->num_record_batches(); ++b)
          rows.push_back(ok_or_throw(ipc_->ReadRecordBatch(b), path_)->num_rows());
      }
    } catch (const parquet::ParquetException& e) {
      throw InputError("'" + path_ + "': " + e.what());
    }
    for (std::size_t p = 0; p < rows.size(); ++p)
      if (rows[p] < 0)
        throw InputError("'" + path_ + "': " + piece_name() + " " + std::to_string(p + 1) +
                         " claims " + std::to_string(rows[p]) + " rows");
    return rows;
  }

  std::string piece_name() const {
    return std::string(
        columnar_piece_name(parquet_ ? ColumnarFormat::kParquet : ColumnarFormat::kArrowIpc));
  }

  /// The rows of pieces [first, last) of the fields at `fields` (all for Arrow IPC) at once,
  /// the columns decoded in parallel (validated), for the whole-file reader. Parquet's fields
  /// are its leaf columns: only for flat schemas.
  std::shared_ptr<arrow::Table> read_all(const std::vector<int>& fields, int first, int last) {
    std::shared_ptr<arrow::Table> table;
    try {
      if (parquet_) {
        std::vector<int> groups;
        for (int g = first; g < last; ++g) groups.push_back(g);
        table = ok_or_throw(parquet_->ReadRowGroups(groups, fields), path_);
      } else if (first == 0 && last == ipc_->num_record_batches()) {
        table = ok_or_throw(ipc_->ToTable(), path_);
      } else {
        std::vector<std::shared_ptr<arrow::RecordBatch> > batches;
        for (int b = first; b < last; ++b)
          batches.push_back(ok_or_throw(ipc_->ReadRecordBatch(b), path_));
        table = ok_or_throw(arrow::Table::FromRecordBatches(schema_, batches), path_);
      }
    } catch (const parquet::ParquetException& e) {
      throw InputError("'" + path_ + "': " + e.what());
    }
    ok_or_throw(table->ValidateFull(), path_);
    return table;
  }

  /// The next batch, validated (a crafted file's offsets are checked before any read), or null.
  std::shared_ptr<arrow::RecordBatch> next() {
    std::shared_ptr<arrow::RecordBatch> batch;
    try {
      if (parquet_) {
        if (!batches_) batches_ = ok_or_throw(parquet_->GetRecordBatchReader(), path_);
        batch = ok_or_throw(batches_->Next(), path_);
      } else if (next_ipc_ < ipc_->num_record_batches()) {
        batch = ok_or_throw(ipc_->ReadRecordBatch(next_ipc_++), path_);
      }
    } catch (const parquet::ParquetException& e) {
      throw InputError("'" + path_ + "': " + e.what());
    }
    if (batch) ok_or_throw(batch->ValidateFull(), path_);
    return batch;
  }

 private:
  std::string path_;
  std::shared_ptr<arrow::io::RandomAccessFile> file_;
  std::unique_ptr<parquet::arrow::FileReader> parquet_;
  std::unique_ptr<arrow::RecordBatchReader> batches_;
  std::shared_ptr<arrow::ipc::RecordBatchFileReader> ipc_;
  int next_ipc_ = 0;
  std::shared_ptr<arrow::Schema> schema_;
};

enum class CellKind { kNumber, kText, kDate, kNull, kUnsupported };

CellKind kind_of(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
      return CellKind::kNumber;
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::STRING_VIEW:
      return CellKind::kText;
    case arrow::Type::DICTIONARY: {
      const auto& value_type = *static_cast<const arrow::DictionaryType&>(type).value_type();
      const CellKind k = kind_of(value_type);
      return k == CellKind::kNull ? CellKind::kUnsupported : k;
    }
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
      return CellKind::kDate;
    case arrow::Type::NA:
      return CellKind::kNull;
    default:
      return CellKind::kUnsupported;
  }
}

template <class ArrayType>
double value_of(const arrow::Array& a, std::int64_t i) {
  return static_cast<double>(static_cast<const ArrayType&>(a).Value(i));
}

/// A numeric cell (kNumber types); NaN when null.
double number_at(const arrow::Array& a, std::int64_t i) {
  if (a.IsNull(i)) return detail::kMissing;
  switch (a.type_id()) {
    case arrow::Type::BOOL:
      return static_cast<const arrow::BooleanArray&>(a).Value(i) ? 1.0 : 0.0;
    case arrow::Type::INT8:
      return value_of<arrow::Int8Array>(a, i);
    case arrow::Type::INT16:
      return value_of<arrow::Int16Array>(a, i);
    case arrow::Type::INT32:
      return value_of<arrow::Int32Array>(a, i);
    case arrow::Type::INT64:
      return value_of<arrow::Int64Array>(a, i);
    case arrow::Type::UINT8:
      return value_of<arrow::UInt8Array>(a, i);
    case arrow::Type::UINT16:
      return value_of<arrow::UInt16Array>(a, i);
    case arrow::Type::UINT32:
      return value_of<arrow::UInt32Array>(a, i);
    case arrow::Type::UINT64:
      return value_of<arrow::UInt64Array>(a, i);
    case arrow::Type::FLOAT:
      return value_of<arrow::FloatArray>(a, i);
    case arrow::Type::DOUBLE:
      return value_of<arrow::DoubleArray>(a, i);
    case arrow::Type::DICTIONARY: {
      const auto& d = static_cast<const arrow::DictionaryArray&>(a);
      return number_at(*d.dictionary(), d.GetValueIndex(i));
    }
    default:
      return detail::kMissing;
  }
}

/// ISO 8601 text of a date or timestamp: the date alone at midnight (as pandas writes such
/// values to CSV), else "YYYY-MM-DD HH:MM:SS[.ffffff]"; a zoned timestamp in UTC with "Z".
std::string iso_text(std::int64_t micros, bool zoned) {
  using namespace std::chrono;
  const sys_time<microseconds> t{microseconds(micros)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  std::string out =
      fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  const std::int64_t in_day = (t - day).count();
  if (in_day == 0 && !zoned) return out;
  const std::int64_t s = in_day / 1000000, us = in_day % 1000000;
  out += fmt::format(" {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  if (us != 0) out += fmt::format(".{:06}", us);
  if (zoned) out += 'Z';
  return out;
}

std::int64_t to_micros(std::int64_t value, arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      return value * 1000000;
    case arrow::TimeUnit::MILLI:
      return value * 1000;
    case arrow::TimeUnit::MICRO:
      return value;
    case arrow::TimeUnit::NANO:
      return value / 1000 - (value % 1000 < 0 ? 1 : 0);
  }
  return value;
}

/// The text of a string cell in place (string types, or a dictionary of them), or nullopt for
/// any other type.
std::optional<std::string_view> view_at(const arrow::Array& a, std::int64_t i) {
  switch (a.type_id()) {
    case arrow::Type::STRING:
      return static_cast<const arrow::StringArray&>(a).GetView(i);
    case arrow::Type::LARGE_STRING:
      return static_cast<const arrow::LargeStringArray&>(a).GetView(i);
    case arrow::Type::STRING_VIEW:
      return static_cast<const arrow::StringViewArray&>(a).GetView(i);
    case arrow::Type::DICTIONARY: {
      const auto& d = static_cast<const arrow::DictionaryArray&>(a);
      return view_at(*d.dictionary(), d.GetValueIndex(i));
    }
    default:
      return std::nullopt;
  }
}

/// A cell as text (any readable type); "" when null.
std::string text_at(const arrow::Array& a, std::int64_t i) {
  if (a.IsNull(i)) return {};
  switch (a.type_id()) {
    case arrow::Type::STRING:
      return std::string(static_cast<const arrow::StringArray&>(a).GetView(i));
    case arrow::Type::LARGE_STRING:
      return std::string(static_cast<const arrow::LargeStringArray&>(a).GetView(i));
    case arrow::Type::STRING_VIEW:
      return std::string(static_cast<const arrow::StringViewArray&>(a).GetView(i));
    case arrow::Type::DICTIONARY: {
      const auto& d = static_cast<const arrow::DictionaryArray&>(a);
      return text_at(*d.dictionary(), d.GetValueIndex(i));
    }
    case arrow::Type::BOOL:
      return static_cast<const arrow::BooleanArray&>(a).Value(i) ? "True" : "False";
    case arrow::Type::INT64:
      return std::to_string(static_cast<const arrow::Int64Array&>(a).Value(i));
    case arrow::Type::UINT64:
      return std::to_string(static_cast<const arrow::UInt64Array&>(a).Value(i));
    case arrow::Type::DATE32:
      return iso_text(
          std::int64_t{static_cast<const arrow::Date32Array&>(a).Value(i)} * 86400000000, false);
    case arrow::Type::DATE64:
      return iso_text(static_cast<const arrow::Date64Array&>(a).Value(i) * 1000, false);
    case arrow::Type::TIMESTAMP: {
      const auto& type = static_cast<const arrow::TimestampType&>(*a.type());
      return iso_text(to_micros(static_cast<const arrow::TimestampArray&>(a).Value(i), type.unit()),
                      !type.timezone().empty());
    }
    default:  // the other numbers: exact in a double, shortest text that reads back
      return fmt::format("{}", number_at(a, i));
  }
}

bool is_null(const arrow::Array& a, std::int64_t i) {
  if (a.IsNull(i)) return true;
  if (a.type_id() == arrow::Type::DICTIONARY) {
    const auto& d = static_cast<const arrow::DictionaryArray&>(a);
    return d.dictionary()->IsNull(d.GetValueIndex(i));
  }
  return false;
}

/// A text column being built: distinct values in order of appearance (views into the Arrow
/// buffers, which outlive it, or into `owned` for text made here), then sorted by bytes.
struct TextColumn {
  std::unordered_map<std::string_view, std::int32_t> index;
  std::vector<std::string_view> values;
  std::deque<std::string> owned;
  std::vector<std::int32_t> codes;

  std::int32_t code_of(std::string_view value) {
    const auto [it, added] = index.try_emplace(value, static_cast<std::int32_t>(values.size()));
    if (added) values.push_back(value);
    return it->second;
  }
  void add_view(std::string_view value) { codes.push_back(code_of(value)); }
  void add(std::string value) {
    const auto it = index.find(value);
    if (it != index.end()) {
      codes.push_back(it->second);
      return;
    }
    add_view(owned.emplace_back(std::move(value)));
  }
  void add_missing() { codes.push_back(-1); }

  Column finish(const std::string& name) {
    std::vector<std::int32_t> order(values.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<std::int32_t>(k);
    std::sort(order.begin(), order.end(),
              [&](std::int32_t a, std::int32_t b) { return values[a] < values[b]; });
    std::vector<std::int32_t> rank(values.size());
    Column c;
    c.name = name;
    c.type = ColumnType::kCategorical;
    for (std::size_t k = 0; k < order.size(); ++k) {
      rank[static_cast<std::size_t>(order[k])] = static_cast<std::int32_t>(k);
      c.categories.emplace_back(values[static_cast<std::size_t>(order[k])]);
    }
    c.codes = std::move(codes);
    for (std::int32_t& code : c.codes)
      if (code >= 0) code = rank[static_cast<std::size_t>(code)];
    return c;
  }
};

std::string row_place(const std::string& path, const std::string& column, std::int64_t row) {
  return "'" + path + "': column '" + column + "', row " + std::to_string(row + 1);
}

/// How one column is read: as numbers or as text, and where its cells come from.
struct ColumnReader {
  std::string name;
  int field = 0;  // index in the file's schema
  CellKind cells = CellKind::kNumber;
  bool numeric = true;    // the Dataset column's type
  bool raw = false;       // kText: nulls are "", no NA matching
  bool direct = false;    // a plain Parquet number column, decoded by read_parquet_numbers
  int table_column = -1;  // else its column in the whole-file reader's Arrow table
  std::vector<double> numbers;
  TextColumn text;
};

/// InputError naming the file row of the first number in out[start, end) beyond float32's range
/// (out[0] being file row `first_row`).
void check_float32_range(const std::vector<double>& out, std::size_t start,
                         const std::string& where, std::int64_t first_row) {
  bool beyond = false;
  for (std::size_t i = start; i < out.size(); ++i)
    beyond |= std::fabs(out[i]) > std::numeric_limits<float>::max();  // false for NaN
  if (!beyond) return;
  for (std::size_t i = start; i < out.size(); ++i)
    if (!std::isnan(out[i]) && detail::outside_float32(out[i]))
      throw InputError(
          where + ", row " + std::to_string(first_row + static_cast<std::int64_t>(i) + 1) +
          fmt::format(": value {} is beyond float32's range (features are float32)", out[i]));
}

/// Numbers of a plain numeric array (no dictionary) straight from its buffer: the common case,
/// kept free of per-cell dispatch. InputError (out[0] being file row `first_row`) for a value
/// beyond float32.
template <class ArrayType>
void append_plain_numbers(const arrow::Array& array, std::vector<double>& out,
                          const std::string& where, std::int64_t first_row) {
  const auto& a = static_cast<const ArrayType&>(array);
  const auto* values = a.raw_values();
  const std::size_t start = out.size();
  // Converted as they are copied in: no zero-filling of the fresh column first.
  out.insert(out.end(), values, values + a.length());
  double* dst = out.data() + start;
  if (a.null_count() > 0)
    for (std::int64_t i = 0; i < a.length(); ++i)
      if (a.IsNull(i)) dst[i] = detail::kMissing;
  check_float32_range(out, start, where, first_row);
}

/// Appends a numeric array by its buffer when it is one of the common plain types.
bool append_numbers_fast(const arrow::Array& a, std::vector<double>& out, const std::string& where,
                         std::int64_t first_row) {
  switch (a.type_id()) {
    case arrow::Type::DOUBLE:
      append_plain_numbers<arrow::DoubleArray>(a, out, where, first_row);
      return true;
    case arrow::Type::FLOAT:
      append_plain_numbers<arrow::FloatArray>(a, out, where, first_row);
      return true;
    case arrow::Type::INT64:
      append_plain_numbers<arrow::Int64Array>(a, out, where, first_row);
      return true;
    case arrow::Type::INT32:
      append_plain_numbers<arrow::Int32Array>(a, out, where, first_row);
      return true;
    default:
      return false;
  }
}

/// A dictionary array of strings into a text column: each dictionary entry looked up once
/// (an NA string is missing), then one index per row. False for another kind of array.
bool append_dictionary_text(const arrow::Array& array, TextColumn& text,
                            const detail::NaMatcher& na) {
  if (array.type_id() != arrow::Type::DICTIONARY) return false;
  const auto& a = static_cast<const arrow::DictionaryArray&>(array);
  const arrow::Array& dictionary = *a.dictionary();
  if (kind_of(*dictionary.type()) != CellKind::kText) return false;
  std::vector<std::int32_t> code(static_cast<std::size_t>(dictionary.length()), -1);
  for (std::int64_t k = 0; k < dictionary.length(); ++k) {
    if (dictionary.IsNull(k)) continue;
    const std::string_view v = *view_at(dictionary, k);
    if (!na(v)) code[static_cast<std::size_t>(k)] = text.code_of(v);
  }
  for (std::int64_t i = 0; i < a.length(); ++i)
    text.codes.push_back(a.IsNull(i) ? -1 : code[static_cast<std::size_t>(a.GetValueIndex(i))]);
  return true;
}

/// Why cell `i` of `a` cannot go into `r` (empty when it can); the value is appended when it
/// can and `append`.
std::string read_cell(ColumnReader& r, const arrow::Array& a, std::int64_t i,
                      const detail::NaMatcher& na, const std::string& number_hint, bool append) {
  if (r.numeric) {
    double v = detail::kMissing;
    if (r.cells == CellKind::kNumber) {
      v = number_at(a, i);
    } else if (r.cells == CellKind::kText && !is_null(a, i)) {
      const std::string t = text_at(a, i);
      if (!na(detail::trim(t)) && !detail::parse_number(detail::trim(t), v))
        return "value '" + t + "' is not a number (" + number_hint + ")";
    } else if (r.cells == CellKind::kDate && !is_null(a, i)) {
      return "value '" + text_at(a, i) + "' is a date, not a number (" + number_hint + ")";
    }
    if (!std::isnan(v) && detail::outside_float32(v))
      return fmt::format("value {} is beyond float32's range (features are float32)", v);
    if (append) r.numbers.push_back(v);
    return {};
  }
  if (!append) return {};
  const bool null = is_null(a, i);
  if (null && !r.raw) {
    r.text.add_missing();
  } else if (const std::optional<std::string_view> view = null ? std::nullopt : view_at(a, i)) {
    if (!r.raw && na(*view))
      r.text.add_missing();
    else
      r.text.add_view(*view);
  } else {
    r.text.add(text_at(a, i));  // numbers and dates as text; "" for a null raw cell
  }
  return {};
}

Column finish(ColumnReader& r) {
  if (!r.numeric) return r.text.finish(r.name);
  Column c;
  c.name = r.name;
  c.numeric = std::move(r.numbers);
  return c;
}

/// The schema's column names: InputError for an empty or repeated one.
std::vector<std::string> column_names(const arrow::Schema& schema, const std::string& path) {
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (const auto& field : schema.fields()) {
    if (field->name().empty())
      throw InputError("'" + path + "': column " + std::to_string(names.size() + 1) +
                       " has no name");
    if (!seen.emplace(field->name(), 0).second)
      throw InputError("'" + path + "': column '" + field->name() + "' appears twice");
    names.push_back(field->name());
  }
  return names;
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// The readers of a whole-file read: typed by the schema, then by the forced types.
std::vector<ColumnReader> whole_file_readers(const arrow::Schema& schema, const std::string& path,
                                             const CsvOptions& options) {
  const std::vector<std::string> names = column_names(schema, path);
  for (const auto* forced : {&options.categorical, &options.numeric})
    for (const std::string& name : *forced)
      if (!listed(names, name))
        throw InputError("'" + path + "': forced " +
                         (forced == &options.categorical ? "categorical" : "numeric") +
                         " column '" + name + "' is not in the file");
  if (options.target && !listed(names, *options.target))
    throw InputError("'" + path + "': no target column '" + *options.target + "'");
  std::vector<ColumnReader> readers;
  for (int f = 0; f < schema.num_fields(); ++f) {
    ColumnReader r;
    r.name = names[static_cast<std::size_t>(f)];
    r.field = f;
    r.cells = kind_of(*schema.field(f)->type());
    if (r.cells == CellKind::kUnsupported) {
      if (options.target && r.name == *options.target)
        throw InputError("'" + path + "': target column '" + r.name + "' has type " +
                         schema.field(f)->type()->ToString() + ", which tabula does not read");
      spdlog::warn("{}: column '{}' has type {}, which tabula does not read: not used", path,
                   r.name, schema.field(f)->type()->ToString());
      continue;
    }
    if (listed(options.numeric, r.name) && r.cells == CellKind::kDate)
      throw InputError("'" + path + "': column '" + r.name +
                       "' holds dates; it cannot be --numeric");
    r.numeric = listed(options.numeric, r.name) ||
                ((r.cells == CellKind::kNumber || r.cells == CellKind::kNull) &&
                 !listed(options.categorical, r.name));
    readers.push_back(std::move(r));
  }
  return readers;
}

/// Asks for transparent huge pages on the untouched part of a fresh allocation: 512 times fewer
/// page faults for a large column (the kernel still zeroes the memory). A hint only.
void advise_huge_pages(void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

/// Marks the readers of plain Parquet number columns `direct` and gives the others their column
/// in the Arrow table; returns the fields that table must hold.
std::vector<int> plan_whole_file(BatchReader& reader, std::vector<ColumnReader>& readers) {
  parquet::ParquetFileReader* file = reader.parquet_file();
  const arrow::Schema& schema = reader.schema();
  // Fields are leaf columns only in a flat schema.
  const bool flat = file != nullptr && file->metadata()->num_columns() == schema.num_fields();
  std::vector<int> fields;
  for (ColumnReader& r : readers) {
    r.direct = flat && r.numeric && r.cells == CellKind::kNumber &&
               detail::is_plain_parquet_number(*file, r.field, *schema.field(r.field)->type());
    if (r.direct) continue;
    r.table_column = file != nullptr ? static_cast<int>(fields.size()) : r.field;
    fields.push_back(r.field);
  }
  return fields;
}

/// The whole-file reader's conversion of one column from the Arrow table.
void convert_table_column(ColumnReader& r, const arrow::ChunkedArray& column,
                          const std::string& path, const detail::NaMatcher& na,
                          std::int64_t first_row) {
  std::int64_t row = first_row;
  const std::string where = "'" + path + "': column '" + r.name + "'";
  for (const std::shared_ptr<arrow::Array>& chunk : column.chunks()) {
    const arrow::Array& a = *chunk;
    const bool whole = r.numeric ? r.cells == CellKind::kNumber &&
                                       append_numbers_fast(a, r.numbers, where, first_row)
                                 : append_dictionary_text(a, r.text, na);
    if (!whole)
      for (std::int64_t i = 0; i < a.length(); ++i)
        if (std::string why = read_cell(r, a, i, na, "the column is read as numbers", true);
            !why.empty())
          throw InputError(row_place(path, r.name, row + i) + ": " + why);
    row += a.length();
  }
}

}  // namespace

std::vector<std::int64_t> columnar_piece_rows(const std::string& path, ColumnarFormat format) {
  BatchReader reader(path, format, kWholeFileBatchRows, /*whole_file=*/true);
  return reader.piece_rows();
}

Dataset read_columnar(const std::string& path, ColumnarFormat format, const CsvOptions& options,
                      const ColumnarPieces& pieces) {
  BatchReader reader(path, format, kWholeFileBatchRows, /*whole_file=*/true);
  const std::vector<std::int64_t> piece_rows = reader.piece_rows();
  const int count = static_cast<int>(piece_rows.size());
  const int first = pieces.first, last = pieces.last < 0 ? count : pieces.last;
  if (first < 0 || first > last || last > count)
    throw InputError("'" + path + "': " + reader.piece_name() + "s " + std::to_string(first + 1) +
                     ".." + std::to_string(last) + " asked for, and the file has " +
                     std::to_string(count));
  std::int64_t footer_rows = 0;
  for (int p = first; p < last; ++p) footer_rows += piece_rows[static_cast<std::size_t>(p)];
  const bool whole = first == 0 && last == count;
  std::vector<ColumnReader> readers = whole_file_readers(reader.schema(), path, options);
  const std::vector<int> fields = plan_whole_file(reader, readers);
  const bool any_direct = fields.size() < readers.size();
  const std::shared_ptr<arrow::Table> table =
      fields.empty() && any_direct ? nullptr : reader.read_all(fields, first, last);
  const std::int64_t rows = table ? table->num_rows() : footer_rows;
  if (rows == 0)
    throw InputError("'" + path + "': " +
                     (whole ? std::string("the file has no rows")
                            : reader.piece_name() + "s " + std::to_string(first + 1) + ".." +
                                  std::to_string(last) + " hold no rows"));
  if (any_direct && rows != footer_rows)
    throw InputError("'" + path + "': the columns hold " + std::to_string(rows) +
                     " rows and the file's footer says " + std::to_string(footer_rows));
  const std::uint64_t memory = physical_memory_bytes();
  if (any_direct && memory > 0 && static_cast<double>(rows) * 8 > static_cast<double>(memory))
    throw InputError("'" + path + "': the footer claims " + std::to_string(rows) +
                     " rows, more than this machine's memory holds as one column");
  const detail::NaMatcher na(options.na_values);
  // One column per task; the first failing column (in file order) is reported.
  std::vector<std::exception_ptr> failed(readers.size());
  parallel_for(static_cast<std::int64_t>(readers.size()), [&](std::int64_t j) {
    ColumnReader& r = readers[static_cast<std::size_t>(j)];
    try {
      if (r.numeric) {
        r.numbers.reserve(static_cast<std::size_t>(rows));
        advise_huge_pages(r.numbers.data(), r.numbers.capacity() * sizeof(double));
      }
      if (r.direct) {
        const std::string where = "'" + path + "': column '" + r.name + "'";
        if (detail::read_parquet_numbers(*reader.parquet_file(), r.field, where, first, last,
                                         r.numbers) > std::numeric_limits<float>::max())
          check_float32_range(r.numbers, 0, where, pieces.first_row);
        if (r.numbers.size() != static_cast<std::size_t>(rows))
          throw InputError(where + " holds " + std::to_string(r.numbers.size()) + " rows, not " +
                           std::to_string(rows));
      } else {
        convert_table_column(r, *table->column(r.table_column), path, na, pieces.first_row);
      }
    } catch (...) {
      failed[static_cast<std::size_t>(j)] = std::current_exception();
    }
  });
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
  Dataset data;
  data.source = path;
  for (ColumnReader& r : readers) {
    Column c = finish(r);
    if (options.target && c.name == *options.target)
      data.target = std::move(c);
    else
      data.columns.push_back(std::move(c));
  }
  spdlog::debug("{}: {} rows, {} columns ({})", path, rows, readers.size(),
                columnar_format_name(format));
  return data;
}

namespace {

class ArrowBatches : public ColumnarBatches {
 public:
  ArrowBatches(const std::string& path, ColumnarFormat format, const CsvStreamOptions& options)
      : path_(path),
        options_(options),
        reader_(path, format, options.chunk_rows, /*whole_file=*/false),
        names_(column_names(reader_.schema(), path)),
        na_(options.na_values) {}

  const std::vector<std::string>& names() const override { return names_; }

  // long: one batch through the selected columns twice (which rows are bad, then the values of
  // the good ones), so a bad row never leaves part of itself in a column.
  bool next(const std::vector<StreamColumn>& selected, CsvChunk& chunk) override {
    const std::shared_ptr<arrow::RecordBatch> batch = reader_.next();
    if (!batch) {
      if (rows_ == 0) throw InputError("'" + path_ + "': the file has no rows");
      return false;
    }
    std::vector<ColumnReader> readers;
    for (int f = 0; f < batch->num_columns(); ++f) {
      const auto it = std::find_if(selected.begin(), selected.end(), [&](const StreamColumn& c) {
        return c.name == names_[static_cast<std::size_t>(f)];
      });
      if (it == selected.end()) continue;
      ColumnReader r;
      r.name = it->name;
      r.field = f;
      r.cells = kind_of(*batch->schema()->field(f)->type());
      r.numeric = it->kind == StreamColumnKind::kNumeric;
      r.raw = it->kind == StreamColumnKind::kText;
      if (r.cells == CellKind::kUnsupported)
        throw InputError("'" + path_ + "': column '" + r.name + "' has type " +
                         batch->schema()->field(f)->type()->ToString() +
                         ", which tabula does not read");
      readers.push_back(std::move(r));
    }
    const std::int64_t n = batch->num_rows();
    std::vector<std::uint8_t> bad(static_cast<std::size_t>(n), 0);
    chunk = CsvChunk{};
    for (ColumnReader& r : readers) {
      const arrow::Array& a = *batch->column(r.field);
      for (std::int64_t i = 0; i < n; ++i) {
        if (bad[static_cast<std::size_t>(i)]) continue;
        std::string why = read_cell(r, a, i, na_, options_.number_hint, false);
        if (why.empty()) continue;
        if (!options_.skip_bad_rows)
          throw InputError(row_place(path_, r.name, rows_ + i) + ": " + why);
        bad[static_cast<std::size_t>(i)] = 1;
        chunk.rejected.push_back({rows_ + i + 2, r.field + 1, r.name, std::move(why)});
      }
    }
    std::sort(chunk.rejected.begin(), chunk.rejected.end(),
              [](const CsvRowError& a, const CsvRowError& b) { return a.line < b.line; });
    for (ColumnReader& r : readers) {
      const arrow::Array& a = *batch->column(r.field);
      for (std::int64_t i = 0; i < n; ++i)
        if (!bad[static_cast<std::size_t>(i)]) read_cell(r, a, i, na_, options_.number_hint, true);
      chunk.data.columns.push_back(finish(r));
    }
    for (std::int64_t i = 0; i < n; ++i)
      if (!bad[static_cast<std::size_t>(i)]) chunk.lines.push_back(rows_ + i + 2);
    chunk.data.source = path_;
    chunk.first_line = rows_ + 2;
    rows_ += n;
    return true;
  }

 private:
  std::string path_;
  CsvStreamOptions options_;
  BatchReader reader_;
  std::vector<std::string> names_;
  detail::NaMatcher na_;
  std::int64_t rows_ = 0;
};

}  // namespace

std::unique_ptr<ColumnarBatches> open_columnar_batches(const std::string& path,
                                                       ColumnarFormat format,
                                                       const CsvStreamOptions& options) {
  return std::make_unique<ArrowBatches>(path, format, options);
}

#endif

}  // namespace tabula::io

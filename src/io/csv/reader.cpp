// The whole-file reader. The body is cut into chunks at record boundaries, chunks are parsed in
// parallel into per-chunk columns, and the chunks are merged in file order: the result does
// not depend on the thread count.
//
// Type inference needs every value of a column, so a column is parsed as numbers until a value
// fails; a column that fails anywhere becomes categorical and, unless the sniffer's look at the
// first rows already caught it, is parsed again as strings in a second pass over the chunks.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/system_memory.hpp"
#include "io/columnar/columnar.hpp"
#include "io/compressed_file.hpp"
#include "io/csv/boundaries.hpp"
#include "io/csv/chunk.hpp"
#include "io/csv/numeric_lookalikes.hpp"
#include "io/csv/parser.hpp"
#include "io/csv/sniffer.hpp"
#include "io/mapped_file.hpp"
#include "io/sql/sql_source.hpp"
#include "io/transcode.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io {
namespace detail {
namespace {

constexpr std::size_t kMinChunkBytes = 1 << 20;
constexpr std::size_t kMaxChunkBytes = 8 << 20;

// The parse of the body: the chunks' columns with the modes they were read in.
struct Body {
  std::vector<ChunkColumns> chunks;
  std::vector<Mode> modes;   // the first pass's
  std::vector<Mode> second;  // kStrings for the columns read again as text, else kSkip
};

// Columns that failed as numbers somewhere: kStrings in the result, else kSkip.
std::vector<Mode> failed_numeric(const Body& body) {
  std::vector<Mode> second(body.modes.size(), Mode::kSkip);
  for (std::size_t j = 0; j < body.modes.size(); ++j) {
    if (body.modes[j] != Mode::kNumeric) continue;
    for (const ChunkColumns& chunk : body.chunks) {
      if (chunk.not_numeric[j]) {
        second[j] = Mode::kStrings;
        break;
      }
    }
  }
  return second;
}

// The second pass: the columns in `body.second` read again as strings, chunk by chunk.
void reparse_as_strings(std::string_view text, const std::vector<std::size_t>& bounds, Body& body,
                        char delimiter, const NaMatcher& is_na, std::size_t reserve_rows,
                        const ChunkPolicy& policy) {
  parallel_for(static_cast<std::int64_t>(body.chunks.size()), [&](std::int64_t c) {
    const auto i = static_cast<std::size_t>(c);
    ChunkColumns strings =
        parse_chunk(text, bounds[i], bounds[i + 1], body.second, delimiter, is_na,
                    std::min(reserve_rows, bounds[i + 1] - bounds[i]), policy);
    TABULA_ASSERT(!strings.error && strings.rows == body.chunks[i].rows,
                  "second CSV pass disagrees with the first");
    for (std::size_t j = 0; j < body.second.size(); ++j) {
      if (body.second[j] != Mode::kStrings) continue;
      body.chunks[i].numeric[j] = {};
      body.chunks[i].codes[j] = std::move(strings.codes[j]);
      body.chunks[i].dictionaries[j] = std::move(strings.dictionaries[j]);
    }
  });
}

// The first value outside the float32 range, in file order, among the inferred columns that
// stay numeric (the others are text, where "inf" is just a word).
const RecordError* first_out_of_range(const Body& body) {
  for (const ChunkColumns& chunk : body.chunks) {
    const RecordError* first = nullptr;
    for (std::size_t j = 0; j < body.modes.size(); ++j) {
      if (body.modes[j] != Mode::kNumeric || body.second[j] == Mode::kStrings) continue;
      const std::optional<RecordError>& e = chunk.out_of_range[j];
      if (e && (!first || e->offset < first->offset)) first = &*e;
    }
    if (first) return first;
  }
  return nullptr;
}

// Parses text[body_start, end) in chunks of about `chunk_bytes`; throws the first error.
Body parse_body(std::string_view text, std::size_t body_start, const std::string& source,
                const Schema& schema, const CsvOptions& options, std::size_t chunk_bytes) {
  const NaMatcher is_na(options.na_values);
  ChunkPolicy policy;
  policy.max_field_bytes = options.max_field_bytes;
  policy.decimal = options.decimal;
  const char delimiter = options.delimiter;
  TypeGuess guess =
      guess_types(text, body_start, schema.modes, delimiter, is_na, policy, chunk_bytes);
  const std::vector<std::size_t> bounds = split_chunks(text, body_start, chunk_bytes);
  Body body;
  body.chunks.resize(bounds.size() - 1);
  body.modes = std::move(guess.modes);
  parallel_for(static_cast<std::int64_t>(body.chunks.size()), [&](std::int64_t c) {
    const auto i = static_cast<std::size_t>(c);
    const std::size_t reserve = std::min(guess.reserve_rows, bounds[i + 1] - bounds[i]);
    body.chunks[i] =
        parse_chunk(text, bounds[i], bounds[i + 1], body.modes, delimiter, is_na, reserve, policy);
  });
  for (const ChunkColumns& chunk : body.chunks)
    if (chunk.error) throw_at(text, source, schema.names, *chunk.error);
  body.second = failed_numeric(body);
  if (std::find(body.second.begin(), body.second.end(), Mode::kStrings) != body.second.end())
    reparse_as_strings(text, bounds, body, delimiter, is_na, guess.reserve_rows, policy);
  if (const RecordError* e = first_out_of_range(body)) throw_at(text, source, schema.names, *e);
  return body;
}

// The merged columns, the target split off.
Dataset assemble(Body& body, const Schema& schema, const std::string& source,
                 const CsvOptions& options, std::int64_t header_line) {
  const std::vector<std::size_t> row_offsets = chunk_row_offsets(body.chunks);
  if (row_offsets.back() == 0) throw_no_rows(source, header_line);
  Dataset dataset;
  dataset.source = source;
  dataset.columns.reserve(schema.names.size());
  for (std::size_t j = 0; j < schema.names.size(); ++j) {
    const bool strings = body.modes[j] == Mode::kStrings || body.second[j] == Mode::kStrings;
    Column column = strings ? merge_strings(schema.names[j], body.chunks, j, row_offsets)
                            : merge_numeric(schema.names[j], body.chunks, j, row_offsets);
    if (options.target && *options.target == column.name)
      dataset.target = std::move(column);
    else
      dataset.columns.push_back(std::move(column));
  }
  return dataset;
}

// Whether `column` is a row index as pandas' to_csv writes it: the first column with an empty
// name, or named "Unnamed: <k>" (an index read back and written again) and holding 0, 1, 2, ...
// A feature made of row numbers: the leading index columns are dropped, and said.
void drop_index_columns(Dataset& dataset, const std::string& source) {
  while (!dataset.columns.empty() && is_pandas_index(dataset.columns.front())) {
    spdlog::info("{}: column '{}' is a row index as pandas writes it: not read", source,
                 dataset.columns.front().name);
    dataset.columns.erase(dataset.columns.begin());
  }
}

}  // namespace

std::size_t default_chunk_bytes(std::size_t bytes, int threads) {
  const std::size_t per_task = bytes / (8 * static_cast<std::size_t>(std::max(1, threads)));
  return std::clamp(per_task, kMinChunkBytes, kMaxChunkBytes);
}

Dataset parse_csv_chunked(std::string_view text, const std::string& source, const CsvOptions& given,
                          std::size_t chunk_bytes) {
  check_delimiter(given.delimiter);
  CsvOptions options = given;
  options.delimiter = resolve_delimiter(given.delimiter, text);
  check_decimal(options.decimal, options.delimiter);
  if (given.delimiter == 0 && options.delimiter != ',')
    spdlog::info(
        "{}: columns separated by '{}' (sniffed; --delimiter sets it)", source,
        options.delimiter == '\t' ? std::string("\\t") : std::string(1, options.delimiter));
  if (starts_with_bom(text)) text.remove_prefix(3);
  const char* base = text.data();
  const char* end = base + text.size();
  const char* p = base;
  skip_blank_lines(p, end);
  if (p >= end) throw_empty_file(source);
  const auto header_line = line_at(text, static_cast<std::size_t>(p - base));
  Schema schema = parse_header(text, p, source, options.delimiter, options.max_field_bytes);
  apply_options(schema, source, options, header_line);
  const auto body_start = static_cast<std::size_t>(p - base);
  skip_blank_lines(p, end);
  if (p >= end) throw_no_rows(source, header_line);
  Body body = parse_body(text, body_start, source, schema, options, chunk_bytes);
  Dataset dataset = assemble(body, schema, source, options, header_line);
  // The line of data row `row`, by reading the records before it again (only for a message).
  const auto line_of = [&](std::int64_t row) {
    const char* q = base + body_start;
    std::string scratch;
    RecordError error;
    const auto ignore = [](std::int64_t, const Field&, const char*) { return true; };
    for (std::int64_t r = 0;; ++r) {
      skip_blank_lines(q, end);
      if (r == row || q >= end) break;
      if (scan_record(base, q, end, options.delimiter, options.max_field_bytes, scratch, ignore,
                      error) < 0)
        break;
    }
    return line_at(text, static_cast<std::size_t>(q - base));
  };
  if (options.drop_index_columns) drop_index_columns(dataset, source);
  check_numeric_lookalikes(dataset, options.categorical, source, line_of);
  return dataset;
}

}  // namespace detail

bool is_pandas_index(const Column& column, std::int64_t first_row) {
  if (column.name.empty()) return true;
  if (!column.name.starts_with("Unnamed: ") || column.type != ColumnType::kNumeric) return false;
  for (std::size_t i = 0; i < column.numeric.size(); ++i)
    if (column.numeric[i] != static_cast<double>(first_row + static_cast<std::int64_t>(i)))
      return false;
  return true;
}

CsvOptions CsvSettings::options() const {
  CsvOptions out;
  out.delimiter = delimiter;
  out.decimal = decimal;
  out.na_values.insert(out.na_values.end(), na_values.begin(), na_values.end());
  out.categorical = categorical;
  out.numeric = numeric;
  out.encoding = encoding;
  return out;
}

char parse_delimiter(const std::string& text) {
  if (text == "tab" || text == "\\t" || text == "\t") return '\t';
  if (text.size() != 1)
    throw InputError("delimiter '" + text + "': expected one character, or 'tab'");
  detail::check_delimiter(text[0]);
  return text[0];
}

char parse_decimal(const std::string& text) {
  if (text != "." && text != ",")
    throw InputError("decimal mark '" + text + "': expected '.' or ','");
  return text[0];
}

void check_decimal(char decimal, char delimiter) {
  if (decimal != '.' && decimal != ',')
    throw InputError(std::string("decimal mark '") + decimal + "': expected '.' or ','");
  if (decimal == ',' && delimiter == ',')  // ('.' as a delimiter keeps its old meaning)
    throw InputError(std::string("the decimal mark and the delimiter are both '") + decimal +
                     "': pass --delimiter (';' is usual with decimal commas)");
}

Dataset parse_csv(std::string_view text, const std::string& source, const CsvOptions& options) {
  return detail::parse_csv_chunked(text, source, options,
                                   detail::default_chunk_bytes(text.size(), thread_count()));
}

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  // Compressed or rendered from SQL, the whole text is held in memory: at most half of it (the
  // parsed table needs room).
  const std::uint64_t memory = physical_memory_bytes();
  const std::uint64_t limit = memory > 0 ? memory / 2 : std::uint64_t{1} << 34;
  const auto parse_text = [&](const std::string& text, Compression compression) {
    if (compression != Compression::kNone)
      spdlog::info("{}: {} data, {} bytes decompressed", path, compression_name(compression),
                   text.size());
    if (text.empty()) detail::throw_empty_file(path);
    detail::check_text_signature(text, path);
    return parse_csv(text, path, options);
  };
  if (!is_sql_url(path)) {
    // Parquet and Arrow IPC files are read by their own reader (a build without Arrow refuses
    // them below, by their signature).
    if (const ColumnarFormat format = columnar_format_of_file(path);
        format != ColumnarFormat::kNone && columnar_supported())
      return read_columnar(path, format, options);
    if (is_utf8_name(options.encoding)) {
      const MappedFile file(path);
      if (file.text().empty()) detail::throw_empty_file(path);
      const Compression compression = compression_of(file.text());
      if (compression == Compression::kNone || !compression_supported()) {
        detail::check_text_signature(file.text(), path);
        return parse_csv(file.text(), path, options);
      }
      if (compression == Compression::kGzip)
        if (const std::optional<std::string> text = gunzip_whole(file.text(), limit))
          return parse_text(*text, compression);
    }
  }
  // Compressed, in another encoding, or rendered from SQL: decompressed and converted to UTF-8
  // as FileBytes reads it.
  FileBytes bytes(path, options.encoding);
  return parse_text(read_all(bytes, path, limit), bytes.compression());
}

}  // namespace tabula::io

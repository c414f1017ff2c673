// The chunked CSV reader. The buffer holds the unconsumed tail of what read() returned; records
// are counted by quote parity as bytes arrive (the same rule the whole-file reader uses to cut
// chunks), and a chunk is handed to the whole-file parser's record parser once enough records
// or bytes are in. Memory: one chunk of text plus one read block, whatever the file size.
#include "tabula/io/csv_stream.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "io/columnar/columnar.hpp"
#include "io/compressed_file.hpp"
#include "io/csv/boundaries.hpp"
#include "io/csv/error.hpp"
#include "io/csv/parser.hpp"
#include "io/csv/sniffer.hpp"
#include "io/sql/sql_source.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::io {
namespace {

constexpr std::size_t kReadBlock = std::size_t{1} << 20;

// Where the header starts: past a byte order mark and any line ends before it.
std::size_t header_start(std::string_view text) {
  std::size_t start = detail::starts_with_bom(text) ? 3 : 0;
  while (start < text.size() && (text[start] == '\n' || text[start] == '\r')) ++start;
  return start;
}

// True when `text` holds the whole header record: a newline outside quotes after its start.
bool header_complete(std::string_view text) {
  bool quoted = false;
  for (std::size_t i = header_start(text); i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    if (text[i] == '\n' && !quoted) return true;
  }
  return false;
}

}  // namespace

struct CsvStream::State {
  std::string file_path;
  CsvStreamOptions options;
  FileBytes file;  // decompressed when the file is compressed
  std::vector<std::string> header;
  std::int64_t header_line = 1;
  detail::RecordsSpec spec;
  // A Parquet or Arrow IPC file: its batches, and the columns select() chose.
  std::unique_ptr<ColumnarBatches> columnar;
  std::vector<StreamColumn> selected;

  // buffer[0, filled) holds bytes read; [begin, filled) is not consumed yet and begins at a
  // record boundary on line `line`.
  std::string buffer;
  std::size_t begin = 0;
  std::size_t filled = 0;
  std::uint64_t consumed_before = 0;  // file offset of buffer[0]
  std::int64_t line = 1;
  bool eof = false;
  // Record counting over [begin, scan): `quoted` is the quote parity at `scan`, `boundary` the
  // end of the last complete record, `records` how many complete records lie in [begin,
  // boundary).
  std::size_t scan = 0;
  std::size_t boundary = 0;
  bool quoted = false;
  std::int64_t records = 0;
  std::int64_t records_seen = 0;  // rows + rejected so far

  State(const std::string& path, CsvStreamOptions o)
      : file_path(path), options(std::move(o)), file(path, options.encoding) {}

  /// Reads one more block after compacting the buffer; false at the end of the file.
  bool read_more() {
    if (eof) return false;
    if (begin > 0 && begin >= filled / 2) {
      std::memmove(buffer.data(), buffer.data() + begin, filled - begin);
      consumed_before += begin;
      filled -= begin;
      scan -= begin;
      boundary -= begin;
      begin = 0;
    }
    if (buffer.size() < filled + kReadBlock)
      buffer.resize(std::max(filled + kReadBlock, buffer.size() * 3 / 2));
    const std::size_t got = file.read(buffer.data() + filled, buffer.size() - filled);
    if (got == 0) {
      eof = true;
      return false;
    }
    filled += got;
    return true;
  }

  /// Counts records in [scan, filled) until the chunk is full; true when it is.
  bool count_records() {
    const char* base = buffer.data();
    const auto rows_goal = std::max<std::int64_t>(1, options.chunk_rows);
    const std::size_t bytes_goal = std::max<std::size_t>(1, options.chunk_bytes);
    while (scan < filled) {
      const void* found = std::memchr(base + scan, '\n', filled - scan);
      if (found == nullptr) {
        quoted ^= (detail::count_quotes(base + scan, base + filled) & 1) != 0;
        scan = filled;
        break;
      }
      const auto newline = static_cast<std::size_t>(static_cast<const char*>(found) - base);
      quoted ^= (detail::count_quotes(base + scan, base + newline) & 1) != 0;
      scan = newline + 1;
      if (!quoted) {
        boundary = scan;
        ++records;
        if (records >= rows_goal || boundary - begin >= bytes_goal) return true;
      }
    }
    return false;
  }

  /// Reads until the header record is complete: past the BOM and blank lines, up to the first
  /// newline outside quotes after its first byte (or the end of the file).
  void read_header_bytes() {
    while (!header_complete(std::string_view(buffer.data(), filled))) {
      detail::check_text_signature(std::string_view(buffer.data(), filled), file_path);
      if (filled > options.max_record_bytes)
        detail::throw_located(file_path, 1, 0, "",
                              "no end of the header row in the first " +
                                  std::to_string(options.max_record_bytes) +
                                  " bytes (an unterminated quote?)");
      if (!read_more()) break;
    }
    detail::check_text_signature(std::string_view(buffer.data(), filled), file_path);
  }

  /// Reads until a chunk's worth of records is in; returns where the chunk ends (at the end of
  /// the file the last record needs no newline: the chunk takes everything left).
  std::size_t fill_chunk() {
    for (;;) {
      if (count_records()) return boundary;
      if (boundary == begin && filled - begin > options.max_record_bytes)
        detail::throw_located(file_path, line, 0, "",
                              "no end of this record within " +
                                  std::to_string(options.max_record_bytes) +
                                  " bytes (an unterminated quote?)");
      if (!read_more()) return filled;
    }
  }

  /// The line of each row and the rejected rows of the parse of `text` (which starts on line
  /// `line`), in one walk over the row starts and the errors, both in offset order; throws the
  /// error that stops the read. Returns the line after the text.
  std::int64_t locate(std::string_view text, const detail::Records& records,
                      std::vector<std::int64_t>& lines, std::vector<CsvRowError>& rejected) {
    std::size_t at = 0;
    std::int64_t at_line = line;
    auto line_of = [&](std::size_t offset) {
      offset = std::min(offset, text.size());
      at_line +=
          static_cast<std::int64_t>(detail::count_newlines(text.data() + at, text.data() + offset));
      at = offset;
      return at_line;
    };
    lines.reserve(records.row_offsets.size());
    std::size_t e = 0;
    auto errors_before = [&](std::size_t offset) {
      for (; e < records.errors.size() && records.errors[e].offset < offset; ++e) {
        const detail::RecordError& error = records.errors[e];
        const bool fatal = records.fatal && e + 1 == records.errors.size();
        rejected.push_back(row_error(line_of(error.offset), error, fatal));
      }
    };
    for (std::size_t offset : records.row_offsets) {
      errors_before(offset);
      lines.push_back(line_of(offset));
    }
    errors_before(std::numeric_limits<std::size_t>::max());
    return line_of(text.size());
  }

  /// A record error as a CsvRowError at `error_line`; throws it instead when it must stop the
  /// read (stop mode, or the error after which nothing can be parsed).
  CsvRowError row_error(std::int64_t error_line, const detail::RecordError& e, bool fatal) {
    if (!options.skip_bad_rows || fatal)
      detail::throw_record_error(file_path, error_line, header, e);
    return {error_line, e.column, detail::column_name(header, e.column), e.message};
  }
};

CsvStreamOptions stream_options(const CsvSettings& settings) {
  CsvStreamOptions options;
  options.delimiter = settings.delimiter;
  options.decimal = settings.decimal;
  options.encoding = settings.encoding;
  options.na_values.insert(options.na_values.end(), settings.na_values.begin(),
                           settings.na_values.end());
  return options;
}

CsvStream::CsvStream(const std::string& path, CsvStreamOptions options)
    : state_(std::make_unique<State>(path, std::move(options))) {
  State& s = *state_;
  detail::check_delimiter(s.options.delimiter);
  if (const ColumnarFormat format =
          is_sql_url(path) ? ColumnarFormat::kNone : columnar_format_of_file(path);
      format != ColumnarFormat::kNone && columnar_supported()) {
    s.columnar = open_columnar_batches(path, format, s.options);
    s.header = s.columnar->names();
    for (const std::string& name : s.header)
      s.selected.push_back({name, StreamColumnKind::kText});  // until select()
    return;
  }
  s.read_header_bytes();
  if (s.options.delimiter == 0) {
    while (s.filled < detail::kSniffBytes && s.read_more()) {
    }
    s.options.delimiter = detail::sniff_delimiter(std::string_view(s.buffer.data(), s.filled));
  }
  check_decimal(s.options.decimal, s.options.delimiter);
  const std::string_view text(s.buffer.data(), s.filled);
  const char* p = text.data();
  s.header =
      detail::parse_header_names(text, p, path, s.options.delimiter, s.options.max_field_bytes);
  s.header_line = 1 + static_cast<std::int64_t>(
                          detail::count_newlines(text.data(), text.data() + header_start(text)));
  s.begin = static_cast<std::size_t>(p - text.data());
  s.line = 1 + static_cast<std::int64_t>(detail::count_newlines(text.data(), p));
  s.scan = s.boundary = s.begin;
  s.spec.names = s.header;
  s.spec.kinds.assign(s.header.size(), detail::FieldKind::kRawText);
  s.spec.delimiter = s.options.delimiter;
  s.spec.na_values = s.options.na_values;
  s.spec.skip_bad_records = s.options.skip_bad_rows;
  s.spec.number_hint = s.options.number_hint;
  s.spec.max_field_bytes = s.options.max_field_bytes;
  s.spec.decimal = s.options.decimal;
}

CsvStream::~CsvStream() = default;

const std::string& CsvStream::path() const { return state_->file_path; }
const std::vector<std::string>& CsvStream::header() const { return state_->header; }
std::int64_t CsvStream::header_line() const { return state_->header_line; }

char CsvStream::delimiter() const { return state_->options.delimiter; }
std::uint64_t CsvStream::file_size() const {
  // Progress compares decompressed offsets with it: unknown for a compressed or columnar file.
  if (state_->columnar) return 0;
  return state_->file.compression() == Compression::kNone ? state_->file.file_size() : 0;
}

void CsvStream::select(const std::vector<StreamColumn>& columns) {
  State& s = *state_;
  std::vector<detail::FieldKind> kinds(s.header.size(), detail::FieldKind::kSkip);
  std::vector<std::string> missing;
  std::unordered_set<std::string> seen;
  for (const StreamColumn& c : columns) {
    if (!seen.insert(c.name).second)
      throw InputError(s.file_path + ": column '" + c.name + "' selected twice");
    const auto it = std::find(s.header.begin(), s.header.end(), c.name);
    if (it == s.header.end()) {
      missing.push_back(c.name);
      continue;
    }
    detail::FieldKind& kind = kinds[static_cast<std::size_t>(it - s.header.begin())];
    switch (c.kind) {
      case StreamColumnKind::kNumeric:
        kind = detail::FieldKind::kNumber;
        break;
      case StreamColumnKind::kCategorical:
        kind = detail::FieldKind::kText;
        break;
      case StreamColumnKind::kText:
        kind = detail::FieldKind::kRawText;
        break;
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "'" : ", '") + m + "'";
    throw InputError(s.file_path + ": missing " + std::to_string(missing.size()) +
                     " column(s): " + list);
  }
  s.spec.kinds = std::move(kinds);
  s.selected = columns;
}

bool CsvStream::next(CsvChunk& chunk) {
  State& s = *state_;
  if (s.columnar) return s.columnar->next(s.selected, chunk);
  const std::size_t cut = s.fill_chunk();
  if (cut == s.begin) {
    if (s.records_seen == 0) detail::throw_no_rows(s.file_path, s.header_line);
    return false;
  }
  const std::string_view text(s.buffer.data() + s.begin, cut - s.begin);
  const std::size_t piece_bytes = detail::default_chunk_bytes(text.size(), thread_count());
  detail::Records records =
      detail::parse_records(text, 0, text.size(), s.spec, piece_bytes,
                            static_cast<std::size_t>(std::max<std::int64_t>(s.records, 0)));
  std::vector<std::int64_t> lines;
  std::vector<CsvRowError> rejected;
  const std::int64_t end_line = s.locate(text, records, lines, rejected);
  chunk.data = Dataset{};
  chunk.data.source = s.file_path;
  chunk.data.columns = std::move(records.columns);
  chunk.lines = std::move(lines);
  chunk.rejected = std::move(rejected);
  chunk.first_line = s.line;
  chunk.end_offset = s.consumed_before + cut;
  chunk.text.clear();
  chunk.record_offsets.clear();
  if (s.options.keep_records) {
    chunk.text.assign(text);
    chunk.record_offsets = std::move(records.row_offsets);
  }
  s.line = end_line;
  s.records_seen += chunk.rows() + static_cast<std::int64_t>(chunk.rejected.size());
  // A full chunk ends where counting stopped, so the parity state carries over unchanged.
  s.begin = s.boundary = s.scan = cut;
  s.quoted = false;
  s.records = 0;
  if (chunk.rows() == 0 && chunk.rejected.empty()) return next(chunk);  // only blank lines
  return true;
}

}  // namespace tabula::io

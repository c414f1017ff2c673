#include "training/streamed_file.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include "io/columnar/columnar.hpp"
#include "io/sql/sql_source.hpp"
#include "tabula/core/error.hpp"
#include "training/labelled_table.hpp"

namespace tabula {
namespace {

// io::is_pandas_index decided row by row over the leading columns that may be one (selected as
// text, in order): an unnamed column always is; an "Unnamed: <k>" column while every value is
// its row number.
class IndexColumns {
 public:
  explicit IndexColumns(const std::vector<std::string>& header) {
    for (const std::string& name : header) {
      if (!name.empty() && !name.starts_with("Unnamed: ")) break;
      names_.push_back(name);
      still_.push_back(true);
    }
  }

  std::vector<io::StreamColumn> columns() const {
    std::vector<io::StreamColumn> out;
    for (const std::string& name : names_) out.push_back({name, io::StreamColumnKind::kText});
    return out;
  }

  void check(const Dataset& chunk, std::int64_t chunk_row, std::int64_t row) {
    for (std::size_t c = 0; c < names_.size(); ++c) {
      if (!still_[c] || names_[c].empty()) continue;
      const Column& column = chunk.columns[c];
      const std::string& text =
          column.categories[static_cast<std::size_t>(column.codes[chunk_row])];
      std::int64_t value = -1;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      still_[c] = ec == std::errc() && ptr == text.data() + text.size() && value == row;
    }
  }

  /// How many leading columns are index columns.
  std::size_t count() const {
    std::size_t n = 0;
    while (n < still_.size() && still_[n]) ++n;
    return n;
  }

 private:
  std::vector<std::string> names_;
  std::vector<bool> still_;
};

// `message` ("path:LINE: ...", LINE in the sample's text) with LINE told in the file: the line
// of the record holding it, plus the lines before it within the record.
std::string in_file_lines(const std::string& message, const std::string& path,
                          const std::vector<std::int64_t>& text_lines,
                          const std::vector<std::int64_t>& record_lines) {
  const std::string prefix = path + ":";
  if (!message.starts_with(prefix)) return message;
  std::int64_t line = 0;
  const char* begin = message.data() + prefix.size();
  const auto [end, ec] = std::from_chars(begin, message.data() + message.size(), line);
  if (ec != std::errc() || *end != ':' || text_lines.empty() || line < text_lines.front())
    return message;
  const auto record = std::upper_bound(text_lines.begin(), text_lines.end(), line) - 1;
  const std::int64_t in_file =
      record_lines[static_cast<std::size_t>(record - text_lines.begin())] + (line - *record);
  return prefix + std::to_string(in_file) + std::string(end);
}

}  // namespace

bool streams_as_text(const std::string& path) {
  return !io::is_sql_url(path) && io::columnar_format_of_file(path) == io::ColumnarFormat::kNone;
}

// long: the first pass: every record scanned (no field parsed but those of possible index
// columns), the sampled records kept as written, then parsed together as read_csv parses a file.
SampledFile sample_file(const std::string& path, const io::CsvOptions& csv, std::uint64_t seed,
                        std::int64_t capacity) {
  SampledFile file;
  file.path = path;
  file.stream.delimiter = csv.delimiter;
  file.stream.decimal = csv.decimal;
  file.stream.encoding = csv.encoding;
  file.stream.na_values = csv.na_values;
  file.stream.max_field_bytes = csv.max_field_bytes;
  file.stream.number_hint =
      "the column holds numbers in the sampled rows; --categorical NAME reads it as text";
  io::CsvStreamOptions first = file.stream;
  first.keep_records = true;
  io::CsvStream stream(path, first);
  file.stream.delimiter = stream.delimiter();
  const std::vector<std::string>& header = stream.header();
  IndexColumns index(header);
  stream.select(index.columns());
  ReservoirSample reservoir(capacity, seed);
  std::vector<std::string> records;
  std::vector<std::int64_t> record_lines;  // per slot: the file line its record starts on
  io::CsvChunk chunk;
  std::int64_t row = 0;
  while (stream.next(chunk)) {
    const std::vector<std::size_t>& starts = chunk.record_offsets;
    for (std::size_t r = 0; r < starts.size(); ++r, ++row) {
      index.check(chunk.data, static_cast<std::int64_t>(r), row);
      const std::optional<std::int64_t> slot = reservoir.offer(row);
      if (!slot) continue;
      if (*slot == static_cast<std::int64_t>(records.size())) {
        records.emplace_back();
        record_lines.push_back(0);
      }
      record_lines[static_cast<std::size_t>(*slot)] = chunk.lines[r];
      const std::size_t end = r + 1 < starts.size() ? starts[r + 1] : chunk.text.size();
      std::string& record = records[static_cast<std::size_t>(*slot)];
      record.assign(chunk.text, starts[r], end - starts[r]);
      if (record.empty() || record.back() != '\n') record += '\n';  // the file's last record
    }
  }
  file.rows = row;
  // The sample as a table in memory, read by the CSV reader itself: the same types, missing
  // values and checks as read_csv on these rows.
  std::string text;
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (c > 0) text += file.stream.delimiter;
    io::append_csv_field(text, header[c], file.stream.delimiter);
  }
  text += '\n';
  // The sample text's line where each record starts: an error the parse names by its line in
  // the sample is told by its line in the file.
  std::vector<std::int64_t> text_lines;
  std::int64_t text_line = 2;
  for (const std::string& record : records) {
    text_lines.push_back(text_line);
    text_line += std::count(record.begin(), record.end(), '\n');
    text += record;
  }
  records = {};
  io::CsvOptions parse = csv;
  parse.delimiter = file.stream.delimiter;
  parse.encoding.clear();  // the stream gave UTF-8
  parse.drop_index_columns = false;
  try {
    file.sample = io::parse_csv(text, path, parse);
  } catch (const InputError& e) {
    throw InputError(in_file_lines(e.what(), path, text_lines, record_lines));
  }
  for (std::size_t c = index.count(); c > 0; --c) {
    spdlog::info("{}: column '{}' is a row index as pandas writes it: not read", path,
                 file.sample.columns.front().name);
    file.sample.columns.erase(file.sample.columns.begin());
  }
  return file;
}

FilePasses::FilePasses(Backend& backend, const SampledFile& file, const Pipeline& pipeline,
                       std::vector<float> sample, std::vector<double> sample_weight,
                       std::string weight_column)
    : backend_(backend),
      file_(file),
      pipeline_(pipeline),
      sample_(std::move(sample)),
      sample_weight_(std::move(sample_weight)),
      weight_column_(std::move(weight_column)) {}

MatrixView<const float> FilePasses::sample() const {
  const std::int64_t d = pipeline_.n_outputs();
  return MatrixView<const float>::row_major(sample_.data(),
                                            static_cast<std::int64_t>(sample_.size()) / d, d);
}

// long: one pass: the file streamed again with the columns the pipeline reads (and the weights),
// each chunk encoded and handed over; the weights checked as prepare_labelled_table checks them.
void FilePasses::pass(const std::function<bool(const RowBlock&)>& visit) {
  io::CsvStream stream(file_.path, file_.stream);
  std::vector<io::StreamColumn> columns;
  for (const auto& [name, type] : pipeline_.input_columns())
    columns.push_back({name, type == ColumnType::kNumeric ? io::StreamColumnKind::kNumeric
                                                          : io::StreamColumnKind::kCategorical});
  if (!weight_column_.empty()) columns.push_back({weight_column_, io::StreamColumnKind::kNumeric});
  stream.select(columns);
  const std::int64_t header_column =  // 1-based, for messages
      std::find(stream.header().begin(), stream.header().end(), weight_column_) -
      stream.header().begin() + 1;
  io::CsvChunk chunk;
  std::int64_t first_row = 0;
  std::vector<double> weights;
  bool stopped = false;
  while (!stopped && stream.next(chunk)) {
    weights.clear();
    if (!weight_column_.empty()) {
      const std::int64_t c = *chunk.data.find(weight_column_);
      weights = chunk.data.columns[static_cast<std::size_t>(c)].numeric;
      for (std::size_t r = 0; r < weights.size(); ++r)
        if (!(std::isfinite(weights[r]) && weights[r] >= 0.0))
          throw InputError(describe_location(file_.path, chunk.lines[r], header_column,
                                             weight_column_,
                                             "weight is missing or not a finite non-negative "
                                             "number"));
    }
    std::vector<float> x;
    try {
      x = pipeline_.transform(backend_, chunk.data);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + " (" + file_.path + ", the chunk of lines " +
                       std::to_string(chunk.lines.front()) + " to " +
                       std::to_string(chunk.lines.back()) + ")");
    }
    const RowBlock block{
        MatrixView<const float>::row_major(x.data(), chunk.rows(), pipeline_.n_outputs()), weights,
        first_row};
    first_row += chunk.rows();
    if (first_row > file_.rows) break;
    stopped = !visit(block);
  }
  if (!stopped && first_row != file_.rows)
    throw InputError(
        file_.path + ": the file changed while it was read: " + std::to_string(file_.rows) +
        " data rows in the first pass, " +
        (first_row > file_.rows ? "more" : std::to_string(first_row)) + " in a later one");
}

}  // namespace tabula

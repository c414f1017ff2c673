// predict / transform over a CSV file as a three-stage stream: reader thread (CsvStream) ->
// scorer (this thread: features + estimator on the backend) -> writer thread (formatting and
// large writes). Queues of kQueueDepth chunks between the stages bound the memory; one reader,
// one scorer and one writer with FIFO queues keep the input order.
#include "tabula/scoring/batch_predict.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "io/columnar/columnar.hpp"
#include "io/path_identity.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv_stream.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula {
namespace {

constexpr std::size_t kQueueDepth = 2;
constexpr std::size_t kWriteBytes = std::size_t{4} << 20;  // one write() per this much output
constexpr std::size_t kNpyHeaderBytes = 128;               // fixed, so it can be rewritten

/// A FIFO of at most `capacity` items between two threads. close(): no more items, pop drains
/// what is left; abort(): both sides give up at once.
template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  /// False when the queue was aborted (the item is dropped).
  bool push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return aborted_ || items_.size() < capacity_; });
    if (aborted_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  /// Empty when closed and drained, or aborted.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return aborted_ || closed_ || !items_.empty(); });
    if (aborted_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
  bool aborted_ = false;
};

std::string system_error(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

/// An output file written under a temporary name in its final folder; removed unless
/// commit() renamed it into place.
class PendingFile {
 public:
  explicit PendingFile(std::string path) : path_(std::move(path)) {
    namespace fs = std::filesystem;
    const fs::path target(path_);
    folder_ = target.has_parent_path() ? target.parent_path().string() : ".";
    std::random_device entropy;
    temp_ = (fs::path(folder_) /
             fmt::format(".{}.tmp.{}.{:x}", target.filename().string(), ::getpid(), entropy()))
                .string();
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(system_error("cannot create a temporary file for", path_));
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }

  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(system_error("cannot write", path_));
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void write_at(off_t offset, std::string_view bytes) {
    if (::pwrite(fd_, bytes.data(), bytes.size(), offset) != static_cast<ssize_t>(bytes.size()))
      throw Error(system_error("cannot write", path_));
  }
  /// Flushes and closes; the file keeps its temporary name.
  void finish() {
    if (::fsync(fd_) != 0) throw Error(system_error("cannot flush", path_));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw Error(system_error("cannot close", path_));
  }
  void commit() {
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
      throw Error(system_error("cannot rename the temporary file to", path_));
    committed_ = true;
    const int dir = ::open(folder_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {  // persisting the rename is best effort: it cannot be undone anyway
      ::fsync(dir);
      ::close(dir);
    }
  }

 private:
  std::string path_, folder_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

std::string csv_field(std::string_view text) {
  std::string out;
  io::append_csv_field(out, text);
  return out;
}

/// Shortest text that reads back to the same double; "nan" for NaN.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  char text[32];
  const char* end = fmt::format_to(text, "{}", v);
  out.append(text, static_cast<std::size_t>(end - text));
}

// `width` 0: a 1-D array of `rows`.
std::string npy_header(std::int64_t rows, std::int64_t width) {
  std::string dict = width > 0 ? fmt::format(
                                     "{{'descr': '<f8', 'fortran_order': False, "
                                     "'shape': ({}, {}), }}",
                                     rows, width)
                               : fmt::format(
                                     "{{'descr': '<f8', 'fortran_order': False, "
                                     "'shape': ({},), }}",
                                     rows);
  const std::size_t header_len = kNpyHeaderBytes - 10;
  dict.resize(header_len - 1, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header_len & 0xff);
  out += static_cast<char>(header_len >> 8);
  return out + dict;
}

enum class Job { kPredict, kProba, kTransform };

/// Everything fixed before the first row is read.
struct Plan {
  Job job = Job::kPredict;
  bool npy = false;
  bool parquet = false;                    // a Parquet file: typed columns, a row group per chunk
  std::int64_t width = 1;                  // values per output row
  std::vector<std::string> value_columns;  // their header names
  std::vector<std::string> label_fields;   // classifier predict to CSV: label per class
  std::vector<double> label_numbers;       // classifier predict to .npy: label per class
  std::vector<std::string> labels;         // classifier predict to Parquet: label per class
  std::vector<std::string> pass_columns;   // id then kept columns, copied through
};

/// A rejected row, for the rejects file.
struct Rejected {
  std::int64_t line = 0;
  std::string column;
  std::string reason;
};

/// A chunk on its way to the writer.
struct Scored {
  io::CsvChunk chunk;              // the pass-through columns, line numbers
  std::vector<char> dropped;       // per chunk row, 1: rejected after parsing (empty: none)
  std::vector<Rejected> rejected;  // this chunk's rejects, in line order
  std::vector<double> values;      // kept rows x width
};

/// The columns every chunk must have, by model type and pass-through.
std::vector<io::StreamColumn> stream_columns(const ModelSchema& schema, const Plan& plan) {
  std::vector<io::StreamColumn> columns;
  for (const FeatureSpec& f : schema.features)
    columns.push_back({f.name, f.type == ColumnType::kNumeric
                                   ? io::StreamColumnKind::kNumeric
                                   : io::StreamColumnKind::kCategorical});
  for (const std::string& name : plan.pass_columns) {
    const bool feature = std::any_of(schema.features.begin(), schema.features.end(),
                                     [&](const FeatureSpec& f) { return f.name == name; });
    const bool listed = std::any_of(columns.begin(), columns.end(),
                                    [&](const io::StreamColumn& c) { return c.name == name; });
    if (!feature && !listed) columns.push_back({name, io::StreamColumnKind::kText});
  }
  return columns;
}

std::string name_list(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& c : names) list += (list.empty() ? "'" : ", '") + c + "'";
  return list;
}

/// Checks the header against what the job needs; returns the notes (ignored columns).
std::vector<std::string> check_header(const io::CsvStream& stream, const ModelSchema& schema,
                                      const Plan& plan) {
  const std::vector<std::string>& header = stream.header();
  auto has = [&](const std::string& name) {
    return std::find(header.begin(), header.end(), name) != header.end();
  };
  std::vector<std::string> missing;
  for (const FeatureSpec& f : schema.features)
    if (!has(f.name)) missing.push_back(f.name);
  if (!missing.empty())
    throw InputError(stream.path() + ": missing " + std::to_string(missing.size()) +
                     " column(s) the model needs: " + name_list(missing));
  for (const std::string& name : plan.pass_columns)
    if (!has(name))
      throw InputError(stream.path() + ": no column '" + name +
                       "' to copy to the output; columns: " + name_list(header));
  std::vector<std::string> ignored;
  for (const std::string& name : header) {
    const bool used = std::any_of(schema.features.begin(), schema.features.end(),
                                  [&](const FeatureSpec& f) { return f.name == name; }) ||
                      std::find(plan.pass_columns.begin(), plan.pass_columns.end(), name) !=
                          plan.pass_columns.end();
    if (!used) ignored.push_back(name);
  }
  std::vector<std::string> notes;
  if (!ignored.empty())
    notes.push_back("ignored " + std::to_string(ignored.size()) +
                    " column(s) the model does not use: " + name_list(ignored));
  return notes;
}

/// Stop mode: the chunk's first bad row found while parsing, as an error.
void stop_at_parse_error(const io::CsvChunk& chunk) {
  if (chunk.rejected.empty()) return;
  const io::CsvRowError& e = chunk.rejected.front();
  throw InputError(describe_location(chunk.data.source, e.line, e.column, e.column_name, e.reason));
}

/// Scores one chunk: the pipeline's features, then the estimator. Rows the pipeline cannot
/// encode (an unseen category under handle_unknown=error) stop the job or are dropped. The
/// reader always drops bad rows into chunk.rejected, so that in stop mode the first bad row of
/// the chunk, found by the parser or by the pipeline, is the one reported.
Scored score(const Predictor& predictor, const Plan& plan, OnError on_error, io::CsvChunk chunk) {
  Scored out;
  for (const io::CsvRowError& e : chunk.rejected)
    out.rejected.push_back({e.line, e.column_name, e.reason});
  const std::int64_t n = chunk.rows();
  if (n == 0 && on_error == OnError::kStop) stop_at_parse_error(chunk);
  if (n > 0) {
    std::vector<RowError> row_errors;
    const std::vector<float> x = predictor.features(chunk.data, {}, &row_errors);
    std::sort(row_errors.begin(), row_errors.end(),
              [](const RowError& a, const RowError& b) { return a.row < b.row; });
    if (on_error == OnError::kStop) {
      if (!row_errors.empty()) {
        const RowError& e = row_errors.front();
        const std::int64_t line = chunk.lines[static_cast<std::size_t>(e.row)];
        if (chunk.rejected.empty() || line < chunk.rejected.front().line)
          throw InputError(describe_location(chunk.data.source, line, 0, e.column, e.reason));
      }
      stop_at_parse_error(chunk);
    }
    if (!row_errors.empty()) {
      out.dropped.assign(static_cast<std::size_t>(n), 0);
      for (const RowError& e : row_errors) {
        if (out.dropped[static_cast<std::size_t>(e.row)]) continue;  // one reason per row
        out.dropped[static_cast<std::size_t>(e.row)] = 1;
        out.rejected.push_back({chunk.lines[static_cast<std::size_t>(e.row)], e.column, e.reason});
      }
    }
    const auto d = static_cast<std::int64_t>(x.size()) / n;
    const auto view = MatrixView<const float>::row_major(x.data(), n, d);
    const Estimator& estimator = predictor.estimator();
    switch (plan.job) {
      case Job::kPredict:
        out.values = predictor.predict(view);
        break;
      case Job::kProba:
        out.values = predictor.predict_proba(view);
        break;
      case Job::kTransform:
        out.values = predictor.transform(view);
        break;
    }
    if (out.values.size() != static_cast<std::size_t>(n * plan.width))
      throw Error("model '" + estimator.name() + "' returned " + std::to_string(out.values.size()) +
                  " values for " + std::to_string(n) + " rows x " + std::to_string(plan.width) +
                  " outputs");
    if (plan.job == Job::kPredict && (!plan.label_fields.empty() || !plan.label_numbers.empty())) {
      const std::size_t classes = std::max(plan.label_fields.size(), plan.label_numbers.size());
      for (std::size_t i = 0; i < out.values.size(); ++i) {
        const double v = out.values[i];
        if (!out.dropped.empty() && out.dropped[i]) continue;  // never written
        if (!(v >= 0) || static_cast<std::size_t>(v) >= classes)
          throw Error(fmt::format("model '{}' predicted class index {} outside its {} classes",
                                  estimator.name(), v, classes));
      }
    }
  }
  std::sort(out.rejected.begin(), out.rejected.end(),
            [](const Rejected& a, const Rejected& b) { return a.line < b.line; });
  out.chunk = std::move(chunk);
  return out;
}

/// Formats and writes the scored chunks; owns the output and rejects files until commit.
class Writer {
 public:
  Writer(const Plan& plan, const std::string& out_path, const std::string& rejects_path,
         const BatchOptions& options, std::uint64_t bytes_total)
      : plan_(plan), out_(out_path), options_(options), bytes_total_(bytes_total) {
    if (!rejects_path.empty()) {
      rejects_.emplace(rejects_path);
      rejects_->write("line,column,reason\n");
    }
    if (plan_.npy) {
      out_.write(std::string(kNpyHeaderBytes, ' '));  // the real header comes at the end
    } else if (plan_.parquet) {
      parquet_ =
          io::open_parquet_sink(out_path, [this](std::string_view bytes) { out_.write(bytes); });
    } else {
      std::vector<std::string> header = plan_.pass_columns;
      header.insert(header.end(), plan_.value_columns.begin(), plan_.value_columns.end());
      for (std::size_t j = 0; j < header.size(); ++j) {
        if (j) buffer_ += ',';
        io::append_csv_field(buffer_, header[j]);
      }
      buffer_ += '\n';
    }
    buffer_.reserve(kWriteBytes + (std::size_t{1} << 16));
  }

  void write(const Scored& s) {
    const io::CsvChunk& chunk = s.chunk;
    std::vector<const Column*> pass;
    for (const std::string& name : plan_.pass_columns) pass.push_back(&chunk.data.column(name));
    const std::int64_t n = chunk.rows();
    const auto width = static_cast<std::size_t>(plan_.width);
    if (parquet_) {
      write_parquet(s, pass);
      parquet_written_ = true;
    }
    for (std::int64_t i = 0; i < n && !parquet_; ++i) {
      if (!s.dropped.empty() && s.dropped[static_cast<std::size_t>(i)]) continue;
      const double* v = s.values.data() + static_cast<std::size_t>(i) * width;
      if (plan_.npy) {
        if (!plan_.label_numbers.empty()) {
          const double label = plan_.label_numbers[static_cast<std::size_t>(v[0])];
          buffer_.append(reinterpret_cast<const char*>(&label), sizeof label);
        } else {
          buffer_.append(reinterpret_cast<const char*>(v), width * sizeof(double));
        }
      } else {
        for (const Column* c : pass) {
          if (c->type == ColumnType::kNumeric) {
            const double x = c->numeric[static_cast<std::size_t>(i)];
            if (!std::isnan(x)) append_number(buffer_, x);
          } else {
            const std::int32_t code = c->codes[static_cast<std::size_t>(i)];
            if (code >= 0)
              io::append_csv_field(buffer_, c->categories[static_cast<std::size_t>(code)]);
          }
          buffer_ += ',';
        }
        if (!plan_.label_fields.empty()) {
          buffer_ += plan_.label_fields[static_cast<std::size_t>(v[0])];
        } else {
          for (std::size_t j = 0; j < width; ++j) {
            if (j) buffer_ += ',';
            append_number(buffer_, v[j]);
          }
        }
        buffer_ += '\n';
      }
      ++rows_;
      if (buffer_.size() >= kWriteBytes) flush();
    }
    if (rejects_ && !s.rejected.empty()) {
      std::string text;
      for (const Rejected& r : s.rejected) {
        text += std::to_string(r.line);
        text += ',';
        io::append_csv_field(text, r.column);
        text += ',';
        io::append_csv_field(text, r.reason);
        text += '\n';
      }
      rejects_->write(text);
    }
    rejected_ += static_cast<std::int64_t>(s.rejected.size());
    if (options_.progress) options_.progress({rows_, rejected_, chunk.end_offset, bytes_total_});
  }

  /// Completes both files under their temporary names.
  void finish() {
    if (parquet_) {
      if (!parquet_written_) write_empty_parquet();
      parquet_->close();
    }
    flush();
    // predict writes a 1-D array; probabilities and transforms are rows x width even when
    // width is 1.
    if (plan_.npy)
      out_.write_at(0, npy_header(rows_, plan_.job == Job::kPredict ? 0 : plan_.width));
    out_.finish();
    if (rejects_) rejects_->finish();
  }
  /// Moves both files into place.
  void commit() {
    out_.commit();
    if (rejects_) rejects_->commit();
  }

  std::int64_t rows() const { return rows_; }
  std::int64_t rejected() const { return rejected_; }

 private:
  void flush() {
    out_.write(buffer_);
    buffer_.clear();
  }

  /// The chunk's kept rows as typed columns: pass-through columns as read, then the prediction
  /// (class labels as text) or the value columns (float64).
  void write_parquet(const Scored& s, const std::vector<const Column*>& pass) {
    const std::int64_t n = s.chunk.rows();
    std::vector<std::size_t> kept;
    for (std::int64_t i = 0; i < n; ++i)
      if (s.dropped.empty() || !s.dropped[static_cast<std::size_t>(i)])
        kept.push_back(static_cast<std::size_t>(i));
    std::vector<Column> columns;
    for (const Column* c : pass) {
      Column& out = columns.emplace_back();
      out.name = c->name;
      out.type = c->type;
      out.categories = c->categories;
      for (std::size_t i : kept)
        if (c->type == ColumnType::kNumeric)
          out.numeric.push_back(c->numeric[i]);
        else
          out.codes.push_back(c->codes[i]);
    }
    append_parquet_values(columns, s.values.data(), kept);
    parquet_->write(columns);
    rows_ += static_cast<std::int64_t>(kept.size());
  }

  /// The prediction (class labels as text) or the value columns (float64) of the `kept` rows.
  void append_parquet_values(std::vector<Column>& columns, const double* values,
                             const std::vector<std::size_t>& kept) const {
    const auto width = static_cast<std::size_t>(plan_.width);
    for (std::size_t j = 0; j < (plan_.labels.empty() ? width : 1); ++j) {
      Column& out = columns.emplace_back();
      out.name = plan_.value_columns[j];
      if (!plan_.labels.empty()) {
        out.type = ColumnType::kCategorical;
        out.categories = plan_.labels;
      }
      for (std::size_t r : kept) {
        const double v = values[r * width + j];
        if (plan_.labels.empty())
          out.numeric.push_back(v);
        else
          out.codes.push_back(static_cast<std::int32_t>(v));
      }
    }
  }

  /// A file with no rows still names its columns (pass-through columns as text: none was read).
  void write_empty_parquet() {
    std::vector<Column> columns;
    for (const std::string& name : plan_.pass_columns) {
      Column& out = columns.emplace_back();
      out.name = name;
      out.type = ColumnType::kCategorical;
    }
    append_parquet_values(columns, nullptr, {});
    parquet_->write(columns);
  }

  const Plan& plan_;
  PendingFile out_;
  std::optional<PendingFile> rejects_;
  const BatchOptions& options_;
  std::uint64_t bytes_total_;
  std::string buffer_;
  std::unique_ptr<io::ParquetSink> parquet_;
  bool parquet_written_ = false;
  std::int64_t rows_ = 0;
  std::int64_t rejected_ = 0;
};

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The options with the model's id column (`train --id`) copied first when the job names none
/// and the input has it (not into .npy, which holds numbers only); each choice is a note.
BatchOptions with_model_id(BatchOptions options, const ModelSchema& schema,
                           const std::vector<std::string>& header, const std::string& out_path,
                           std::vector<std::string>& notes) {
  const std::string& id = schema.id_column;
  if (id.empty() || !options.id_column.empty()) return options;
  if (ends_with(out_path, ".npy")) {
    notes.push_back("the model's id column '" + id + "' is not copied to .npy output");
  } else if (std::find(header.begin(), header.end(), id) == header.end()) {
    notes.push_back("the input has no column '" + id + "', the model's id column: not copied");
  } else {
    options.id_column = id;
    notes.push_back("copied the model's id column '" + id + "' to the output");
  }
  return options;
}

Plan make_plan(const LoadedModel& model, Job job, const std::string& model_path,
               const std::string& out_path, const BatchOptions& options) {
  const Estimator& estimator = *model.estimator;
  const ModelSchema& schema = model.schema;
  Plan plan;
  plan.job = job;
  plan.npy = ends_with(out_path, ".npy");
  plan.parquet = ends_with(out_path, ".parquet");
  if (!options.id_column.empty()) plan.pass_columns.push_back(options.id_column);
  for (const std::string& c : options.keep_columns)
    if (std::find(plan.pass_columns.begin(), plan.pass_columns.end(), c) == plan.pass_columns.end())
      plan.pass_columns.push_back(c);
  if (plan.npy && !plan.pass_columns.empty())
    throw InputError("--id-column and --keep-columns need CSV or Parquet output; '" + out_path +
                     "' is a .npy file, which holds numbers only");
  if (options.chunk_rows < 1)
    throw InputError("--chunk-rows must be at least 1, got " + std::to_string(options.chunk_rows));
  switch (job) {
    case Job::kTransform:
      plan.width = estimator.n_outputs();
      // PCA's components pc1, pc2, ...; a clustering's distance to centre 0, 1, ... (the
      // cluster indices predict gives).
      for (std::int64_t j = 0; j < plan.width; ++j)
        plan.value_columns.push_back(estimator.task() == Task::kClustering
                                         ? "distance_" + std::to_string(j)
                                         : "pc" + std::to_string(j + 1));
      break;
    case Job::kProba:
      plan.width = static_cast<std::int64_t>(schema.class_labels.size());
      for (const std::string& label : schema.class_labels)
        plan.value_columns.push_back("proba_" + label);
      break;
    case Job::kPredict:
      plan.width = 1;
      plan.value_columns = {"prediction"};
      if (estimator.task() == Task::kClassification) {
        if (plan.parquet) {
          plan.labels = schema.class_labels;
        } else if (!plan.npy) {
          for (const std::string& label : schema.class_labels)
            plan.label_fields.push_back(csv_field(label));
        } else if (!schema.numeric_labels) {
          throw InputError(".npy output holds numbers, but model '" + model_path +
                           "' has text class labels (e.g. '" + schema.class_labels.front() +
                           "'): write CSV, or use --proba");
        } else {
          for (const std::string& label : schema.class_labels)
            plan.label_numbers.push_back(std::stod(label));
        }
      }
      break;
  }
  return plan;
}

// long: the three stages (reader, scorer, writer) are started, joined and their errors ranked
// in one place, so the order of failures (scorer, reader, writer) can be read at once.
BatchResult run_batch(Backend& backend, const LoadedModel& model, Job job,
                      const std::string& model_path, const std::string& data_path,
                      const std::string& out_path, const BatchOptions& options) {
  io::CsvStreamOptions stream_options = io::stream_options(options.csv);
  stream_options.chunk_rows = options.chunk_rows;
  // Bad rows always come back in the chunk; score() stops at the first one in stop mode.
  stream_options.skip_bad_rows = true;
  stream_options.number_hint = "the model was trained on numbers in this column";
  if (!options.csv.categorical.empty() || !options.csv.numeric.empty())
    throw InputError(
        "column types come from the model when scoring: --categorical and "
        "--numeric apply to train, tune and describe");
  io::CsvStream stream(data_path, stream_options);
  BatchResult result;
  const Plan plan =
      make_plan(model, job, model_path, out_path,
                with_model_id(options, model.schema, stream.header(), out_path, result.notes));
  const std::vector<std::string> header_notes = check_header(stream, model.schema, plan);
  result.notes.insert(result.notes.end(), header_notes.begin(), header_notes.end());
  stream.select(stream_columns(model.schema, plan));
  result.columns = plan.pass_columns;
  result.columns.insert(result.columns.end(), plan.value_columns.begin(), plan.value_columns.end());
  if (options.on_error == OnError::kSkip)
    result.rejects_path =
        options.rejects_path.empty() ? out_path + ".rejects.csv" : options.rejects_path;

  if (options.check_only) {
    io::CsvChunk chunk;
    while (stream.next(chunk)) {
      if (options.on_error == OnError::kStop) stop_at_parse_error(chunk);
      result.rows += chunk.rows();
      result.rejected += static_cast<std::int64_t>(chunk.rejected.size());
      if (options.progress)
        options.progress({result.rows, result.rejected, chunk.end_offset, stream.file_size()});
    }
    result.rejects_path.clear();
    return result;
  }

  // Before anything is written: the rename at the end would replace an input, or one output
  // would replace the other.
  io::check_outputs_distinct({{"--data", data_path}, {"--model", model_path}},
                             {{"--out", out_path}, {"--rejects", result.rejects_path}});
  // The model goes to the device once, before any output file exists.
  const Predictor predictor(backend, model);
  Writer writer(plan, out_path, result.rejects_path, options, stream.file_size());
  BoundedQueue<io::CsvChunk> parsed(kQueueDepth);
  BoundedQueue<Scored> scored(kQueueDepth);
  std::exception_ptr reader_error, scorer_error, writer_error;

  std::thread reader([&] {
    try {
      io::CsvChunk chunk;
      while (stream.next(chunk))
        if (!parsed.push(std::move(chunk))) return;
      parsed.close();
    } catch (...) {
      reader_error = std::current_exception();
      parsed.close();  // the scorer finishes the rows before the error, then stops
    }
  });
  std::thread writing([&] {
    try {
      while (std::optional<Scored> s = scored.pop()) writer.write(*s);
    } catch (...) {
      writer_error = std::current_exception();
      scored.abort();
      parsed.abort();
    }
  });
  try {
    while (std::optional<io::CsvChunk> chunk = parsed.pop())
      if (!scored.push(score(predictor, plan, options.on_error, std::move(*chunk)))) break;
    if (reader_error) scored.abort();  // a failed job writes nothing: no need to drain
    scored.close();
  } catch (...) {
    scorer_error = std::current_exception();
    scored.abort();
    parsed.abort();
  }
  reader.join();
  writing.join();
  // The scorer stops on rows before the reader's failing row; the writer's failure (a full
  // disk) stops both without an error of their own.
  if (scorer_error) std::rethrow_exception(scorer_error);
  if (reader_error) std::rethrow_exception(reader_error);
  if (writer_error) std::rethrow_exception(writer_error);
  writer.finish();
  writer.commit();
  result.rows = writer.rows();
  result.rejected = writer.rejected();
  return result;
}

LoadedModel load_for_predict(const std::string& model_path, bool proba) {
  LoadedModel loaded = load_model(model_path);
  const Task task = loaded.estimator->task();
  if (task == Task::kTransform)
    throw InputError("model file '" + model_path + "' holds a " + loaded.estimator->name() +
                     " model, which transforms data: use `tabula transform`");
  if (proba && task != Task::kClassification)
    throw InputError("--proba needs a classifier; model file '" + model_path + "' holds a " +
                     loaded.estimator->name() + " " + std::string(to_string(task)) + " model");
  return loaded;
}

}  // namespace

OnError parse_on_error(const std::string& text) {
  if (text == "stop") return OnError::kStop;
  if (text == "skip") return OnError::kSkip;
  throw InputError("--on-error: expected 'stop' or 'skip', got '" + text + "'");
}

BatchResult predict_file(Backend& backend, const std::string& model_path,
                         const std::string& data_path, const std::string& out_path,
                         const BatchOptions& options) {
  const LoadedModel model = load_for_predict(model_path, options.proba);
  return run_batch(backend, model, options.proba ? Job::kProba : Job::kPredict, model_path,
                   data_path, out_path, options);
}

BatchResult predict_file(Backend& backend, const std::string& model_path,
                         const std::string& data_path, const std::string& out_path, bool proba) {
  BatchOptions options;
  options.proba = proba;
  return predict_file(backend, model_path, data_path, out_path, options);
}

BatchResult transform_file(Backend& backend, const std::string& model_path,
                           const std::string& data_path, const std::string& out_path,
                           const BatchOptions& options) {
  const LoadedModel model = load_model(model_path);
  if (!is_unsupervised(model.estimator->task()))
    throw InputError("model file '" + model_path + "' holds a " + model.estimator->name() + " " +
                     std::string(to_string(model.estimator->task())) +
                     " model, which does not transform data: use `tabula predict`");
  if (options.proba) throw InputError("--proba applies to classifiers, not to transforms");
  return run_batch(backend, model, Job::kTransform, model_path, data_path, out_path, options);
}

BatchResult transform_file(Backend& backend, const std::string& model_path,
                           const std::string& data_path, const std::string& out_path) {
  return transform_file(backend, model_path, data_path, out_path, BatchOptions{});
}

}  // namespace tabula

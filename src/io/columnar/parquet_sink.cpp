// Parquet output through Arrow C++: a tabula Column becomes a float64 or string array, a batch a
// row group; the bytes go to the caller's writer (an arrow::io::OutputStream adapter).
#include "io/columnar/columnar.hpp"
#include "tabula/core/error.hpp"

#ifdef TABULA_WITH_ARROW
#include <arrow/api.h>
#include <arrow/io/interfaces.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>
#endif

namespace tabula::io {

#ifndef TABULA_WITH_ARROW

std::unique_ptr<ParquetSink> open_parquet_sink(const std::string& path,
                                               std::function<void(std::string_view)>) {
  throw InputError("'" + path +
                   "': Parquet output needs Apache Arrow, and this tabula was built "
                   "without it (scripts/setup.sh's .venv provides it; reconfigure), or write CSV");
}

#else

namespace {

void check(const arrow::Status& status, const std::string& path) {
  if (!status.ok()) throw Error("'" + path + "': cannot write Parquet: " + status.message());
}

/// An arrow::io::OutputStream over a callback.
class CallbackStream : public arrow::io::OutputStream {
 public:
  explicit CallbackStream(std::function<void(std::string_view)> write) : write_(std::move(write)) {}
  arrow::Status Close() override {
    closed_ = true;
    return arrow::Status::OK();
  }
  bool closed() const override { return closed_; }
  arrow::Result<std::int64_t> Tell() const override { return position_; }
  arrow::Status Write(const void* data, std::int64_t n) override {
    try {
      write_(std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(n)));
    } catch (const std::exception& e) {
      return arrow::Status::IOError(e.what());
    }
    position_ += n;
    return arrow::Status::OK();
  }

 private:
  std::function<void(std::string_view)> write_;
  std::int64_t position_ = 0;
  bool closed_ = false;
};

std::shared_ptr<arrow::Array> to_array(const Column& c, const std::string& path) {
  std::shared_ptr<arrow::Array> array;
  if (c.type == ColumnType::kNumeric) {
    arrow::DoubleBuilder builder;
    check(builder.AppendValues(c.numeric), path);
    check(builder.Finish(&array), path);
    return array;
  }
  arrow::StringBuilder builder;
  for (std::int32_t code : c.codes)
    check(code < 0 ? builder.AppendNull()
                   : builder.Append(c.categories[static_cast<std::size_t>(code)]),
          path);
  check(builder.Finish(&array), path);
  return array;
}

class ArrowParquetSink : public ParquetSink {
 public:
  ArrowParquetSink(std::string path, std::function<void(std::string_view)> write_bytes)
      : path_(std::move(path)), stream_(std::make_shared<CallbackStream>(std::move(write_bytes))) {}

  void write(const std::vector<Column>& columns) override {
    if (!writer_) open(columns);
    std::vector<std::shared_ptr<arrow::Array> > arrays;
    for (const Column& c : columns) arrays.push_back(to_array(c, path_));
    const std::int64_t rows = columns.empty() ? 0 : columns.front().size();
    try {
      // A row group per batch: the streaming scorer's memory stays one batch deep.
      check(writer_->NewBufferedRowGroup(), path_);
      check(writer_->WriteRecordBatch(*arrow::RecordBatch::Make(schema_, rows, arrays)), path_);
    } catch (const parquet::ParquetException& e) {
      throw Error("'" + path_ + "': cannot write Parquet: " + e.what());
    }
  }

  void close() override {
    if (!writer_) open({});
    try {
      check(writer_->Close(), path_);
    } catch (const parquet::ParquetException& e) {
      throw Error("'" + path_ + "': cannot write Parquet: " + e.what());
    }
  }

 private:
  void open(const std::vector<Column>& columns) {
    std::vector<std::shared_ptr<arrow::Field> > fields;
    for (const Column& c : columns)
      fields.push_back(
          arrow::field(c.name, c.type == ColumnType::kNumeric ? arrow::float64() : arrow::utf8()));
    schema_ = arrow::schema(fields);
    auto opened = parquet::arrow::FileWriter::Open(*schema_, arrow::default_memory_pool(), stream_);
    if (!opened.ok())
      throw Error("'" + path_ + "': cannot write Parquet: " + opened.status().message());
    writer_ = std::move(opened).ValueUnsafe();
  }

  std::string path_;
  std::shared_ptr<CallbackStream> stream_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
};

}  // namespace

std::unique_ptr<ParquetSink> open_parquet_sink(
    const std::string& path, std::function<void(std::string_view bytes)> write_bytes) {
  return std::make_unique<ArrowParquetSink>(path, std::move(write_bytes));
}

#endif

}  // namespace tabula::io

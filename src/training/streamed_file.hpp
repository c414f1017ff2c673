// `tabula train` on a file read in passes, never whole, for models that fit that way
// (Estimator::fits_in_passes: mini-batch k-means). A first pass counts the rows and keeps a
// uniform sample of them (ReservoirSample) as text; the sample is parsed as `read_csv` parses a
// file, so the table preparation, the pipeline, the metrics and the drift profile work on it as
// on a table in memory; the model then reads every row in passes through the fitted pipeline.
// A file of at most ReservoirSample::kDefaultCapacity rows is sampled whole, in order: the model
// is then the one fitted on the file in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/io/csv_stream.hpp"
#include "tabula/models/row_passes.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {

/// A text table file sampled by its first pass.
struct SampledFile {
  std::string path;
  io::CsvStreamOptions stream;  // how every pass reads it (its delimiter, NA strings, encoding)
  std::int64_t rows = 0;        // the file's data rows
  /// The sampled rows parsed (the target split off when named), sample slot order; every row
  /// when rows <= the capacity.
  Dataset sample;
};

/// Whether `path` is read in passes by train: a text file (CSV, TSV, compressed or not), not a
/// SQL source nor a columnar file.
bool streams_as_text(const std::string& path);

/// The first pass. InputError naming the file, line and column as read_csv does for what it
/// checks while streaming (bad quoting, ragged rows, empty file, bad encoding).
SampledFile sample_file(const std::string& path, const io::CsvOptions& csv, std::uint64_t seed,
                        std::int64_t capacity = ReservoirSample::kDefaultCapacity);

/// The rows of a sampled file through a fitted pipeline: each pass streams the file again and
/// hands over the pipeline's output chunk by chunk. `sample` is the pipeline's output on the
/// sample, `sample_weight` its weights; `weight_column` (empty: none) is read with the features
/// and checked on every row.
class FilePasses final : public RowPasses {
 public:
  FilePasses(Backend& backend, const SampledFile& file, const Pipeline& pipeline,
             std::vector<float> sample, std::vector<double> sample_weight,
             std::string weight_column);
  std::int64_t rows() const override { return file_.rows; }
  std::int64_t cols() const override { return pipeline_.n_outputs(); }
  MatrixView<const float> sample() const override;
  std::span<const double> sample_weight() const override { return sample_weight_; }
  void pass(const std::function<bool(const RowBlock&)>& visit) override;

 private:
  Backend& backend_;
  const SampledFile& file_;
  const Pipeline& pipeline_;
  std::vector<float> sample_;
  std::vector<double> sample_weight_;
  std::string weight_column_;
};

}  // namespace tabula

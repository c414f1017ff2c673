// The reference profile of a model's training data, stored in its artifact so that what the
// model later receives can be compared with what it learnt from: per input column, fine bins
// and the share of training rows in each (numeric: bins between percentiles; text: one bin per
// category) and the share missing; the same for the model's own predictions. Drift statistics
// (monitoring/drift.hpp) are computed from bin counts against these shares, by `tabula monitor`
// on a file and by the server over a rolling window.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/core/dataset.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/models/task.hpp"

namespace tabula {
class ArtifactWriter;
class Backend;
class Communicator;
class Pipeline;
class ArtifactReader;
struct ModelSchema;
}  // namespace tabula

namespace tabula::monitoring {

/// Numeric columns: edges at the 1st..99th percentiles (duplicates dropped), so at most 100 bins.
inline constexpr std::int64_t kPercentileBins = 100;
/// Text columns: at most this many categories are listed (the most frequent); the rest share
/// one "other" bin, and the share of unseen values is then unknown.
inline constexpr std::int64_t kMaxProfileCategories = 1000;
/// Reference rows profiled: an evenly spaced sample of the training rows beyond this many.
inline constexpr std::int64_t kMaxProfileRows = 100000;

/// How one column was distributed in the reference rows.
struct ColumnProfile {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  /// Numeric: bin b holds edges[b-1] <= v < edges[b] (edges finite, strictly increasing);
  /// edges.size() + 1 bins.
  std::vector<double> edges;
  /// Text: one bin per listed category (sorted by bytes), then one "other" bin for every value
  /// not listed. The prediction of a classifier or a clustering lists its labels in class order
  /// and is counted by class index (`by_index`).
  std::vector<std::string> categories;
  bool by_index = false;
  /// Text: every category of the reference rows is listed, so a value not listed is unseen.
  bool complete = true;
  /// The share of reference rows in each bin, then the share missing: bins() + 1 entries,
  /// summing to 1.
  std::vector<double> reference;
  std::int64_t rows = 0;  // reference rows profiled
  /// False for date columns: their values move with time by nature, so their statistics are
  /// reported but never make a drift verdict.
  bool judged = true;

  std::int64_t bins() const;
  /// The bin of a present numeric value (NaN: the caller counts it as missing).
  std::int64_t bin_of(double value) const;
  /// The bin of a category: its index among `categories`, or the "other" bin.
  std::int64_t bin_of(std::string_view category) const;
  bool operator==(const ColumnProfile&) const = default;
};

struct DriftProfile {
  std::vector<ColumnProfile> features;      // schema.features, in order
  std::optional<ColumnProfile> prediction;  // absent when no prediction was profiled
  std::int64_t rows = 0;                    // reference rows profiled
  std::string source;                       // which rows ("training rows", sample size)
  bool operator==(const DriftProfile&) const = default;
};

/// Profile of a numeric column's values (NaN = missing).
ColumnProfile profile_numeric(std::string name, std::span<const double> values);
/// Profile of a text column over `rows`.
ColumnProfile profile_categorical(const Column& column, std::span<const std::int64_t> rows);
/// Profile of class or cluster indices (NaN = missing) over `labels` in index order.
ColumnProfile profile_labels(std::string name, std::span<const double> indices,
                             std::vector<std::string> labels);

/// The values the server and `monitor` profile as "the prediction": the class or cluster index,
/// the regression value, or a transform's first output. `width` is the transform's output width.
struct PredictionValues {
  std::span<const double> predict;    // classification, clustering, regression
  std::span<const double> transform;  // transform: rows x width
  std::int64_t width = 0;
};
std::vector<double> prediction_values(Task task, const PredictionValues& values);

/// The reference rows profiled among `rows`: all of them up to kMaxProfileRows, else an evenly
/// spaced sample of that many (rows keep their order).
std::vector<std::int64_t> profile_sample(std::span<const std::int64_t> rows);

/// Profiles the columns of `data` called `names` over `rows` (a name the data lacks is an
/// InputError). The prediction is profiled apart (profile_prediction).
DriftProfile build_profile(const Dataset& data, std::span<const std::int64_t> rows,
                           std::span<const std::string> names);
/// The profile of the model's predictions (prediction_values): labels for a classifier (the
/// schema's class labels) or a clustering (cluster indices), numbers otherwise.
ColumnProfile profile_prediction(const Estimator& estimator, const ModelSchema& schema,
                                 std::span<const double> values);

/// What drift monitoring compares new data with: the input columns `pipeline` reads, over a
/// sample of the training rows, and the model's predictions on the held-out rows (the training
/// rows when none are held out), which resemble what it will answer on new data. `schema`
/// gives the class labels.
DriftProfile reference_profile(Backend& backend, const Pipeline& pipeline, const Estimator& model,
                               const ModelSchema& schema, const Dataset& data,
                               std::span<const std::int64_t> train_rows,
                               std::span<const std::int64_t> test_rows);

/// reference_profile of a fit over ranks (held-out rows: none), called by every rank with its
/// share `data`: every rank sends its rows of the profile sample (the rows one process samples
/// from the whole table: at most kMaxProfileRows in all) with the model's predictions on them,
/// and every rank profiles the gathered sample, so the profile is the one process's (its
/// prediction part within the rounding the model's fit has).
DriftProfile reference_profile_over_ranks(Communicator& comm, Backend& backend,
                                          const Pipeline& pipeline, const Estimator& model,
                                          const ModelSchema& schema, const Dataset& data);

/// reference_profile in two steps, for fits whose class labels are named later (the Python
/// estimators name them when they save): the input columns `pipeline` reads over a sample of
/// `rows` (profile_sample), and the model's prediction values (prediction_values) on that
/// sample, which profile_prediction turns into the prediction's profile.
DriftProfile profile_inputs(const Pipeline& pipeline, const Dataset& data,
                            std::span<const std::int64_t> rows);
std::vector<double> sample_predictions(Backend& backend, const Pipeline& pipeline,
                                       const Estimator& model, const Dataset& data,
                                       std::span<const std::int64_t> rows);
/// Completes a profile_inputs profile with the prediction's profile (profile_prediction of
/// sample_predictions' values) and its source line; held_out: the values come from held-out
/// rows rather than training rows.
void add_prediction(DriftProfile& profile, const Estimator& model, const ModelSchema& schema,
                    std::span<const double> values, bool held_out);

/// Stores the profile in an artifact (header "profile", arrays "profile.*").
void save_profile(const DriftProfile& profile, ArtifactWriter& out);
/// Reads and checks a stored profile against the schema (column names and types, sizes,
/// finite increasing edges, shares in [0, 1] summing to 1); nullopt when the file has none.
/// InputError naming the field otherwise.
std::optional<DriftProfile> load_profile(const ArtifactReader& in, const ModelSchema& schema,
                                         const Estimator& estimator);

}  // namespace tabula::monitoring

// Internal to the pipeline: the fitted state of each kind of step and the functions that fit
// them. Imputers and scalers are elementwise and compose into one Affine per column, so a chain
// of them costs one pass over the rows; encoders turn one text column into output columns;
// PCA mixes columns and runs on a row block.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {
class Communicator;
}  // namespace tabula

namespace tabula::pipeline {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Elementwise map of one column: a missing value becomes `fill` (NaN: stays missing), any
/// other x becomes scale * x + shift.
struct Affine {
  double fill = kNaN;
  double scale = 1.0;
  double shift = 0.0;

  double apply(double x) const { return std::isnan(x) ? fill : scale * x + shift; }
  /// This map followed by `next`.
  Affine then(const Affine& next) const {
    return {std::isnan(fill) ? next.fill : next.apply(fill), next.scale * scale,
            next.scale * shift + next.shift};
  }
};

/// A step's parameters read by name, checked against the names the step knows. InputError
/// names the step, the key and the value.
class StepParams {
 public:
  StepParams(const StepSpec& spec, std::initializer_list<std::string_view> known);
  const std::string* find(std::string_view key) const;
  std::string text(std::string_view key, std::string_view fallback) const;
  double number(std::string_view key, double fallback) const;
  bool flag(std::string_view key, bool fallback) const;
  /// Throws InputError "<step>: parameter key='value': expected <expected>".
  [[noreturn]] void bad(std::string_view key, std::string_view expected) const;
  const std::string& kind() const { return spec_.kind; }

 private:
  const StepSpec& spec_;
};

bool is_elementwise(const StepSpec& step);  // SimpleImputer, StandardScaler, MinMaxScaler
bool is_encoder(const StepSpec& step);      // OneHotEncoder, OrdinalEncoder
bool takes_text(const StepSpec& step);      // an encoder or DateFeatures: raw text columns
/// InputError for an unknown step kind or parameter (used by PipelineSpec::from_json).
void check_step(const StepSpec& step);

/// One elementwise step fitted on one numeric column (`values`: the training rows after the
/// earlier steps, NaN = missing). `attributes` receives the step's fitted attributes by
/// scikit-learn name (statistics_, mean_, scale_, ...). InputError when the column has no
/// present value on these rows. With `comm` (a fit over ranks, every rank calling with its own
/// rows) the statistics are those of every rank's rows: exact for the median, most_frequent,
/// min and max; sums (mean, variance) are merged in rank order, equal to one process's within
/// rounding (docs/distributed.md).
Affine fit_elementwise(const StepSpec& step, std::span<const double> values,
                       const std::string& column, nlohmann::json& attributes,
                       Communicator* comm = nullptr);
Affine fit_simple_imputer(const StepSpec& step, std::span<const double> values,
                          const std::string& column, nlohmann::json& attributes,
                          Communicator* comm);
Affine fit_standard_scaler(const StepSpec& step, std::span<const double> values,
                           const std::string& column, nlohmann::json& attributes,
                           Communicator* comm);
Affine fit_min_max_scaler(const StepSpec& step, std::span<const double> values,
                          const std::string& column, nlohmann::json& attributes,
                          Communicator* comm);

/// Counts of a text column over the training rows: distinct values sorted by bytes.
struct CategoryCounts {
  std::vector<std::string> values;
  std::vector<std::int64_t> counts;
  std::int64_t missing = 0;
  std::int64_t total() const;  // rows, missing included
};

/// `counts` of this rank's rows replaced by those of every rank's rows (values merged, still
/// sorted by bytes; counts and missing summed): what one process counts on all the rows. A
/// no-op when `comm` is null. Each rank sends its distinct values once (all-gather).
void merge_over_ranks(CategoryCounts& counts, Communicator* comm);

/// The distinct present values of a numeric column with their counts, ascending, over every
/// rank's `values` (NaN skipped; -0.0 counted with 0.0): SimpleImputer's most_frequent. Each
/// rank sends its distinct values once (all-gather; at most its rows).
std::vector<std::pair<double, std::int64_t>> value_counts_over_ranks(std::span<const double> values,
                                                                     Communicator* comm);

/// SimpleImputer on a text column (most_frequent or constant): the fill value. InputError for a
/// numeric-only strategy or a column with no present value.
std::string fit_text_imputer(const StepSpec& step, const CategoryCounts& counts,
                             const std::string& column, nlohmann::json& attributes);

/// A fitted OneHotEncoder, OrdinalEncoder or DateFeatures step of one text column.
struct Encoder {
  enum class Kind { kOneHot, kOrdinal, kDate };
  enum class Unknown { kError, kIgnore, kInfrequent, kValue };
  Kind kind = Kind::kOneHot;
  Unknown unknown = Unknown::kError;
  std::vector<std::string> categories;  // categories_: sorted by bytes
  /// Per category: one-hot output slot (infrequent ones share the last slot) or ordinal code.
  std::vector<std::int64_t> slot;
  std::int64_t infrequent_slot = -1;  // one-hot: the infrequent bucket's slot, -1 when none
  double unknown_value = kNaN;        // ordinal, Unknown::kValue
  std::int64_t width = 0;
  std::vector<std::string> output_names;
  // kDate: values are read with date_format (kIsoDate or strptime-style) into date_parts
  // ("year", "month", ..., "epoch"), one output each; categories stay empty.
  std::string date_format;
  std::vector<std::string> date_parts;

  /// Index of `value` in categories, or -1.
  std::int64_t find(std::string_view value) const;
};

Encoder fit_one_hot_encoder(const StepSpec& step, const CategoryCounts& counts,
                            const std::string& column, nlohmann::json& attributes,
                            std::vector<std::string>& notes);
Encoder fit_ordinal_encoder(const StepSpec& step, const CategoryCounts& counts,
                            const std::string& column, nlohmann::json& attributes);
/// DateFeatures: InputError naming the value that is not a date in the step's format.
Encoder fit_date_features(const StepSpec& step, const CategoryCounts& counts,
                          const std::string& column, nlohmann::json& attributes);
/// A kDate encoder's outputs for `text` into out[0, width); false when it is not a date.
bool date_values(const Encoder& e, std::string_view text, double* out);
/// A text column whose every distinct value is a date in `format`. With `comm`, decided over
/// every rank's share, as one process decides it on the whole table (every rank must call it
/// for the same column): a date column on every rank that holds any value of it.
bool is_date_column(const Column& column, std::string_view format, Communicator* comm = nullptr);
/// InputError (prefixed by `where`) for an empty list, an unknown or a repeated date part.
void check_date_parts(const std::vector<std::string>& parts, const std::string& where);
nlohmann::json encoder_to_json(const Encoder& encoder);
Encoder encoder_from_json(const nlohmann::json& j);

/// A fitted PCA step: out = ((x - mean) components_ᵀ) * scale, per row.
struct PcaMap {
  std::int64_t d = 0, k = 0;
  std::vector<double> mean;        // d
  std::vector<double> components;  // k x d row-major
  std::vector<double> scale;       // k: 1/sqrt(explained_variance_) when whitening, else 1
  /// rows x d (row-major, stride d) -> rows x k (stride k).
  void apply(const double* in, std::int64_t rows, double* out) const;
};

/// Fits sklearn.decomposition.PCA (through the Pca estimator) on `block` (rows x d).
/// InputError for missing values or more components than the input has.
PcaMap fit_pca(Backend& backend, const StepSpec& step, const std::vector<double>& block,
               std::int64_t rows, std::int64_t d, nlohmann::json& attributes,
               Communicator* comm = nullptr);

/// A step over a whole row block: the elementwise maps of every column, or a PCA.
struct MatrixOp {
  std::vector<Affine> maps;  // used when pca is empty
  std::optional<PcaMap> pca;
  std::int64_t width_in = 0, width_out = 0;
  /// in: rows x width_in -> out: rows x width_out (both row-major, dense).
  void apply(const double* in, std::int64_t rows, double* out) const;
};

}  // namespace tabula::pipeline

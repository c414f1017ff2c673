// Preprocessing pipelines: scikit-learn's ColumnTransformer + Pipeline for tabular input.
//
// A pipeline is a small DAG over the raw columns of a table:
//   branch 1: columns selected by name or type -> step -> step ...  ┐
//   branch 2: ...                                                   ├─ concatenated -> after steps
//   ...                                                             ┘
// and its output, a dense float32 matrix, is what the estimator sees. Every statistic (means,
// medians, categories, scales, components) is fitted on the training rows only.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/models/estimator.hpp"

namespace tabula {

class ArtifactWriter;
class ArtifactReader;
class Communicator;

/// One step by scikit-learn class name with its parameters as text: "SimpleImputer"
/// (strategy: mean | median | most_frequent | constant; fill_value), "StandardScaler"
/// (with_mean, with_std), "MinMaxScaler" (feature_range "0,1"), "OneHotEncoder" (handle_unknown:
/// error | ignore | infrequent_if_exist; min_frequency; max_categories), "OrdinalEncoder"
/// (handle_unknown: error | use_encoded_value; unknown_value), "DateFeatures" (format: iso8601
/// or strptime-style such as "%d/%m/%Y"; features: year,month,day,day_of_week,day_of_year,hour,
/// minute,second,epoch), "PCA" (n_components, whiten).
struct StepSpec {
  std::string kind;
  ParamMap params;
};

/// Which raw columns a branch takes: the columns named, or else every column of `type` that no
/// earlier branch took (with `dates`, only text columns whose every value is a date in the
/// format of the branch's DateFeatures step). Names that are not in the table are an
/// InputError naming them.
struct ColumnSelector {
  std::vector<std::string> names;
  std::optional<ColumnType> type;
  bool dates = false;  // written `type = "date"` in a spec
};

struct BranchSpec {
  std::string name;  // "numeric", "categorical", or the user's, for messages and output names
  ColumnSelector columns;
  std::vector<StepSpec> steps;  // empty: passthrough (numeric columns only)
};

/// What to build. Columns no branch selects are dropped (scikit-learn's remainder="drop"),
/// which fit() reports in its notes.
struct PipelineSpec {
  std::vector<BranchSpec> branches;
  std::vector<StepSpec> after;  // over the concatenated output, e.g. a StandardScaler or PCA

  /// The default for a model (registry name): numeric columns median-imputed and standard-scaled
  /// for linear models, logistic regression and PCA, passed through (NaN is native) for forests
  /// and baselines; ISO 8601 date columns into DateFeatures (then imputed and scaled as numbers
  /// are); other categorical columns most_frequent-imputed and one-hot encoded.
  static PipelineSpec defaults(std::string_view model);
  /// The default for a model with its parameters: as above, except that gradient boosting with
  /// categorical_features other than None codes text columns with an OrdinalEncoder (missing
  /// and unseen categories NaN) instead of one-hot encoding them, for native categorical splits.
  static PipelineSpec defaults(std::string_view model, const ParamMap& params);
  /// The identity over numeric columns: what models saved before pipelines existed use.
  static PipelineSpec passthrough();
  /// From the JSON form (see to_json; also what a TOML [pipeline] table converts to). InputError
  /// naming `source` and the offending key for unknown steps, parameters or selectors.
  static PipelineSpec from_json(const nlohmann::json& spec, const std::string& source);
  nlohmann::json to_json() const;
};

/// Reads a pipeline spec file: TOML (a [pipeline] table, or else the whole file is the
/// pipeline) or JSON (".json"). InputError naming the file for syntax errors and bad keys.
PipelineSpec read_pipeline_spec(const std::string& path);

/// The common changes `tabula train` takes as flags. Empty fields keep the spec as it is.
/// impute and scale apply to every branch that selects numeric columns by type and to the date
/// branch's parts; the encoder options to every other branch that selects categorical columns
/// by type.
struct PipelineOverrides {
  std::string impute;          // SimpleImputer strategy of numeric columns, or "none"
  std::string scale;           // "standard", "minmax" or "none"
  std::string encode;          // "onehot" or "ordinal"
  std::string handle_unknown;  // "error", "ignore" or "infrequent_if_exist"
  std::string min_frequency;   // OneHotEncoder min_frequency
  std::string max_categories;  // OneHotEncoder max_categories
  /// The date branch (the one with a DateFeatures step): exactly these columns instead of the
  /// ISO 8601 columns found, and their format. InputError when the spec has no such branch.
  std::vector<std::string> date_columns;
  std::string date_format;
};
/// `spec` with `overrides` applied; InputError for a value not listed above.
PipelineSpec apply_overrides(PipelineSpec spec, const PipelineOverrides& overrides);

/// One row that could not be encoded (an unseen category under handle_unknown=error, a value of
/// the wrong type): its index in the transformed table and why.
struct RowError {
  std::int64_t row = 0;
  std::string column;
  std::string reason;
};

/// A pipeline, fitted or not.
class Pipeline {
 public:
  explicit Pipeline(PipelineSpec spec);
  ~Pipeline();
  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;

  const PipelineSpec& spec() const;

  /// Fits every step on `rows` of `data` (all rows when empty): the other rows never touch a
  /// fitted statistic. Records the raw input schema (names and types of the columns the
  /// pipeline reads). InputError for a selector naming a missing column, a categorical column
  /// in a numeric-only step, a column with no present value on these rows, a PCA step with
  /// more components than its input has.
  /// With `comm` (a data-parallel fit: every rank calls fit with its own share, the same
  /// columns and types), each step's statistics are reduced over the ranks, so every rank ends
  /// with the one pipeline one process fits on all the rows (docs/distributed.md says which
  /// statistics are exact and which agree within rounding). Errors are raised on every rank
  /// alike.
  void fit(Backend& backend, const Dataset& data, std::span<const std::int64_t> rows = {},
           Communicator* comm = nullptr);
  bool fitted() const;

  /// The raw columns fit() read, in the order fit() read them: what new data must provide.
  const std::vector<std::pair<std::string, ColumnType>>& input_columns() const;
  /// Output width and names ("age", "color=red", "pc3", ...).
  std::int64_t n_outputs() const;
  const std::vector<std::string>& output_names() const;
  /// Per output: 1 when it is the category code of a text column (an OrdinalEncoder's output
  /// that no later step rescales or mixes), what an estimator's categorical_features="from_dtype"
  /// reads; 0 otherwise.
  std::vector<std::uint8_t> categorical_outputs() const;
  /// Things the user should know from fit() (dropped columns, infrequent categories merged).
  const std::vector<std::string>& notes() const;

  /// The encoded rows `rows` of `data` (all rows when empty): host, row-major float32,
  /// rows x n_outputs(); NaN where a value stays missing (forests route it natively).
  /// Columns are matched by name; extra columns are ignored. InputError naming the column for a
  /// missing column or a type that differs from fit(). For a bad row (unseen category under
  /// "error", ...): with `errors` null, an InputError naming the column, the row and the value;
  /// otherwise the row is appended to `errors`, its output row is NaN, and the rest goes on.
  std::vector<float> transform(Backend& backend, const Dataset& data,
                               std::span<const std::int64_t> rows = {},
                               std::vector<RowError>* errors = nullptr) const;

  /// Fitted state as JSON (header field "pipeline") plus arrays named "pipeline.*".
  void save(ArtifactWriter& out) const;
  /// Restores what save() wrote; InputError for a damaged or unknown pipeline description.
  static Pipeline load(const ArtifactReader& in);
  /// What `tabula inspect` shows: branches, steps and their fitted attributes.
  nlohmann::json summary() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tabula

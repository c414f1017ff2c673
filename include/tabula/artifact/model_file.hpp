// A fitted model on disk: the estimator's state plus what is needed to apply it to new data
// (input schema, class labels) and to trust it (training metadata). Built on the artifact
// format; docs/artifact-format.md lists the header fields.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/core/dataset.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/monitoring/profile.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {

/// One input column the model was trained on.
struct FeatureSpec {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
};

/// What a model expects and returns.
struct ModelSchema {
  std::vector<FeatureSpec> features;  // in training order
  std::string target;                 // empty when fitted without one (transforms)
  /// The rows' identifier (`--id`): never a feature, copied to prediction output; empty: none.
  std::string id_column;
  ColumnType target_type = ColumnType::kNumeric;
  /// Classification: the original labels spelt as in the training file ("1.0" stays "1.0"),
  /// index = class index, sorted as sklearn sorts them (numbers ascending, text by bytes).
  /// Numeric labels are whole numbers.
  std::vector<std::string> class_labels;
  bool numeric_labels = true;

  /// Class `c`'s label as JSON: for a numeric target a number, an integer when spelt as one
  /// ("1") and a float otherwise ("1.0" gives 1.0); for a text target the text.
  nlohmann::json label_json(std::size_t c) const;
  /// True when every label is a number spelt as an integer: responses type them INT64 (else
  /// FP64 for numbers, BYTES for text).
  bool integer_labels() const;
};

/// A model read back from its file: the fitted pipeline and the estimator behind it.
struct LoadedModel {
  std::string path;
  std::unique_ptr<Estimator> estimator;
  /// Never null after load_model; a numeric passthrough for files written before pipelines.
  std::unique_ptr<Pipeline> pipeline;
  ModelSchema schema;     // schema.features: the raw input columns (pipeline.input_columns())
  nlohmann::json header;  // the whole artifact header
  /// The training data's reference profile (drift monitoring); absent in files written before
  /// profiles.
  std::optional<monitoring::DriftProfile> profile;

  /// The estimator's input for `data`: pipeline->transform over all rows (see Pipeline for the
  /// errors and the `errors` policy). Names of columns the model does not read are appended to
  /// `ignored` when given.
  std::vector<float> features(Backend& backend, const Dataset& data,
                              std::vector<RowError>* errors = nullptr,
                              std::vector<std::string>* ignored = nullptr) const;
};

/// Writes the fitted pipeline, the estimator's state, `schema`, `training` (metadata,
/// free-form JSON) and, when given, the reference profile as one artifact, atomically.
void save_model(const std::string& path, const Estimator& estimator, const Pipeline& pipeline,
                const ModelSchema& schema, const nlohmann::json& training,
                const monitoring::DriftProfile* profile = nullptr);

/// Reads a model file. InputError for a file that is not a model artifact or is damaged (the
/// artifact reader's messages) or names a model this build does not know.
LoadedModel load_model(const std::string& path);

/// The feature matrix (row-major float32, rows x features, NaN for missing) of `data` in the
/// schema's order, columns matched by name. InputError naming every missing column, or a
/// column whose type differs from training. Names of columns the model does not use are
/// appended to `ignored` when given.
std::vector<float> schema_matrix(const ModelSchema& schema, const Dataset& data,
                                 std::vector<std::string>* ignored = nullptr);

/// What `tabula inspect` shows: kind, task, parameters, schema, classes, training metadata,
/// fitted attributes (Estimator::summary) and the array index.
nlohmann::json describe_model(const std::string& path);
/// The same, as readable text.
std::string format_model_description(const nlohmann::json& description);
/// How many features `inspect`, the tune report and the server's metadata list by name.
inline constexpr std::size_t kTopFeatures = 20;
/// A fitted model's per-feature values (Estimator::summary's `feature_importances_` or `coef_`)
/// paired with the pipeline's output names, largest magnitude first, at most `limit` of each:
/// {"feature_importances_": {"n_features": n, "top": [{"feature": "city=Paris", "value": v}...]}}.
/// Empty when the model has neither, or their length does not match `names`.
nlohmann::json ranked_feature_values(const nlohmann::json& fitted,
                                     const std::vector<std::string>& names, std::size_t limit);

}  // namespace tabula

// The shared checks behind every model loader (see validate.hpp).
#include "artifact/validate.hpp"

#include <cmath>

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"

namespace tabula::artifact {

void field_error(std::string_view field, const std::string& why) {
  throw InputError("field '" + std::string(field) + "': " + why);
}

void expect_size(std::string_view field, std::int64_t actual, std::int64_t expected,
                 std::string_view what) {
  if (actual != expected)
    field_error(field, std::to_string(actual) + " entries, but " + std::string(what));
}

void expect_range(std::string_view field, std::int64_t value, std::int64_t lo, std::int64_t hi) {
  if (value < lo || value > hi)
    field_error(field, std::to_string(value) + " is outside " + std::to_string(lo) + ".." +
                           std::to_string(hi));
}

std::int64_t integer(const nlohmann::json& value, std::string_view field) {
  const bool fits = value.is_number_unsigned()
                        ? value.get<std::uint64_t>() <= std::uint64_t{INT64_MAX}
                        : value.is_number_integer();
  if (fits) return value.get<std::int64_t>();
  field_error(field, "not an integer: " + value.dump());
}

std::int64_t checked_product(std::string_view field, std::int64_t a, std::int64_t b) {
  if (a < 0 || b < 0) field_error(field, "negative size");
  if (a != 0 && b > kMaxElements / a)
    field_error(field, std::to_string(a) + " x " + std::to_string(b) + " values is too large");
  return a * b;
}

namespace {

template <typename T>
void finite(std::string_view field, std::span<const T> values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      field_error(field, "value " + std::to_string(i) + " is not finite");
}

}  // namespace

void expect_finite(std::string_view field, std::span<const double> values) {
  finite(field, values);
}
void expect_finite(std::string_view field, std::span<const float> values) { finite(field, values); }

namespace {

/// The descriptive fields: free-form, but objects where inspect walks them as objects.
void validate_descriptive(const nlohmann::json& h) {
  if (!h.at("model").contains("params") || !h["model"]["params"].is_object())
    field_error("model.params", "not an object");
  if (!h.contains("training")) return;
  const nlohmann::json& training = h["training"];
  if (!training.is_object()) field_error("training", "not an object");
  if (!training.contains("metrics")) return;
  const nlohmann::json& metrics = training["metrics"];
  if (!metrics.is_object()) field_error("training.metrics", "not an object");
  for (const char* part : {"model", "baseline"})
    if (metrics.contains(part) && !metrics[part].is_object())
      field_error(std::string("training.metrics.") + part, "not an object");
}

}  // namespace

void validate_model(const LoadedModel& model, const nlohmann::json& header) {
  validate_descriptive(header);
  const Estimator& estimator = *model.estimator;
  const ModelSchema& schema = model.schema;
  const std::string kind = estimator.name();
  if (estimator.task() == Task::kClassification)
    expect_size(
        "classes", static_cast<std::int64_t>(schema.class_labels.size()), estimator.class_count(),
        "the " + kind + " model has " + std::to_string(estimator.class_count()) + " classes");
  const auto inputs = model.pipeline->input_columns();
  expect_size("schema.features", static_cast<std::int64_t>(schema.features.size()),
              static_cast<std::int64_t>(inputs.size()),
              "the pipeline reads " + std::to_string(inputs.size()) + " columns");
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (schema.features[i].name != inputs[i].first || schema.features[i].type != inputs[i].second)
      field_error("schema.features",
                  "feature " + std::to_string(i) + " ('" + schema.features[i].name +
                      "') is not the pipeline's input column '" + inputs[i].first + "'");
  const nlohmann::json fitted = estimator.summary();
  if (fitted.contains("n_features_in_"))
    expect_size("n_features_in_", integer(fitted["n_features_in_"], "n_features_in_"),
                model.pipeline->n_outputs(),
                "the pipeline gives " + std::to_string(model.pipeline->n_outputs()) + " features");
}

std::size_t json_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return limit + 1;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace tabula::artifact

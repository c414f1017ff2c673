// The profile stored with a freshly fitted model (train, tune's refit).
#include <fmt/format.h>

#include <algorithm>

#include "tabula/artifact/model_file.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/monitoring/profile.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula::monitoring {
namespace {

/// The input columns the pipeline reads as dates (its DateFeatures steps).
std::vector<std::string> date_columns(const Pipeline& pipeline) {
  std::vector<std::string> dates;
  const nlohmann::json summary = pipeline.summary();
  for (const auto& branch : summary.value("branches", nlohmann::json::array()))
    for (const auto& step : branch.value("steps", nlohmann::json::array()))
      if (step.value("kind", "") == "DateFeatures")
        for (const auto& c : step.at("columns")) dates.push_back(c.get<std::string>());
  return dates;
}

}  // namespace

DriftProfile profile_inputs(const Pipeline& pipeline, const Dataset& data,
                            std::span<const std::int64_t> rows) {
  std::vector<std::string> names;
  for (const auto& [name, type] : pipeline.input_columns()) names.push_back(name);
  DriftProfile profile = build_profile(data, profile_sample(rows), names);
  const std::vector<std::string> dates = date_columns(pipeline);
  for (ColumnProfile& p : profile.features)
    p.judged = std::find(dates.begin(), dates.end(), p.name) == dates.end();
  return profile;
}

std::vector<double> sample_predictions(Backend& backend, const Pipeline& pipeline,
                                       const Estimator& model, const Dataset& data,
                                       std::span<const std::int64_t> rows) {
  const std::vector<std::int64_t> scored = profile_sample(rows);
  const std::vector<float> x = pipeline.transform(backend, data, scored);
  const auto view = MatrixView<const float>::row_major(
      x.data(), static_cast<std::int64_t>(scored.size()), pipeline.n_outputs());
  const Predictor predictor(backend, model);
  const Task task = model.task();
  const std::vector<double> out =
      task == Task::kTransform ? predictor.transform(view) : predictor.predict(view);
  return prediction_values(task, {out, out, model.n_outputs()});
}

DriftProfile reference_profile(Backend& backend, const Pipeline& pipeline, const Estimator& model,
                               const ModelSchema& schema, const Dataset& data,
                               std::span<const std::int64_t> train_rows,
                               std::span<const std::int64_t> test_rows) {
  DriftProfile profile = profile_inputs(pipeline, data, train_rows);
  const bool held_out = !test_rows.empty();
  add_prediction(
      profile, model, schema,
      sample_predictions(backend, pipeline, model, data, held_out ? test_rows : train_rows),
      held_out);
  return profile;
}

void add_prediction(DriftProfile& profile, const Estimator& model, const ModelSchema& schema,
                    std::span<const double> values, bool held_out) {
  profile.prediction = profile_prediction(model, schema, values);
  profile.source = fmt::format("{} training rows; predictions on {} {} rows", profile.rows,
                               values.size(), held_out ? "held-out" : "training");
}

}  // namespace tabula::monitoring

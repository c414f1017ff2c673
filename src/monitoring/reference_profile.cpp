// The profile stored with a freshly fitted model (train, tune's refit).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>

#include "distributed/pack.hpp"
#include "distributed/reduce.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/distributed/communicator.hpp"
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

/// This rank's rows among the profile sample of every rank's rows (profile_sample over the
/// rows in rank order: row i·n/kMaxProfileRows), as indices into its own rows.
std::vector<std::int64_t> local_sample(Communicator& comm, std::int64_t rows) {
  const distributed::RowRange range = distributed::row_range(&comm, rows);
  std::vector<std::int64_t> mine;
  if (range.total <= kMaxProfileRows) {
    for (std::int64_t r = 0; r < rows; ++r) mine.push_back(r);
    return mine;
  }
  for (std::int64_t i = 0; i < kMaxProfileRows; ++i) {
    const std::int64_t global = i * range.total / kMaxProfileRows;
    if (global >= range.offset && global < range.offset + rows)
      mine.push_back(global - range.offset);
  }
  return mine;
}

/// A text column as the CSV reader makes it (categories sorted by bytes, -1 = missing).
Column text_column(const std::string& name, const std::vector<std::optional<std::string>>& values) {
  Column c;
  c.name = name;
  c.type = ColumnType::kCategorical;
  std::map<std::string, std::int32_t> index;
  for (const auto& v : values)
    if (v) index.emplace(*v, 0);
  for (auto& [value, code] : index) {
    code = static_cast<std::int32_t>(c.categories.size());
    c.categories.push_back(value);
  }
  for (const auto& v : values) c.codes.push_back(v ? index[*v] : -1);
  return c;
}

/// Columns `names` of `data` at `rows`, with this rank's `predictions` of them: every rank's,
/// in rank order, on every rank (at most kMaxProfileRows rows in all).
Dataset gather_sample(Communicator& comm, const Dataset& data, std::span<const std::int64_t> rows,
                      const std::vector<std::string>& names, std::vector<double>& predictions) {
  std::string mine;
  distributed::pack(mine, static_cast<std::int64_t>(rows.size()));
  for (double p : predictions) distributed::pack(mine, p);
  for (const std::string& name : names) {
    const Column& c = data.column(name);
    for (std::int64_t r : rows) {
      const auto at = static_cast<std::size_t>(r);
      if (c.type == ColumnType::kNumeric) {
        distributed::pack(mine, c.numeric[at]);
      } else {
        distributed::pack(mine, std::int64_t{c.codes[at] >= 0 ? 1 : 0});
        if (c.codes[at] >= 0)
          distributed::pack_text(mine, c.categories[static_cast<std::size_t>(c.codes[at])]);
      }
    }
  }
  const std::vector<std::string> parts = comm.all_gather(mine);
  predictions.clear();
  std::vector<std::vector<double>> numbers(names.size());
  std::vector<std::vector<std::optional<std::string>>> texts(names.size());
  for (std::size_t r = 0; r < parts.size(); ++r) {
    distributed::PartReader in(parts[r], r, "profile sample");
    const std::int64_t n = in.count();
    if (n > kMaxProfileRows) in.fail("more rows than a profile samples");
    for (std::int64_t i = 0; i < n; ++i) predictions.push_back(in.scalar<double>());
    for (std::size_t j = 0; j < names.size(); ++j)
      for (std::int64_t i = 0; i < n; ++i) {
        if (data.column(names[j]).type == ColumnType::kNumeric)
          numbers[j].push_back(in.scalar<double>());
        else
          texts[j].push_back(in.count() == 1 ? std::optional(in.text()) : std::nullopt);
      }
    if (!in.done()) in.fail("trailing bytes");
  }
  Dataset sample;
  sample.source = data.source;
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (data.column(names[j]).type == ColumnType::kNumeric) {
      Column c;
      c.name = names[j];
      c.numeric = std::move(numbers[j]);
      sample.columns.push_back(std::move(c));
    } else {
      sample.columns.push_back(text_column(names[j], texts[j]));
    }
  }
  return sample;
}

}  // namespace

DriftProfile reference_profile_over_ranks(Communicator& comm, Backend& backend,
                                          const Pipeline& pipeline, const Estimator& model,
                                          const ModelSchema& schema, const Dataset& data) {
  const std::vector<std::int64_t> rows = local_sample(comm, data.rows());
  std::vector<double> predictions = sample_predictions(backend, pipeline, model, data, rows);
  std::vector<std::string> names;
  for (const auto& [name, type] : pipeline.input_columns()) names.push_back(name);
  const Dataset sample = gather_sample(comm, data, rows, names, predictions);
  std::vector<std::int64_t> all(static_cast<std::size_t>(sample.rows()));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  DriftProfile profile = profile_inputs(pipeline, sample, all);
  add_prediction(profile, model, schema, predictions, false);
  return profile;
}

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

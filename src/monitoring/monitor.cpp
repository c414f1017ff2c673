// A data file against a model's training profile: scoring, counting, the report.
#include "tabula/monitoring/monitor.hpp"

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula::monitoring {
namespace {

/// The model's prediction values (prediction_values) for the rows the pipeline accepted.
std::vector<double> predictions_of(const Predictor& predictor, const std::vector<float>& x,
                                   const std::vector<std::int64_t>& good, std::int64_t d) {
  std::vector<float> kept(good.size() * static_cast<std::size_t>(d));
  for (std::size_t i = 0; i < good.size(); ++i)
    std::copy_n(x.begin() + good[i] * d, d, kept.begin() + static_cast<std::ptrdiff_t>(i) * d);
  const auto view =
      MatrixView<const float>::row_major(kept.data(), static_cast<std::int64_t>(good.size()), d);
  const Task task = predictor.task();
  if (task == Task::kTransform) {
    const std::vector<double> t = predictor.transform(view);
    return prediction_values(task, {{}, t, predictor.estimator().n_outputs()});
  }
  return predictor.predict(view);
}

}  // namespace

nlohmann::json monitor_file(Backend& backend, const MonitorFileOptions& options) {
  const LoadedModel model = load_model(options.model_path);
  if (!model.profile)
    throw InputError(options.model_path +
                     ": the model file holds no training profile (it was written before "
                     "tabula stored one): retrain it with tabula train, tune or the Python "
                     "package to monitor drift");
  const Dataset data = io::read_csv(options.data_path, options.csv.options());
  const Predictor predictor(backend, model);
  std::vector<RowError> refused;
  const std::vector<float> x = predictor.features(data, {}, &refused);
  std::vector<std::int64_t> good;
  std::size_t next_refused = 0;
  for (std::int64_t r = 0; r < data.rows(); ++r) {
    if (next_refused < refused.size() && refused[next_refused].row == r) {
      while (next_refused < refused.size() && refused[next_refused].row == r) ++next_refused;
      continue;
    }
    good.push_back(r);
  }
  const std::vector<double> predictions =
      good.empty() ? std::vector<double>{}
                   : predictions_of(predictor, x, good, predictor.n_features());
  DriftCounts counts(*model.profile);
  count_rows(*model.profile, data, good, predictions, counts);
  nlohmann::json out = drift_report(*model.profile, counts, options.drift);
  out["model_file"] = options.model_path;
  out["data_file"] = options.data_path;
  out["model"] = model.estimator->name();
  out["task"] = to_string(model.estimator->task());
  out["reference"] = model.profile->source;
  out["rows_refused"] = data.rows() - static_cast<std::int64_t>(good.size());
  if (!refused.empty())
    out["first_refusal"] = "row " + std::to_string(refused.front().row + 1) + ", column '" +
                           refused.front().column + "': " + refused.front().reason;
  return out;
}

}  // namespace tabula::monitoring

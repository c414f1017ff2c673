// Scoring a micro-batch and splitting the results back per request.
#include "serve/served_model.hpp"

#include <chrono>
#include <cmath>
#include <map>

#include "serve/http_error.hpp"
#include "tabula/core/error.hpp"

namespace tabula::serve {

ServedModel::ServedModel(std::string name, std::string version, LoadedModel model,
                         BatchingConfig batching, Backend& backend, Metrics& metrics,
                         std::shared_ptr<DriftWindow> drift)
    : name_(std::move(name)),
      version_(std::move(version)),
      model_(std::move(model)),
      predictor_(backend, model_),
      metrics_(metrics),
      drift_(std::move(drift)) {
  batcher_ = std::make_unique<MicroBatcher>(
      batching, [this](std::span<const RequestTable* const> tables) { return score(tables); },
      [this](const BatchDone& done) {
        metrics_.observe_batch(name_, version_, done.rows);
        statistics_.record_queue(done.requests, done.queued_ns);
      },
      [this](std::int64_t delta) { metrics_.add_queue_rows(name_, version_, delta); });
  metrics_.set_loaded(name_, version_, true);
}

ServedModel::~ServedModel() {
  batcher_.reset();
  metrics_.set_loaded(name_, version_, false);
}

std::int64_t ServedModel::output_width() const {
  if (task() == Task::kClassification)
    return static_cast<std::int64_t>(model_.schema.class_labels.size());
  if (is_unsupervised(task())) return model_.estimator->n_outputs();
  return 1;
}

std::future<ScoredRows> ServedModel::submit(std::shared_ptr<const RequestTable> table,
                                            Clock::time_point deadline) {
  return batcher_->submit(std::move(table), deadline);
}

std::int64_t ServedModel::batches() const { return batcher_->batches(); }

std::vector<ScoredRows> ServedModel::score(std::span<const RequestTable* const> tables) const {
  try {
    return score_together(tables);
  } catch (const InputError& e) {
    if (tables.size() == 1) {
      ScoredRows failed;
      failed.status = 400;
      failed.error = e.what();
      return {failed};
    }
  }
  // One request spoiled the batch: score each alone so only that one fails.
  std::vector<ScoredRows> out;
  for (const RequestTable* t : tables) out.push_back(score({&t, 1}).front());
  return out;
}

std::vector<ScoredRows> ServedModel::score_together(
    std::span<const RequestTable* const> tables) const {
  const auto start = Clock::now();
  const Dataset data = to_dataset(tables, model_.schema);
  const std::int64_t n = data.rows();
  std::vector<RowError> row_errors;
  const std::vector<float> x = predictor_.features(data, {}, &row_errors);
  const std::int64_t d = n == 0 ? 0 : static_cast<std::int64_t>(x.size()) / n;
  const auto view = MatrixView<const float>::row_major(x.data(), n, d);
  const Task task = this->task();
  const std::int64_t width = output_width();
  const auto features_done = Clock::now();
  std::vector<double> predict, proba, transform;
  if (task == Task::kTransform) {
    transform = predictor_.transform(view);
  } else if (task == Task::kClustering) {
    // The cluster index and the distance to every centre.
    predict = predictor_.predict(view);
    transform = predictor_.transform(view);
  } else {
    predict = task == Task::kClassification ? predictor_.predict_with_proba(view, proba)
                                            : predictor_.predict(view);
  }

  const auto infer_done = Clock::now();

  // Which request each failed row belongs to.
  std::map<std::int64_t, const RowError*> bad_rows;
  for (const RowError& e : row_errors) bad_rows.emplace(e.row, &e);

  std::vector<ScoredRows> out(tables.size());
  std::int64_t begin = 0;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const std::int64_t rows = tables[t]->rows;
    ScoredRows& r = out[t];
    r.width = width;
    const auto bad = bad_rows.lower_bound(begin);
    if (bad != bad_rows.end() && bad->first < begin + rows) {
      r.status = 400;
      r.error = "row " + std::to_string(bad->first - begin) + ", column '" + bad->second->column +
                "': " + bad->second->reason;
    } else {
      if (!transform.empty())
        r.transform.assign(transform.begin() + begin * width,
                           transform.begin() + (begin + rows) * width);
      if (!predict.empty())
        r.predict.assign(predict.begin() + begin, predict.begin() + begin + rows);
      if (!proba.empty())
        r.proba.assign(proba.begin() + begin * width, proba.begin() + (begin + rows) * width);
      record_predictions(r);
    }
    begin += rows;
  }
  if (drift_) record_drift(data, tables, out, {predict, transform, width});
  const auto ns = [](Clock::duration d) {
    return static_cast<std::uint64_t>(std::chrono::nanoseconds(d).count());
  };
  ComputeDurations stages;
  stages.input.add(1, ns(features_done - start));
  stages.infer.add(1, ns(infer_done - features_done));
  stages.output.add(1, ns(Clock::now() - infer_done));
  statistics_.record_execution(n, static_cast<std::int64_t>(tables.size()), stages);
  return out;
}

/// Counts the rows of the requests that were answered (a refused request's rows are not what
/// the model served).
void ServedModel::record_drift(const Dataset& data, std::span<const RequestTable* const> tables,
                               std::span<const ScoredRows> out,
                               const PredictionValues& values) const {
  const std::vector<double> all = monitoring::prediction_values(task(), values);
  std::vector<std::int64_t> rows;
  std::vector<double> predictions;
  std::int64_t begin = 0;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const std::int64_t n = tables[t]->rows;
    if (out[t].status == 200)
      for (std::int64_t i = begin; i < begin + n; ++i) {
        rows.push_back(i);
        predictions.push_back(all[static_cast<std::size_t>(i)]);
      }
    begin += n;
  }
  drift_->count(data, rows, predictions);
}

void ServedModel::record_predictions(const ScoredRows& rows) const {
  if (task() == Task::kClassification) {
    std::vector<std::string> labels;
    labels.reserve(rows.predict.size());
    for (double c : rows.predict)
      labels.push_back(model_.schema.class_labels.at(static_cast<std::size_t>(c)));
    metrics_.count_classes(name_, version_, labels);
  } else if (task() == Task::kClustering) {
    std::vector<std::string> clusters;
    clusters.reserve(rows.predict.size());
    for (double c : rows.predict)
      clusters.push_back(std::isnan(c) ? "missing" : std::to_string(static_cast<std::int64_t>(c)));
    metrics_.count_classes(name_, version_, clusters);
  } else if (task() == Task::kRegression) {
    metrics_.observe_values(name_, version_, rows.predict);
  }
}

}  // namespace tabula::serve

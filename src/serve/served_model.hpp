// One loaded model version as the server runs it: the model file's pipeline and estimator made
// resident on the backend once (one Predictor per version, shared by every request), its
// micro-batcher, and the scoring of a batch of requests.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "serve/drift_window.hpp"
#include "serve/metrics.hpp"
#include "serve/micro_batcher.hpp"
#include "serve/model_statistics.hpp"
#include "serve/request_table.hpp"
#include "serve/serve_options.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula::serve {

using monitoring::PredictionValues;

class ServedModel {
 public:
  /// Uploads the model to `backend` and starts the version's batching thread. `backend` and
  /// `metrics` must outlive this object. Scored rows are counted into `drift` when given.
  ServedModel(std::string name, std::string version, LoadedModel model, BatchingConfig batching,
              Backend& backend, Metrics& metrics, std::shared_ptr<DriftWindow> drift = nullptr);
  ~ServedModel();
  ServedModel(const ServedModel&) = delete;
  ServedModel& operator=(const ServedModel&) = delete;

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const LoadedModel& model() const { return model_; }
  const ModelSchema& schema() const { return model_.schema; }
  Task task() const { return model_.estimator->task(); }
  /// Columns of the transform output (transforms) or classes (classifiers).
  std::int64_t output_width() const;

  /// Queues a validated request for the next batch.
  std::future<ScoredRows> submit(std::shared_ptr<const RequestTable> table,
                                 Clock::time_point deadline);

  /// Scores `tables` in one pipeline + estimator call; a row the pipeline refuses fails only
  /// its own request (status 400). Used by the batcher; callable directly.
  std::vector<ScoredRows> score(std::span<const RequestTable* const> tables) const;

  std::int64_t batches() const;
  /// Triton-style statistics of this version since it was loaded (thread-safe counters).
  ModelStatistics& statistics() const { return statistics_; }
  /// The version's drift window; null when its file has no profile or watching is off.
  const DriftWindow* drift() const { return drift_.get(); }

 private:
  std::vector<ScoredRows> score_together(std::span<const RequestTable* const> tables) const;
  void record_predictions(const ScoredRows& rows) const;
  void record_drift(const Dataset& data, std::span<const RequestTable* const> tables,
                    std::span<const ScoredRows> out, const PredictionValues& values) const;

  std::string name_, version_;
  LoadedModel model_;
  Predictor predictor_;  // after model_, which it refers to
  Metrics& metrics_;
  std::shared_ptr<DriftWindow> drift_;
  mutable ModelStatistics statistics_;     // counters about the model, not its state
  std::unique_ptr<MicroBatcher> batcher_;  // last: stops first
};

}  // namespace tabula::serve

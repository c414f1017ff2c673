// One way to score a fitted model, whoever asks: batch scoring, the server, train's held-out
// test report and cross-validation folds. A Predictor is pipeline + estimator + backend, with
// the estimator's state made resident on the backend once (Estimator::make_resident) and
// reused by every call, as FAISS's GpuIndex keeps its data on the device: only rows move.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/core/matrix.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {

struct LoadedModel;

class Predictor {
 public:
  /// Uploads the estimator's state to `backend` (an Error if the estimator is not fitted).
  /// `pipeline` may be null when callers pass encoded features only (cross-validation folds).
  /// Nothing is copied: backend, estimator and pipeline must outlive the Predictor and must not
  /// be refitted or reloaded while it lives.
  Predictor(Backend& backend, const Estimator& estimator, const Pipeline* pipeline = nullptr);
  /// A model read from its file: its pipeline and estimator.
  Predictor(Backend& backend, const LoadedModel& model);

  Backend& backend() const { return backend_; }
  const Estimator& estimator() const { return estimator_; }
  Task task() const { return estimator_.task(); }

  /// The estimator's input for rows `rows` of `data` (all when empty): the pipeline's
  /// transform (host, row-major float32, rows x n_features(); see Pipeline::transform for the
  /// errors and the `errors` policy). Error without a pipeline.
  std::vector<float> features(const Dataset& data, std::span<const std::int64_t> rows = {},
                              std::vector<RowError>* errors = nullptr) const;
  /// Columns of features(); Error without a pipeline.
  std::int64_t n_features() const;

  /// Estimator::predict, predict_proba, predict_with_proba and transform of encoded rows x
  /// (host or backend memory, n x n_features()), with the same results bit for bit. Safe to
  /// call from several threads at once (the server's request threads share one Predictor).
  std::vector<double> predict(MatrixView<const float> x) const;
  std::vector<double> predict_proba(MatrixView<const float> x) const;
  std::vector<double> predict_with_proba(MatrixView<const float> x,
                                         std::vector<double>& proba) const;
  std::vector<double> transform(MatrixView<const float> x) const;

 private:
  const Pipeline& pipeline() const;

  Backend& backend_;
  const Estimator& estimator_;
  const Pipeline* pipeline_;
  std::unique_ptr<ResidentEstimator> resident_;
};

}  // namespace tabula

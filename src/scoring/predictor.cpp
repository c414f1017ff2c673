// The resident Predictor: every scoring caller in the library goes through it.
#include "tabula/scoring/predictor.hpp"

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"

namespace tabula {

Predictor::Predictor(Backend& backend, const Estimator& estimator, const Pipeline* pipeline)
    : backend_(backend),
      estimator_(estimator),
      pipeline_(pipeline),
      resident_(estimator.make_resident(backend)) {
  TABULA_ASSERT(resident_ != nullptr, "make_resident returned nothing");
}

Predictor::Predictor(Backend& backend, const LoadedModel& model)
    : Predictor(backend, *model.estimator, model.pipeline.get()) {}

const Pipeline& Predictor::pipeline() const {
  if (pipeline_ == nullptr)
    throw Error("predictor for model '" + estimator_.name() + "' has no pipeline");
  return *pipeline_;
}

std::vector<float> Predictor::features(const Dataset& data, std::span<const std::int64_t> rows,
                                       std::vector<RowError>* errors) const {
  return pipeline().transform(backend_, data, rows, errors);
}

std::int64_t Predictor::n_features() const { return pipeline().n_outputs(); }

std::vector<double> Predictor::predict(MatrixView<const float> x) const {
  return resident_->predict(x);
}

std::vector<double> Predictor::predict_proba(MatrixView<const float> x) const {
  return resident_->predict_proba(x);
}

std::vector<double> Predictor::predict_with_proba(MatrixView<const float> x,
                                                  std::vector<double>& proba) const {
  return resident_->predict_with_proba(x, proba);
}

std::vector<double> Predictor::transform(MatrixView<const float> x) const {
  return resident_->transform(x);
}

}  // namespace tabula

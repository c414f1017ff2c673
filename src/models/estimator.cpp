// Defaults of the optional Estimator methods: a clear error naming the model.
#include "tabula/models/estimator.hpp"

#include "tabula/core/error.hpp"

namespace tabula {

std::vector<double> Estimator::predict_proba(Backend&, MatrixView<const float>) const {
  throw Error("model '" + name() + "' does not predict probabilities");
}

std::vector<double> Estimator::predict_with_proba(Backend& backend, MatrixView<const float> x,
                                                  std::vector<double>& proba) const {
  proba = predict_proba(backend, x);
  return predict(backend, x);
}

std::vector<double> Estimator::transform(Backend&, MatrixView<const float>) const {
  throw Error("model '" + name() + "' does not transform data (use predict)");
}

}  // namespace tabula

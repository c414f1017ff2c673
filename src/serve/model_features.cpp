// The one place that turns raw request columns into the estimator's input.
#include "serve/served_model.hpp"

namespace tabula::serve {

std::vector<float> model_features(Backend& backend, const LoadedModel& model, const Dataset& data,
                                  std::vector<RowError>* row_errors) {
  return model.features(backend, data, row_errors);
}

}  // namespace tabula::serve

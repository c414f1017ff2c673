// Defaults of the optional Estimator methods: a clear error naming the model, and a residency
// that keeps nothing.
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

void Estimator::fit_passes(Backend&, RowPasses&, std::uint64_t) {
  throw Error("model '" + name() + "' fits rows held in memory only");
}

void Estimator::partial_fit(Backend&, const FitData&) {
  throw Error("model '" + name() + "' has no partial_fit");
}

namespace {

/// The default residency: nothing kept, each call goes to the estimator.
class ForwardingResident final : public ResidentEstimator {
 public:
  ForwardingResident(const Estimator& estimator, Backend& backend)
      : estimator_(estimator), backend_(backend) {}
  std::vector<double> predict(MatrixView<const float> x) const override {
    return estimator_.predict(backend_, x);
  }
  std::vector<double> predict_proba(MatrixView<const float> x) const override {
    return estimator_.predict_proba(backend_, x);
  }
  std::vector<double> predict_with_proba(MatrixView<const float> x,
                                         std::vector<double>& proba) const override {
    return estimator_.predict_with_proba(backend_, x, proba);
  }
  std::vector<double> transform(MatrixView<const float> x) const override {
    return estimator_.transform(backend_, x);
  }

 private:
  const Estimator& estimator_;
  Backend& backend_;
};

}  // namespace

std::unique_ptr<ResidentEstimator> Estimator::make_resident(Backend& backend) const {
  return std::make_unique<ForwardingResident>(*this, backend);
}

}  // namespace tabula

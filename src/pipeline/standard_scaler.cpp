// StandardScaler (sklearn.preprocessing.StandardScaler): (x - mean_) / scale_, statistics over
// the present values (NaN is ignored in fit and kept in transform, as scikit-learn does).
#include <cfloat>

#include "distributed/reduce.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"

namespace tabula::pipeline {

Affine fit_standard_scaler(const StepSpec& step, std::span<const double> values,
                           const std::string& column, nlohmann::json& attributes,
                           Communicator* comm) {
  const StepParams p(step, {"with_mean", "with_std"});
  const bool with_mean = p.flag("with_mean", true);
  const bool with_std = p.flag("with_std", true);
  double sum = 0.0;
  std::int64_t n = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++n;
  std::vector<double> mean{n > 0 ? sum / static_cast<double>(n) : 0.0};
  double squares = 0.0;  // two passes: large offsets do not cancel
  for (double v : values)
    if (!std::isnan(v)) squares += (v - mean[0]) * (v - mean[0]);
  std::vector<double> var{n > 0 ? squares / static_cast<double>(n) : 0.0};
  // Over ranks: every rank's moments merged in rank order (a no-op on one process).
  double weight = static_cast<double>(n);
  distributed::merge_moments(comm, weight, mean, var);
  if (weight == 0.0)
    throw InputError("StandardScaler: column '" + column +
                     "' has no present value on the training rows");
  double scale = std::sqrt(var[0]);
  // scikit-learn's _handle_zeros_in_scale: a constant column is left unscaled.
  if (scale < 10.0 * DBL_EPSILON) scale = 1.0;
  attributes["mean_"].push_back(mean[0]);
  attributes["var_"].push_back(var[0]);
  attributes["scale_"].push_back(with_std ? scale : 1.0);
  const double s = with_std ? scale : 1.0;
  return {kNaN, 1.0 / s, with_mean ? -mean[0] / s : 0.0};
}

}  // namespace tabula::pipeline

// MinMaxScaler (sklearn.preprocessing.MinMaxScaler): x * scale_ + min_, from the present values.
#include <cfloat>

#include "distributed/reduce.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"

namespace tabula::pipeline {

Affine fit_min_max_scaler(const StepSpec& step, std::span<const double> values,
                          const std::string& column, nlohmann::json& attributes,
                          Communicator* comm) {
  const StepParams p(step, {"feature_range", "clip"});
  const std::string range = p.text("feature_range", "0,1");
  double lo = 0.0, hi = 1.0;
  {
    std::string text = range;
    for (char& c : text)
      if (c == '(' || c == ')' || c == '[' || c == ']') c = ' ';
    char* end = nullptr;
    lo = std::strtod(text.c_str(), &end);
    while (*end == ' ') ++end;
    if (*end != ',') p.bad("feature_range", "two numbers 'min,max' with min < max");
    char* end2 = nullptr;
    hi = std::strtod(end + 1, &end2);
    while (*end2 == ' ') ++end2;
    if (*end2 != '\0' || !(lo < hi)) p.bad("feature_range", "two numbers 'min,max' with min < max");
  }
  if (p.flag("clip", false)) p.bad("clip", "false (clipping is not supported)");
  double mn = INFINITY, mx = -INFINITY;
  for (double v : values)
    if (!std::isnan(v)) mn = std::min(mn, v), mx = std::max(mx, v);
  mn = -distributed::max_over_ranks(comm, -mn);  // exact: a rank without values sends +-inf
  mx = distributed::max_over_ranks(comm, mx);
  if (mn > mx)
    throw InputError("MinMaxScaler: column '" + column +
                     "' has no present value on the training rows");
  double data_range = mx - mn;
  if (data_range < 10.0 * DBL_EPSILON) data_range = 1.0;
  const double scale = (hi - lo) / data_range;
  const double min = lo - mn * scale;
  attributes["data_min_"].push_back(mn);
  attributes["data_max_"].push_back(mx);
  attributes["scale_"].push_back(scale);
  attributes["min_"].push_back(min);
  return {kNaN, scale, min};
}

}  // namespace tabula::pipeline

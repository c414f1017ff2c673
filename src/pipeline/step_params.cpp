// Step kinds, their parameters, and the dispatch of elementwise steps.
#include <cstdlib>
#include <string>

#include "pipeline/date_time.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"

namespace tabula::pipeline {
namespace {

struct Known {
  std::string_view kind;
  std::initializer_list<std::string_view> params;
};

const Known kKnown[] = {
    {"SimpleImputer", {"strategy", "fill_value"}},
    {"StandardScaler", {"with_mean", "with_std"}},
    {"MinMaxScaler", {"feature_range", "clip"}},
    {"OneHotEncoder", {"handle_unknown", "min_frequency", "max_categories"}},
    {"OrdinalEncoder", {"handle_unknown", "unknown_value"}},
    {"DateFeatures", {"format", "features"}},
    {"PCA", {"n_components", "whiten", "svd_solver", "random_state"}},
};

}  // namespace

StepParams::StepParams(const StepSpec& spec, std::initializer_list<std::string_view> known)
    : spec_(spec) {
  for (const auto& [key, value] : spec.params) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (found) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    throw InputError(spec.kind + ": unknown parameter '" + key + "' (known: " + list + ")");
  }
}

const std::string* StepParams::find(std::string_view key) const {
  const auto it = spec_.params.find(key);
  return it == spec_.params.end() ? nullptr : &it->second;
}

std::string StepParams::text(std::string_view key, std::string_view fallback) const {
  const std::string* v = find(key);
  return v ? *v : std::string(fallback);
}

double StepParams::number(std::string_view key, double fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  char* end = nullptr;
  const double parsed = v->empty() ? NAN : std::strtod(v->c_str(), &end);
  if (v->empty() || end != v->c_str() + v->size() || !std::isfinite(parsed))
    bad(key, "a finite number");
  return parsed;
}

bool StepParams::flag(std::string_view key, bool fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  if (*v == "true" || *v == "True" || *v == "1") return true;
  if (*v == "false" || *v == "False" || *v == "0") return false;
  bad(key, "true or false");
}

void StepParams::bad(std::string_view key, std::string_view expected) const {
  throw InputError(spec_.kind + ": parameter " + std::string(key) + "='" + text(key, "") +
                   "': expected " + std::string(expected));
}

bool is_elementwise(const StepSpec& step) {
  return step.kind == "SimpleImputer" || step.kind == "StandardScaler" ||
         step.kind == "MinMaxScaler";
}

bool is_encoder(const StepSpec& step) {
  return step.kind == "OneHotEncoder" || step.kind == "OrdinalEncoder";
}

bool takes_text(const StepSpec& step) { return is_encoder(step) || step.kind == "DateFeatures"; }

void check_step(const StepSpec& step) {
  for (const Known& k : kKnown)
    if (k.kind == step.kind) {
      StepParams(step, k.params);
      if (const auto format = step.params.find("format"); format != step.params.end())
        check_date_format(format->second);  // DateFeatures
      return;
    }
  std::string list;
  for (const Known& k : kKnown) list += (list.empty() ? "" : ", ") + std::string(k.kind);
  throw InputError("unknown pipeline step '" + step.kind + "' (known: " + list + ")");
}

Affine fit_elementwise(const StepSpec& step, std::span<const double> values,
                       const std::string& column, nlohmann::json& attributes, Communicator* comm) {
  if (step.kind == "SimpleImputer")
    return fit_simple_imputer(step, values, column, attributes, comm);
  if (step.kind == "StandardScaler")
    return fit_standard_scaler(step, values, column, attributes, comm);
  if (step.kind == "MinMaxScaler")
    return fit_min_max_scaler(step, values, column, attributes, comm);
  TABULA_ASSERT(false, "not an elementwise step: " + step.kind);
}

}  // namespace tabula::pipeline

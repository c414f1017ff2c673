// PipelineSpec: the defaults per model, the JSON/TOML form, and the command-line overrides.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/date_time.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/toml.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {
namespace {

using pipeline::check_step;

BranchSpec numeric_branch(std::vector<StepSpec> steps) {
  return {"numeric", {{}, ColumnType::kNumeric}, std::move(steps)};
}

BranchSpec categorical_branch() {
  return {"categorical",
          {{}, ColumnType::kCategorical},
          {{"SimpleImputer", {{"strategy", "most_frequent"}}},
           {"OneHotEncoder", {{"handle_unknown", "ignore"}}}}};
}

/// Text columns of ISO 8601 dates into DateFeatures, then `number_steps` on the parts.
BranchSpec date_branch(const std::vector<StepSpec>& number_steps) {
  BranchSpec branch{"date", {{}, ColumnType::kCategorical, true}, {{"DateFeatures", {}}}};
  branch.steps.insert(branch.steps.end(), number_steps.begin(), number_steps.end());
  return branch;
}

std::string param_text(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) out += (out.empty() ? "" : ",") + param_text(item, where);
    return out;
  }
  throw InputError(where + ": expected a string, number, boolean or list");
}

StepSpec step_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": a step is a table with a 'kind'");
  if (!j.contains("kind") || !j["kind"].is_string())
    throw InputError(where + ": step without a 'kind' (e.g. kind = \"StandardScaler\")");
  StepSpec step;
  step.kind = j["kind"].get<std::string>();
  for (const auto& [key, value] : j.items()) {
    if (key == "kind") continue;
    if (key == "params" && value.is_object()) {
      for (const auto& [k, v] : value.items()) step.params[k] = param_text(v, where + "." + k);
      continue;
    }
    step.params[key] = param_text(value, where + "." + key);
  }
  try {
    check_step(step);
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  return step;
}

/// A selector's type: "numeric", "categorical" or "date" (text columns of dates).
void type_from_json(const nlohmann::json& v, const std::string& where, ColumnSelector& selector) {
  const std::string t = v.is_string() ? v.get<std::string>() : "";
  selector.dates = t == "date";
  if (t == "numeric")
    selector.type = ColumnType::kNumeric;
  else if (t == "categorical" || t == "date")
    selector.type = ColumnType::kCategorical;
  else
    throw InputError(where + ": type must be \"numeric\", \"categorical\" or \"date\"");
}

std::vector<StepSpec> steps_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array()) throw InputError(where + ": expected a list of steps");
  std::vector<StepSpec> steps;
  for (std::size_t i = 0; i < j.size(); ++i)
    steps.push_back(step_from_json(j[i], where + "[" + std::to_string(i) + "]"));
  return steps;
}

nlohmann::json steps_to_json(const std::vector<StepSpec>& steps) {
  nlohmann::json out = nlohmann::json::array();
  for (const StepSpec& s : steps) {
    nlohmann::json j = {{"kind", s.kind}};
    for (const auto& [k, v] : s.params) j[k] = v;
    out.push_back(j);
  }
  return out;
}

}  // namespace

PipelineSpec PipelineSpec::defaults(std::string_view model) {
  PipelineSpec spec;
  const bool scaled = model == "linear" || model == "ridge" || model == "logistic" ||
                      model == "pca" || model == "kmeans" || model == "minibatch-kmeans" ||
                      model == "lasso" || model == "elasticnet";
  const std::vector<StepSpec> number_steps =
      scaled ? std::vector<StepSpec>{{"SimpleImputer", {{"strategy", "median"}}},
                                     {"StandardScaler", {}}}
             : std::vector<StepSpec>{};
  spec.branches.push_back(numeric_branch(number_steps));
  // Before the categorical branch, which would otherwise take the date columns.
  spec.branches.push_back(date_branch(number_steps));
  spec.branches.push_back(categorical_branch());
  return spec;
}

PipelineSpec PipelineSpec::defaults(std::string_view model, const ParamMap& params) {
  PipelineSpec spec = defaults(model);
  const bool gbdt = model == "gbdt" || model == "gbdt-classifier" || model == "gbdt-regressor";
  const auto it = params.find("categorical_features");
  const bool native =
      gbdt && (it == params.end() || !(it->second == "None" || it->second == "none" ||
                                       it->second == "null" || it->second.empty()));
  if (!native) return spec;
  // Native categorical splits: one code column per text column; missing stays NaN (the
  // trees' missing category) and an unseen category becomes NaN too, as scikit-learn treats it.
  for (BranchSpec& b : spec.branches)
    if (b.name == "categorical")
      b.steps = {
          {"OrdinalEncoder", {{"handle_unknown", "use_encoded_value"}, {"unknown_value", "nan"}}}};
  return spec;
}

PipelineSpec PipelineSpec::passthrough() {
  PipelineSpec spec;
  spec.branches.push_back(numeric_branch({}));
  return spec;
}

PipelineSpec PipelineSpec::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(source + ": the pipeline must be a table");
  PipelineSpec spec;
  for (const auto& [key, value] : j.items()) {
    if (key == "after") {
      spec.after = steps_from_json(value, source + ": after");
    } else if (key == "branches" || key == "branch") {
      if (!value.is_array())
        throw InputError(source + ": '" + key + "' must be a list ([[pipeline.branches]])");
      for (std::size_t b = 0; b < value.size(); ++b) {
        const nlohmann::json& bj = value[b];
        const std::string where = source + ": branches[" + std::to_string(b) + "]";
        if (!bj.is_object()) throw InputError(where + ": a branch is a table");
        BranchSpec branch;
        branch.name = "branch" + std::to_string(b + 1);
        for (const auto& [bk, bv] : bj.items()) {
          if (bk == "name") {
            if (!bv.is_string()) throw InputError(where + ".name: expected a string");
            branch.name = bv.get<std::string>();
          } else if (bk == "type") {
            type_from_json(bv, where + ".type", branch.columns);
          } else if (bk == "columns") {
            if (bv.is_array()) {
              for (const auto& n : bv) {
                if (!n.is_string()) throw InputError(where + ".columns: expected column names");
                branch.columns.names.push_back(n.get<std::string>());
              }
            } else if (bv.is_object()) {
              for (const auto& [ck, cv] : bv.items()) {
                if (ck == "names" && cv.is_array() &&
                    std::all_of(cv.begin(), cv.end(), [](const auto& n) { return n.is_string(); }))
                  branch.columns.names = cv.get<std::vector<std::string>>();
                else if (ck == "names")
                  throw InputError(where + ".columns.names: expected a list of column names");
                else if (ck == "type")
                  type_from_json(cv, where + ".columns.type", branch.columns);
                else
                  throw InputError(where + ".columns: unknown key '" + ck +
                                   "' (known: names, type)");
              }
            } else {
              throw InputError(where + ".columns: expected a list of column names");
            }
          } else if (bk == "steps") {
            branch.steps = steps_from_json(bv, where + ".steps");
          } else {
            throw InputError(where + ": unknown key '" + bk +
                             "' (known: name, type, columns, steps)");
          }
        }
        spec.branches.push_back(std::move(branch));
      }
    } else {
      throw InputError(source + ": unknown pipeline key '" + key + "' (known: branches, after)");
    }
  }
  if (spec.branches.empty())
    throw InputError(source + ": the pipeline has no branches ([[pipeline.branches]])");
  return spec;
}

nlohmann::json PipelineSpec::to_json() const {
  nlohmann::json branches_json = nlohmann::json::array();
  for (const BranchSpec& b : branches) {
    nlohmann::json j = {{"name", b.name}};
    if (!b.columns.names.empty()) j["columns"] = b.columns.names;
    if (b.columns.type)
      j["type"] = b.columns.dates ? "date" : std::string(to_string(*b.columns.type));
    j["steps"] = steps_to_json(b.steps);
    branches_json.push_back(j);
  }
  return {{"branches", branches_json}, {"after", steps_to_json(after)}};
}

PipelineSpec read_pipeline_spec(const std::string& path) {
  nlohmann::json j;
  if (std::filesystem::path(path).extension() == ".json") {
    std::ifstream in(path);
    if (!in) throw InputError("cannot read pipeline spec '" + path + "'");
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(path + ": " + e.what());
    }
  } else {
    j = io::read_toml(path);
  }
  if (j.is_object() && j.contains("pipeline")) return PipelineSpec::from_json(j["pipeline"], path);
  return PipelineSpec::from_json(j, path);
}

namespace {

/// Replaces the first step of one of `kinds` by `replacement` (or removes it when none); when
/// there is no such step, inserts `replacement` at `front` (an index) or, for front < 0, before
/// the first PCA step (or last).
void replace_or_insert(std::vector<StepSpec>& steps, std::initializer_list<std::string_view> kinds,
                       std::optional<StepSpec> replacement, std::ptrdiff_t front) {
  for (auto it = steps.begin(); it != steps.end(); ++it) {
    bool match = false;
    for (std::string_view k : kinds) match = match || it->kind == k;
    if (!match) continue;
    if (replacement)
      *it = *replacement;
    else
      steps.erase(it);
    return;
  }
  if (!replacement) return;
  if (front >= 0) {
    steps.insert(steps.begin() + std::min<std::ptrdiff_t>(front, std::ssize(steps)), *replacement);
  } else {
    // Scalers go before a PCA step, if any.
    auto pos = steps.begin();
    while (pos != steps.end() && pos->kind != "PCA") ++pos;
    steps.insert(pos, *replacement);
  }
}

/// --date and --date-format: the branch with the DateFeatures step takes exactly those columns
/// (it no longer looks for more) in that format.
void apply_date_overrides(PipelineSpec& spec, const PipelineOverrides& o) {
  if (o.date_columns.empty() && o.date_format.empty()) return;
  if (!o.date_format.empty()) pipeline::check_date_format(o.date_format);
  for (BranchSpec& b : spec.branches)
    for (StepSpec& step : b.steps) {
      if (step.kind != "DateFeatures") continue;
      if (!o.date_columns.empty()) b.columns = {o.date_columns, ColumnType::kCategorical, false};
      if (!o.date_format.empty()) step.params["format"] = o.date_format;
      return;
    }
  throw InputError(
      "--date/--date-format: the pipeline has no branch with a DateFeatures step to apply them to");
}

}  // namespace

PipelineSpec apply_overrides(PipelineSpec spec, const PipelineOverrides& o) {
  auto check = [](const std::string& flag, const std::string& value,
                  std::initializer_list<std::string_view> allowed) {
    if (value.empty()) return;
    std::string list;
    for (std::string_view a : allowed) {
      if (a == value) return;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw InputError("--" + flag + " '" + value + "': expected one of " + list);
  };
  check("impute", o.impute, {"mean", "median", "most_frequent", "constant", "none"});
  check("scale", o.scale, {"standard", "minmax", "none"});
  check("encode", o.encode, {"onehot", "ordinal"});
  check("handle-unknown", o.handle_unknown, {"error", "ignore", "infrequent_if_exist"});
  apply_date_overrides(spec, o);
  for (BranchSpec& b : spec.branches) {
    // A date branch's parts are numbers: imputed and scaled after the DateFeatures step.
    const bool dates = std::any_of(b.steps.begin(), b.steps.end(),
                                   [](const StepSpec& st) { return st.kind == "DateFeatures"; });
    if (b.columns.type == ColumnType::kNumeric || dates) {
      if (!o.impute.empty())
        replace_or_insert(b.steps, {"SimpleImputer"},
                          o.impute == "none" ? std::nullopt
                                             : std::optional<StepSpec>(StepSpec{
                                                   "SimpleImputer", {{"strategy", o.impute}}}),
                          dates ? 1 : 0);
      if (!o.scale.empty())
        replace_or_insert(b.steps, {"StandardScaler", "MinMaxScaler"},
                          o.scale == "none" ? std::nullopt
                          : o.scale == "standard"
                              ? std::optional<StepSpec>(StepSpec{"StandardScaler", {}})
                              : std::optional<StepSpec>(StepSpec{"MinMaxScaler", {}}),
                          -1);
    }
    if (b.columns.type == ColumnType::kCategorical && !dates) {
      for (StepSpec& s : b.steps) {
        if (!pipeline::is_encoder(s)) continue;
        if (!o.encode.empty()) {
          const std::string kind = o.encode == "onehot" ? "OneHotEncoder" : "OrdinalEncoder";
          if (s.kind != kind) s = StepSpec{kind, {}};
        }
        if (s.kind == "OneHotEncoder") {
          if (!o.handle_unknown.empty()) s.params["handle_unknown"] = o.handle_unknown;
          if (!o.min_frequency.empty()) s.params["min_frequency"] = o.min_frequency;
          if (!o.max_categories.empty()) s.params["max_categories"] = o.max_categories;
        } else if (!o.handle_unknown.empty()) {
          // Ordinal codes have no infrequent bucket: anything but error encodes unknowns as -1.
          if (o.handle_unknown == "error") {
            s.params.erase("unknown_value");
            s.params["handle_unknown"] = "error";
          } else {
            s.params["handle_unknown"] = "use_encoded_value";
            s.params["unknown_value"] = "-1";
          }
        }
      }
    }
  }
  return spec;
}

}  // namespace tabula

// PipelineSpec: the defaults per model, the JSON/TOML form, and the command-line overrides.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

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

ColumnType type_from_json(const nlohmann::json& v, const std::string& where) {
  const std::string t = v.is_string() ? v.get<std::string>() : "";
  if (t == "numeric") return ColumnType::kNumeric;
  if (t == "categorical") return ColumnType::kCategorical;
  throw InputError(where + ": type must be \"numeric\" or \"categorical\"");
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
                      model == "pca" || model == "lasso" || model == "elasticnet";
  if (scaled)
    spec.branches.push_back(
        numeric_branch({{"SimpleImputer", {{"strategy", "median"}}}, {"StandardScaler", {}}}));
  else
    spec.branches.push_back(numeric_branch({}));
  spec.branches.push_back(categorical_branch());
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
            branch.columns.type = type_from_json(bv, where + ".type");
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
                  branch.columns.type = type_from_json(cv, where + ".columns.type");
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
    if (b.columns.type) j["type"] = std::string(to_string(*b.columns.type));
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

void replace_or_insert(std::vector<StepSpec>& steps, std::initializer_list<std::string_view> kinds,
                       std::optional<StepSpec> replacement, bool at_front) {
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
  if (at_front) {
    steps.insert(steps.begin(), *replacement);
  } else {
    // Scalers go before a PCA step, if any.
    auto pos = steps.begin();
    while (pos != steps.end() && pos->kind != "PCA") ++pos;
    steps.insert(pos, *replacement);
  }
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
  for (BranchSpec& b : spec.branches) {
    if (b.columns.type == ColumnType::kNumeric) {
      if (!o.impute.empty())
        replace_or_insert(b.steps, {"SimpleImputer"},
                          o.impute == "none" ? std::nullopt
                                             : std::optional<StepSpec>(StepSpec{
                                                   "SimpleImputer", {{"strategy", o.impute}}}),
                          true);
      if (!o.scale.empty())
        replace_or_insert(b.steps, {"StandardScaler", "MinMaxScaler"},
                          o.scale == "none" ? std::nullopt
                          : o.scale == "standard"
                              ? std::optional<StepSpec>(StepSpec{"StandardScaler", {}})
                              : std::optional<StepSpec>(StepSpec{"MinMaxScaler", {}}),
                          false);
    }
    if (b.columns.type == ColumnType::kCategorical) {
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

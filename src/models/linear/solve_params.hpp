// Parsing of `--param key=value` text into typed model parameters, shared by the linear family
// (linear, ridge, logistic, pca). Every failure is an InputError naming the model, the
// parameter and the value.
#pragma once

#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include "tabula/core/error.hpp"
#include "tabula/models/estimator.hpp"

namespace tabula::models {

/// Throws InputError for a key of `params` that is not in `known`, listing the known ones.
inline void check_known_params(std::string_view model, const ParamMap& params,
                               std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : params) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (found) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    throw InputError("model '" + std::string(model) + "': unknown parameter '" + key +
                     "' (known: " + list + ")");
  }
}

inline InputError bad_param(std::string_view model, std::string_view key, std::string_view value,
                            std::string_view expected) {
  return InputError("model '" + std::string(model) + "': parameter " + std::string(key) + "='" +
                    std::string(value) + "': expected " + std::string(expected));
}

/// "true"/"false" in any case, or 1/0.
inline bool parse_bool_param(std::string_view model, std::string_view key, std::string_view value) {
  std::string lower(value);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  throw bad_param(model, key, value, "true or false");
}

/// A finite number, the whole text.
inline double parse_double_param(std::string_view model, std::string_view key,
                                 std::string_view value) {
  std::string text(value);
  char* end = nullptr;
  double parsed = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(parsed))
    throw bad_param(model, key, value, "a finite number");
  return parsed;
}

/// An integer, the whole text.
inline long long parse_int_param(std::string_view model, std::string_view key,
                                 std::string_view value) {
  std::string text(value);
  char* end = nullptr;
  long long parsed = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size())
    throw bad_param(model, key, value, "an integer");
  return parsed;
}

/// The parameters a model file stores as JSON (Estimator::params()) back as `--param` text:
/// strings as they are, null as None, numbers and booleans as JSON writes them.
inline ParamMap param_map(const nlohmann::json& params) {
  ParamMap map;
  for (const auto& [key, value] : params.items())
    map[key] = value.is_string() ? value.get<std::string>()
               : value.is_null() ? "None"
                                 : value.dump();
  return map;
}

/// The value of `key` or nullptr when absent.
inline const std::string* find_param(const ParamMap& params, std::string_view key) {
  auto it = params.find(key);
  return it == params.end() ? nullptr : &it->second;
}

}  // namespace tabula::models

// Parsing config.toml through the TOML reader's JSON form.
#include "serve/model_config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "tabula/core/error.hpp"
#include "tabula/io/toml.hpp"

namespace tabula::serve {
namespace {

bool is_number(const std::string& s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string version_name(const nlohmann::json& v, const std::string& where) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_string()) return v.get<std::string>();
  throw InputError(where + ": a version is a whole number or a string");
}

std::int64_t positive(const nlohmann::json& v, const std::string& where) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
    throw InputError(where + " must be a whole number >= 0");
  return v.get<std::int64_t>();
}

void read_drift(const nlohmann::json& value, const std::string& where, DriftConfig& drift) {
  if (!value.is_object()) throw InputError(where + " must be a table");
  for (const auto& [name, v] : value.items()) {
    const std::string at = where + "." + name;
    if (name == "window_rows") {
      drift.window_rows = positive(v, at);
    } else if (name == "min_rows") {
      drift.min_rows = positive(v, at);
    } else if (name == "threshold") {
      if (!v.is_number() || !(v.get<double>() > 0) || std::isinf(v.get<double>()))
        throw InputError(at + " must be a number > 0");
      drift.threshold = v.get<double>();
    } else {
      throw InputError(at + ": unknown key (window_rows, threshold, min_rows)");
    }
  }
}

ModelConfig from_json(const nlohmann::json& j, const std::string& source,
                      const BatchingConfig& defaults, const DriftConfig& drift_defaults) {
  ModelConfig config;
  config.batching = defaults;
  config.drift = drift_defaults;
  for (const auto& [key, value] : j.items()) {
    const std::string where = source + ": " + key;
    if (key == "versions") {
      if (!value.is_array() || value.empty())
        throw InputError(where + " must be a non-empty array of versions");
      config.versions.emplace();
      for (const auto& v : value) config.versions->push_back(version_name(v, where));
    } else if (key == "traffic") {
      if (!value.is_object()) throw InputError(where + " must be a table of version = weight");
      for (const auto& [version, weight] : value.items()) {
        if (!weight.is_number() || !(weight.get<double>() >= 0) || std::isinf(weight.get<double>()))
          throw InputError(where + "." + version + " must be a number >= 0");
        config.traffic[version] = weight.get<double>();
      }
    } else if (key == "batching") {
      if (!value.is_object()) throw InputError(where + " must be a table");
      for (const auto& [name, v] : value.items()) {
        const std::string at = where + "." + name;
        if (name == "max_batch_rows")
          config.batching.max_batch_rows = std::max<std::int64_t>(1, positive(v, at));
        else if (name == "max_queue_delay_us")
          config.batching.max_queue_delay_us = positive(v, at);
        else if (name == "max_queue_rows")
          config.batching.max_queue_rows = std::max<std::int64_t>(1, positive(v, at));
        else
          throw InputError(at +
                           ": unknown key (max_batch_rows, max_queue_delay_us, "
                           "max_queue_rows)");
      }
    } else if (key == "drift") {
      read_drift(value, where, config.drift);
    } else {
      throw InputError(where + ": unknown key (versions, traffic, batching, drift)");
    }
  }
  if (!config.traffic.empty()) {
    if (!config.versions) {
      config.versions.emplace();
      for (const auto& [version, weight] : config.traffic) config.versions->push_back(version);
    }
    double total = 0;
    for (const auto& [version, weight] : config.traffic) {
      if (std::find(config.versions->begin(), config.versions->end(), version) ==
          config.versions->end())
        throw InputError(source + ": traffic names version " + version +
                         ", which is not in versions");
      total += weight;
    }
    if (!(total > 0)) throw InputError(source + ": traffic weights must not all be 0");
  }
  return config;
}

}  // namespace

bool version_less(const std::string& a, const std::string& b) {
  const bool na = is_number(a), nb = is_number(b);
  if (na != nb) return na;
  if (na) return std::stoll(a) < std::stoll(b);
  return a < b;
}

ModelConfig parse_model_config(const std::string& text, const std::string& source,
                               const BatchingConfig& defaults, const DriftConfig& drift_defaults) {
  return from_json(io::parse_toml(text, source), source, defaults, drift_defaults);
}

ModelConfig read_model_config(const std::string& path, const BatchingConfig& defaults,
                              const DriftConfig& drift_defaults) {
  if (!std::filesystem::exists(path)) {
    ModelConfig config;
    config.batching = defaults;
    config.drift = drift_defaults;
    return config;
  }
  return from_json(io::read_toml(path), path, defaults, drift_defaults);
}

}  // namespace tabula::serve

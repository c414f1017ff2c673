// Reading TOML files (pipeline specs, experiment specs) as JSON, so that every consumer parses one
// data model and reports one kind of error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tabula::io {

/// Parses TOML text into JSON: tables become objects, arrays arrays, strings, integers,
/// floats and booleans their JSON kinds, dates and times ISO 8601 strings. InputError naming
/// `source`, the line and the column for a syntax error.
nlohmann::json parse_toml(std::string_view text, const std::string& source);
/// The same for a file; InputError naming the file when it cannot be read.
nlohmann::json read_toml(const std::string& path);

}  // namespace tabula::io

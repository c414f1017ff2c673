// TOML to JSON through toml++ (Debian's libtomlplusplus-dev).
#include "tabula/io/toml.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <sstream>

#include "io/atomic_file.hpp"
#include "tabula/core/error.hpp"

namespace tabula::io {
namespace {

nlohmann::json to_json(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = to_json(value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& value : *array) out.push_back(to_json(value));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  std::ostringstream text;  // dates and times: toml++ prints them as ISO 8601
  if (const auto* d = node.as_date()) text << d->get();
  if (const auto* t = node.as_time()) text << t->get();
  if (const auto* dt = node.as_date_time()) text << dt->get();
  return text.str();
}

}  // namespace

nlohmann::json parse_toml(std::string_view text, const std::string& source) {
  try {
    return to_json(toml::parse(text, std::string_view(source)));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw InputError(
        fmt::format("{}:{}:{}: {}", source, where.line, where.column, e.description()));
  }
}

nlohmann::json read_toml(const std::string& path) {
  return parse_toml(detail::read_whole_file(path), path);
}

}  // namespace tabula::io

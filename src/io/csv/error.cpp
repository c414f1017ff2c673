#include "io/csv/error.hpp"

#include <algorithm>

#include "tabula/core/error.hpp"

namespace tabula::io::detail {
namespace {

constexpr std::size_t kMaxValueShown = 40;
constexpr std::size_t kMaxNamesListed = 8;

}  // namespace

std::string quote_value(std::string_view value) {
  std::string shown(value.substr(0, kMaxValueShown));
  if (value.size() > kMaxValueShown) shown += "...";
  return "'" + shown + "'";
}

std::string field_too_long(std::size_t bytes, std::size_t limit) {
  return "a field of " + std::to_string(bytes) + " bytes or more exceeds the limit of " +
         std::to_string(limit) + " bytes per field (max_field_bytes)";
}

std::string list_names(const std::vector<std::string>& names) {
  std::string list;
  for (std::size_t i = 0; i < names.size() && i < kMaxNamesListed; ++i)
    list += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > kMaxNamesListed)
    list += ", ... (" + std::to_string(names.size()) + " columns)";
  return list;
}

std::string column_name(const std::vector<std::string>& names, std::int64_t column) {
  if (column > 0 && static_cast<std::size_t>(column) <= names.size())
    return names[static_cast<std::size_t>(column - 1)];
  return {};
}

std::int64_t line_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
}

void throw_located(const std::string& source, std::int64_t line, std::int64_t column,
                   std::string_view name, std::string_view message) {
  throw InputError(describe_location(source, line, column, name, message));
}

void throw_record_error(const std::string& source, std::int64_t line,
                        const std::vector<std::string>& names, const RecordError& error) {
  throw_located(source, line, error.column, column_name(names, error.column), error.message);
}

void throw_at(std::string_view text, const std::string& source,
              const std::vector<std::string>& names, const RecordError& error) {
  throw_record_error(source, line_at(text, error.offset), names, error);
}

void throw_empty_file(const std::string& source) {
  throw_located(source, 1, 0, "", "the file is empty (no header row)");
}

void throw_no_rows(const std::string& source, std::int64_t header_line) {
  throw_located(source, header_line, 0, "", "the file has a header but no data rows");
}

}  // namespace tabula::io::detail

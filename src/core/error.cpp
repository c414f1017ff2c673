#include "tabula/core/error.hpp"

namespace tabula {

std::string describe_location(std::string_view file, std::int64_t line, std::int64_t column,
                              std::string_view column_name, std::string_view message) {
  std::string text(file);
  if (line > 0) text.append(":").append(std::to_string(line));
  text.append(": ");
  if (column > 0) {
    text.append("column ").append(std::to_string(column));
    if (!column_name.empty()) text.append(" ('").append(column_name).append("')");
    text.append(": ");
  } else if (!column_name.empty()) {
    text.append("column '").append(column_name).append("': ");
  }
  text.append(message);
  return text;
}

}  // namespace tabula

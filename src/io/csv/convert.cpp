#include "io/csv/convert.hpp"

namespace tabula::io::detail {

bool out_of_range_value(Mode mode, std::string_view value, std::size_t offset, std::int64_t column,
                        std::optional<RecordError>& noted, RecordError& error) {
  RecordError e{offset, column,
                "value " + quote_value(value) +
                    " is infinite or outside the float32 range (|x| <= 3.4028235e38)"};
  if (mode == Mode::kStrictNumeric) {
    error = std::move(e);
    return false;
  }
  if (!noted) noted = std::move(e);
  return true;
}

std::string not_a_number(std::string_view value, std::string_view hint) {
  return "value " + quote_value(value) + " is not a number (" + std::string(hint) + ")";
}

}  // namespace tabula::io::detail

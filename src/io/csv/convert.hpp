// Type conversion: what a field's text means in its column. Numbers (fast_float, a leading '+'
// accepted, float32 range checked), missing values (the NA strings), and text (a per-chunk
// dictionary of distinct values, merged and sorted once at the end).
#pragma once

#include <fast_float/fast_float.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/csv/error.hpp"
#include "io/csv/tokenizer.hpp"

namespace tabula::io::detail {

inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

/// The NA strings (CsvOptions::na_values), compared exactly after trimming.
class NaMatcher {
 public:
  explicit NaMatcher(const std::vector<std::string>& values) {
    for (const std::string& v : values) {
      const std::string_view t = trim(v);
      if (t.empty()) {
        empty_ = true;
      } else {
        first_[static_cast<unsigned char>(t.front())] = true;
        values_.emplace_back(t);
      }
    }
  }
  /// True when some non-empty NA string begins with byte `c`.
  bool may_start(unsigned char c) const { return first_[c]; }
  // `value` already trimmed.
  bool operator()(std::string_view value) const {
    if (value.empty()) return empty_;
    if (!first_[static_cast<unsigned char>(value.front())]) return false;
    for (const std::string& v : values_)
      if (v == value) return true;
    return false;
  }

 private:
  bool empty_ = false;
  std::array<bool, 256> first_{};
  std::vector<std::string> values_;
};

/// Distinct strings of one column in one chunk, in order of first appearance.
struct Dictionary {
  std::unordered_map<std::string_view, std::int32_t> index;
  std::vector<std::string_view> values;
  std::deque<std::string> owned;  // values that are not a plain slice of the text

  std::int32_t code(const Field& field) {
    const auto it = index.find(field.value);
    if (it != index.end()) return it->second;
    std::string_view key = field.value;
    if (field.owned) key = owned.emplace_back(field.value);
    const auto code = static_cast<std::int32_t>(values.size());
    index.emplace(key, code);
    values.push_back(key);
    return code;
  }
};

/// Parses the whole of `value` as a number. fast_float, like std::from_chars, rejects a leading
/// '+'; CSV writers do emit it.
/// `decimal`: the decimal mark ('.' or ',').
inline bool parse_number(std::string_view value, double& number, char decimal = '.') {
  const char* first = value.data();
  const char* last = value.data() + value.size();
  if (value.size() > 1 && *first == '+' && first[1] != '-' && first[1] != '+') ++first;
  const auto result = fast_float::from_chars_advanced(
      first, last, number, fast_float::parse_options{fast_float::chars_format::general, decimal});
  return result.ec == std::errc() && result.ptr == last;
}

/// Features are computed in float32: a value beyond its range (or infinite) would become inf
/// there and NaN or inf further on. NaN is not caught here: it is a missing value.
inline bool outside_float32(double v) { return std::fabs(v) > std::numeric_limits<float>::max(); }

/// A number beyond float32 in column `column`: a bad value of a forced-numeric column (sets
/// `error`, returns false); in an inferred column only noted in `noted`, an error later if the
/// column stays numeric (a text column may well hold "inf"). Out of line: the hot loop's rare
/// path.
[[gnu::cold, gnu::noinline]] bool out_of_range_value(Mode mode, std::string_view value,
                                                     std::size_t offset, std::int64_t column,
                                                     std::optional<RecordError>& noted,
                                                     RecordError& error);

/// The reason for a value of a forced-numeric column that is not a number.
std::string not_a_number(std::string_view value, std::string_view hint);

}  // namespace tabula::io::detail

#include "io/csv/numeric_lookalikes.hpp"

#include <algorithm>
#include <cctype>

#include "io/csv/convert.hpp"
#include "tabula/core/error.hpp"

namespace tabula::io::detail {
namespace {

// At most this many distinct non-numbers, in at most this share of the present cells, make a
// column "numbers with stray markers". A column of numbers and comma forms only is "numbers
// written with commas" (a decimal-comma file writes whole numbers without one).
constexpr std::size_t kMaxStrays = 3;
constexpr double kStrayShare = 0.10;

// "12,345" or "-1,234,567.5": digit groups of three after the first, then an optional fraction.
bool thousands_separated(std::string_view v) {
  if (!v.empty() && (v.front() == '-' || v.front() == '+')) v.remove_prefix(1);
  const std::size_t dot = v.find('.');
  const std::string_view whole = v.substr(0, dot);
  if (dot != std::string_view::npos) {
    const std::string_view fraction = v.substr(dot + 1);
    if (fraction.empty() || !std::all_of(fraction.begin(), fraction.end(), ::isdigit)) return false;
  }
  const std::size_t first = whole.find(',');
  if (first == std::string_view::npos || first == 0 || first > 3) return false;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    const bool comma_here = i >= first && (i - first) % 4 == 0;
    if (comma_here ? whole[i] != ',' : !std::isdigit(static_cast<unsigned char>(whole[i])))
      return false;
  }
  return (whole.size() - first) % 4 == 0;
}

// "3,25" or "-0,5": digits, one comma, digits ("1,234" is either this or a thousands group).
bool decimal_comma(std::string_view v) {
  if (!v.empty() && (v.front() == '-' || v.front() == '+')) v.remove_prefix(1);
  const std::size_t comma = v.find(',');
  if (comma == std::string_view::npos || comma == 0 || comma + 1 == v.size()) return false;
  return std::all_of(v.begin(), v.begin() + comma, ::isdigit) &&
         std::all_of(v.begin() + comma + 1, v.end(), ::isdigit);
}

enum class Kind { kNumber, kComma, kOther };

Kind kind_of(const std::string& value) {
  double number = 0;
  const std::string_view v = trim(value);
  if (parse_number(v, number)) return Kind::kNumber;
  if (decimal_comma(v) || thousands_separated(v)) return Kind::kComma;
  return Kind::kOther;
}

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "'" : ", '") + v + "'";
  return out;
}

void check_column(const Column& column, const std::string& source,
                  const std::function<std::int64_t(std::int64_t)>& line_of) {
  const std::size_t n = column.categories.size();
  std::vector<Kind> kinds(n);
  std::vector<std::int64_t> cells(n, 0), first_row(n, -1);
  for (std::size_t k = 0; k < n; ++k) kinds[k] = kind_of(column.categories[k]);
  for (std::size_t r = 0; r < column.codes.size(); ++r) {
    const std::int32_t code = column.codes[r];
    if (code < 0) continue;
    const auto k = static_cast<std::size_t>(code);
    if (cells[k]++ == 0) first_row[k] = static_cast<std::int64_t>(r);
  }
  std::int64_t present = 0, by_kind[3] = {0, 0, 0};
  std::vector<std::string> others;
  std::int64_t first = -1;  // the first row holding a non-number
  std::size_t comma_example = n;
  for (std::size_t k = 0; k < n; ++k) {
    present += cells[k];
    by_kind[static_cast<int>(kinds[k])] += cells[k];
    if (kinds[k] == Kind::kNumber || cells[k] == 0) continue;
    if (kinds[k] == Kind::kOther) others.push_back(column.categories[k]);
    if (kinds[k] == Kind::kComma && comma_example == n) comma_example = k;
    if (first < 0 || first_row[k] < first) first = first_row[k];
  }
  if (present == 0 || by_kind[static_cast<int>(Kind::kNumber)] == present) return;
  const auto share = [&](Kind kind) {
    return static_cast<double>(by_kind[static_cast<int>(kind)]) / static_cast<double>(present);
  };
  const std::string where =
      source + ":" + std::to_string(line_of(first)) + ": column '" + column.name + "' ";
  const std::string as_text = "--categorical " + column.name + " to read it as text";
  if (share(Kind::kOther) == 0)  // numbers, some written with commas
    throw InputError(where + "holds numbers written with commas (such as '" +
                     column.categories[comma_example] +
                     "'): decimal commas are read with --decimal , (and a delimiter other than "
                     "','); thousands separators are not read (remove them); or pass " +
                     as_text);
  if (!others.empty() && others.size() <= kMaxStrays && share(Kind::kOther) <= kStrayShare &&
      share(Kind::kNumber) >= 1 - kStrayShare)
    throw InputError(where + "holds numbers except " + quoted_list(others) + " in " +
                     std::to_string(by_kind[static_cast<int>(Kind::kOther)]) + " of " +
                     std::to_string(present) + " cells: pass --na-values " + quoted_list(others) +
                     " to read them as missing, or " + as_text);
}

}  // namespace

void check_numeric_lookalikes(const Dataset& dataset,
                              const std::vector<std::string>& forced_categorical,
                              const std::string& source,
                              const std::function<std::int64_t(std::int64_t)>& line_of) {
  const auto check = [&](const Column& column) {
    if (column.type != ColumnType::kCategorical) return;
    if (std::find(forced_categorical.begin(), forced_categorical.end(), column.name) !=
        forced_categorical.end())
      return;
    check_column(column, source, line_of);
  };
  for (const Column& column : dataset.columns) check(column);
  if (dataset.target) check(*dataset.target);
}

}  // namespace tabula::io::detail

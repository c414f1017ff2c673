// DateFeatures: a text column of dates or timestamps becomes numeric columns (year, month, day,
// day of week, day of year, hour, seconds since the epoch), like pandas' .dt accessors. The
// fitted state is the format and the parts, so predict and the server derive the same numbers.
#include <algorithm>
#include <array>

#include "distributed/reduce.hpp"
#include "pipeline/date_time.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::pipeline {
namespace {

constexpr std::array<std::string_view, 9> kParts = {
    "year", "month", "day", "day_of_week", "day_of_year", "hour", "minute", "second", "epoch"};

double part_of(const DateTime& d, std::string_view part) {
  if (part == "year") return d.year;
  if (part == "month") return d.month;
  if (part == "day") return d.day;
  if (part == "day_of_week") return d.day_of_week();
  if (part == "day_of_year") return d.day_of_year();
  if (part == "hour") return d.hour;
  if (part == "minute") return d.minute;
  if (part == "second") return d.second;
  return d.seconds_since_epoch();  // "epoch"; the parts are checked where they are read
}

bool is_part(std::string_view part) {
  return std::find(kParts.begin(), kParts.end(), part) != kParts.end();
}

std::string part_list() {
  std::string list;
  for (std::string_view p : kParts) list += (list.empty() ? "" : ", ") + std::string(p);
  return list;
}

}  // namespace

bool date_values(const Encoder& e, std::string_view text, double* out) {
  const std::optional<DateTime> d = parse_date_time(text, e.date_format);
  if (!d) return false;
  for (std::size_t k = 0; k < e.date_parts.size(); ++k) out[k] = part_of(*d, e.date_parts[k]);
  return true;
}

bool is_date_column(const Column& column, std::string_view format, Communicator* comm) {
  const bool any = column.type == ColumnType::kCategorical && !column.categories.empty();
  const bool dates =
      any && std::all_of(column.categories.begin(), column.categories.end(),
                         [&](const auto& v) { return parse_date_time(v, format).has_value(); });
  if (comm == nullptr || comm->size() == 1) return dates;
  // The whole table's categories are the union of the shares': dates when every share's are
  // and some share has one.
  std::vector<std::int64_t> votes{any ? 1 : 0, any && !dates ? 1 : 0};
  distributed::sum_over_ranks(comm, votes);
  return votes[0] > 0 && votes[1] == 0;
}

void check_date_parts(const std::vector<std::string>& parts, const std::string& where) {
  if (parts.empty()) throw InputError(where + ": no date part (known: " + part_list() + ")");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!is_part(parts[i]))
      throw InputError(where + ": unknown date part '" + parts[i] + "' (known: " + part_list() +
                       ")");
    if (std::find(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(i), parts[i]) !=
        parts.begin() + static_cast<std::ptrdiff_t>(i))
      throw InputError(where + ": date part '" + parts[i] + "' listed twice");
  }
}

Encoder fit_date_features(const StepSpec& step, const CategoryCounts& counts,
                          const std::string& column, nlohmann::json& attributes) {
  const StepParams p(step, {"format", "features"});
  Encoder e;
  e.kind = Encoder::Kind::kDate;
  e.date_format = p.text("format", kIsoDate);
  try {
    check_date_format(e.date_format);
  } catch (const InputError& err) {
    throw InputError("DateFeatures: " + std::string(err.what()));
  }
  bool any = false, has_time = false;
  for (std::size_t i = 0; i < counts.values.size(); ++i) {
    if (counts.counts[i] == 0) continue;
    const std::optional<DateTime> d = parse_date_time(counts.values[i], e.date_format);
    if (!d)
      throw InputError("DateFeatures: column '" + column + "': value '" + counts.values[i] +
                       "' is not a date in format " + describe_date_format(e.date_format) +
                       " (--date-format sets another; missing values are empty or NA)");
    any = true;
    has_time = has_time || d->has_time;
  }
  if (!any)
    throw InputError("DateFeatures: column '" + column + "' has no value on the training rows");
  if (const std::string* list = p.find("features")) {
    for (std::size_t start = 0; start <= list->size();) {
      const std::size_t comma = std::min(list->find(',', start), list->size());
      e.date_parts.push_back(list->substr(start, comma - start));
      start = comma + 1;
    }
    check_date_parts(e.date_parts, "DateFeatures: features");
  } else {
    e.date_parts = {"year", "month", "day", "day_of_week", "day_of_year"};
    if (has_time) e.date_parts.push_back("hour");
    e.date_parts.push_back("epoch");
  }
  e.width = static_cast<std::int64_t>(e.date_parts.size());
  for (const std::string& part : e.date_parts) e.output_names.push_back(column + "." + part);
  attributes["format"] = e.date_format;
  attributes["features_"].push_back(e.date_parts);
  return e;
}

}  // namespace tabula::pipeline

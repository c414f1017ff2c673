// tabula describe: per-column summary of a data file, like pandas.DataFrame.describe.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cli/command.hpp"
#include "cli/csv_flags.hpp"
#include "pipeline/date_time.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/io/npy.hpp"

namespace tabula::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct DescribeOptions {
  std::string data;
  std::string target;
  std::string id;                 // shown with role "id"
  std::vector<std::string> drop;  // shown with role "dropped"
  io::CsvSettings csv;
  PipelineOverrides dates;  // --date, --date-format: columns shown as dates in that format
  int top = 3;
  bool json = false;
};

struct Summary {
  const Column* column = nullptr;
  std::string role = "feature";  // as train would use the column: feature, target, id, dropped
  std::int64_t count = 0;        // present values
  std::int64_t missing = 0;
  // numeric
  double mean = kNaN, std = kNaN, min = kNaN, q25 = kNaN, q50 = kNaN, q75 = kNaN, max = kNaN;
  // categorical: (category index, frequency), most frequent first
  std::vector<std::pair<std::int32_t, std::int64_t>> top;
  std::int64_t distinct = 0;
  bool dates = false;  // every value a date (ISO 8601, or --date's format): read as dates
  std::string first_date, last_date;  // dates: the earliest and latest value, as written
};

// The earliest and latest values of a column of dates in `format`, by time.
std::pair<std::string, std::string> date_range(const Column& column, std::string_view format) {
  std::size_t first = 0, last = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t c = 0; c < column.categories.size(); ++c) {
    const auto when = pipeline::parse_date_time(column.categories[c], format);
    if (!when) continue;
    const double t = when->seconds_since_epoch();
    if (t < lo) lo = t, first = c;
    if (t > hi) hi = t, last = c;
  }
  return {column.categories[first], column.categories[last]};
}

// --date: every listed column exists and every value is a date in `format` (else InputError
// naming the first that is not).
void check_date_columns(const Dataset& data, const std::vector<std::string>& names,
                        std::string_view format) {
  for (const std::string& name : names) {
    if (!data.find(name)) throw InputError(data.source + ": --date: no column '" + name + "'");
    for (const std::string& value : data.column(name).categories)
      if (!pipeline::parse_date_time(value, format))
        throw InputError(data.source + ": --date: column '" + name + "': value '" + value +
                         "' is not a date in the format " + pipeline::describe_date_format(format) +
                         " (--date-format sets it)");
  }
}

// Linear interpolation between order statistics, as numpy.quantile and pandas do by default.
double quantile(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

Summary summarize(const Column& column, std::string role, int top, std::string_view date_format) {
  Summary s;
  s.column = &column;
  s.role = std::move(role);
  s.dates = !column.categories.empty() && pipeline::is_date_column(column, date_format);
  if (s.dates) std::tie(s.first_date, s.last_date) = date_range(column, date_format);
  if (column.type == ColumnType::kNumeric) {
    std::vector<double> values;
    values.reserve(column.numeric.size());
    for (double v : column.numeric)
      if (!std::isnan(v)) values.push_back(v);
    s.count = static_cast<std::int64_t>(values.size());
    s.missing = column.size() - s.count;
    if (values.empty()) return s;
    // Two passes (mean, then squared deviations) keep the variance accurate for large offsets.
    s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(s.count);
    if (s.count > 1) {
      double squares = 0;
      for (double v : values) squares += (v - s.mean) * (v - s.mean);
      s.std = std::sqrt(squares / static_cast<double>(s.count - 1));  // ddof=1, as pandas
    }
    std::sort(values.begin(), values.end());
    s.min = values.front();
    s.max = values.back();
    s.q25 = quantile(values, 0.25);
    s.q50 = quantile(values, 0.50);
    s.q75 = quantile(values, 0.75);
    return s;
  }
  std::vector<std::int64_t> frequency(column.categories.size(), 0);
  for (std::int32_t code : column.codes) {
    if (code < 0) {
      ++s.missing;
    } else {
      ++frequency[static_cast<std::size_t>(code)];
      ++s.count;
    }
  }
  for (std::size_t k = 0; k < frequency.size(); ++k) {
    if (frequency[k] == 0) continue;
    ++s.distinct;
    s.top.emplace_back(static_cast<std::int32_t>(k), frequency[k]);
  }
  // Most frequent first; ties in category (sorted) order, so the output is deterministic.
  const std::size_t keep = std::min(s.top.size(), static_cast<std::size_t>(std::max(0, top)));
  std::partial_sort(s.top.begin(), s.top.begin() + static_cast<std::ptrdiff_t>(keep), s.top.end(),
                    [](const auto& a, const auto& b) {
                      return a.second != b.second ? a.second > b.second : a.first < b.first;
                    });
  s.top.resize(keep);
  return s;
}

std::string number(double v) { return std::isnan(v) ? "-" : fmt::format("{:.6g}", v); }

nlohmann::json json_number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string display_name(const Summary& s) {
  return s.role == "feature" ? s.column->name : s.column->name + " (" + s.role + ")";
}

// Values may hold newlines or be long; show them on one line, shortened.
std::string printable(const std::string& value) {
  constexpr std::size_t kMaxShown = 24;
  std::string out;
  for (char c : value)
    out += c == '\n' ? std::string("\\n") : c == '\r' ? std::string("\\r") : std::string(1, c);
  if (out.size() > kMaxShown) out = out.substr(0, kMaxShown - 3) + "...";
  return out;
}

void print_text(const Dataset& data, const std::vector<Summary>& summaries) {
  fmt::print("{}: {} rows, {} columns", data.source, data.rows(),
             data.cols() + (data.target ? 1 : 0));
  if (data.target) fmt::print(" (target '{}')", data.target->name);
  fmt::print("\n");
  std::size_t width = 6;
  for (const Summary& s : summaries) width = std::max(width, display_name(s).size());
  const bool any_numeric = std::any_of(summaries.begin(), summaries.end(), [](const Summary& s) {
    return s.column->type == ColumnType::kNumeric;
  });
  if (any_numeric) {
    fmt::print("\nnumeric\n{:<{}}  {:>9} {:>8} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
               "column", width, "count", "missing", "mean", "std", "min", "25%", "50%", "75%",
               "max");
    for (const Summary& s : summaries) {
      if (s.column->type != ColumnType::kNumeric) continue;
      fmt::print("{:<{}}  {:>9} {:>8} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
                 display_name(s), width, s.count, s.missing, number(s.mean), number(s.std),
                 number(s.min), number(s.q25), number(s.q50), number(s.q75), number(s.max));
    }
  }
  if (std::any_of(summaries.begin(), summaries.end(),
                  [](const Summary& s) { return s.column->type == ColumnType::kCategorical; })) {
    fmt::print("\ncategorical\n{:<{}}  {:>9} {:>8} {:>8}  {}\n", "column", width, "count",
               "missing", "distinct", "top values (count)");
    for (const Summary& s : summaries) {
      if (s.column->type != ColumnType::kCategorical) continue;
      std::string top = s.dates ? fmt::format("dates {} .. {}; ", s.first_date, s.last_date) : "";
      for (const auto& [code, frequency] : s.top)
        top += (top.empty() || top.back() == ' ' ? "" : ", ") +
               fmt::format("'{}' ({})", printable(s.column->categories[code]), frequency);
      fmt::print("{:<{}}  {:>9} {:>8} {:>8}  {}\n", display_name(s), width, s.count, s.missing,
                 s.distinct, top);
    }
  }
}

void print_json(const Dataset& data, const std::vector<Summary>& summaries) {
  nlohmann::json out;
  out["source"] = data.source;
  out["rows"] = data.rows();
  out["columns"] = nlohmann::json::array();
  for (const Summary& s : summaries) {
    nlohmann::json c;
    c["name"] = s.column->name;
    c["type"] = std::string(to_string(s.column->type));
    c["role"] = s.role;
    c["count"] = s.count;
    c["missing"] = s.missing;
    if (s.column->type == ColumnType::kNumeric) {
      c["mean"] = json_number(s.mean);
      c["std"] = json_number(s.std);
      c["min"] = json_number(s.min);
      c["25%"] = json_number(s.q25);
      c["50%"] = json_number(s.q50);
      c["75%"] = json_number(s.q75);
      c["max"] = json_number(s.max);
    } else {
      c["distinct"] = s.distinct;
      if (s.dates) c["dates"] = {{"first", s.first_date}, {"last", s.last_date}};
      c["top"] = nlohmann::json::array();
      for (const auto& [code, frequency] : s.top)
        c["top"].push_back({{"value", s.column->categories[code]}, {"count", frequency}});
    }
    out["columns"].push_back(std::move(c));
  }
  // Invalid UTF-8 cannot reach here (the reader rejects it), so dump cannot throw on text.
  fmt::print("{}\n", out.dump(2));
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void describe(const DescribeOptions& options) {
  Dataset data;
  if (ends_with(options.data, ".npy")) {
    if (!options.target.empty() || !(options.csv == io::CsvSettings{}))
      throw InputError(options.data +
                       ": --target, --categorical, --numeric, --delimiter and --na-values apply "
                       "to CSV files only");
    data = io::npy_to_dataset(io::read_npy(options.data), options.data);
  } else {
    io::CsvSettings settings = options.csv;
    read_dates_as_text(options.dates, settings);
    io::CsvOptions csv = settings.options();
    if (!options.target.empty()) csv.target = options.target;
    data = io::read_csv(options.data, csv);
  }
  // Date columns: the ISO 8601 ones found, or those --date names in --date-format.
  const std::string date_format = options.dates.date_format.empty()
                                      ? std::string(pipeline::kIsoDate)
                                      : options.dates.date_format;
  pipeline::check_date_format(date_format);
  check_date_columns(data, options.dates.date_columns, date_format);
  std::vector<const Column*> columns;
  for (const Column& column : data.columns) columns.push_back(&column);
  if (data.target) columns.push_back(&*data.target);
  std::map<std::string, std::string> roles;  // column name -> role other than feature
  for (const std::string& name : options.drop) roles[name] = "dropped";
  if (!options.id.empty()) roles[options.id] = "id";
  for (const auto& [name, role] : roles)
    if (!data.find(name))
      throw InputError(data.source + ": --" + (role == "id" ? "id" : "drop") + ": no column '" +
                       name + "'");
  std::vector<Summary> summaries(columns.size());
  parallel_for(static_cast<std::int64_t>(columns.size()), [&](std::int64_t j) {
    const auto i = static_cast<std::size_t>(j);
    const bool target = data.target && columns[i] == &*data.target;
    const auto role = roles.find(columns[i]->name);
    summaries[i] = summarize(*columns[i],
                             target                ? "target"
                             : role != roles.end() ? role->second
                                                   : "feature",
                             options.top, date_format);
  });
  if (options.json)
    print_json(data, summaries);
  else
    print_text(data, summaries);
  std::fflush(stdout);
}

}  // namespace

void add_describe_command(CLI::App& app, Commands& commands) {
  CLI::App* sub = app.add_subcommand(
      "describe", "Summarize each column of a data file (CSV or .npy), like pandas.describe");
  auto options = std::make_shared<DescribeOptions>();
  sub->add_option("--data", options->data,
                  "CSV, Parquet, Feather or .npy file, or a sqlite:// or postgresql:// URL")
      ->required();
  sub->add_option("--target", options->target, "Column to treat as the target");
  sub->add_option("--id", options->id, "Column shown as the rows' identifier (role id)");
  sub->add_option("--drop,--drop-columns", options->drop,
                  "Columns shown as not used (role dropped; comma-separated)")
      ->delimiter(',');
  add_csv_flags(sub, options->csv, true);
  add_date_flags(sub, options->dates);
  sub->add_option("--top", options->top, "Most frequent values shown per categorical column")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_flag("--json", options->json, "Print JSON instead of tables");
  commands.push_back({sub, [options] { describe(*options); }});
}

}  // namespace tabula::cli

#include "cli/csv_flags.hpp"

#include <algorithm>

#include "tabula/core/error.hpp"

namespace tabula::cli {

void add_csv_flags(CLI::App* sub, io::CsvSettings& settings, bool column_types) {
  sub->add_option_function<std::string>(
      "--delimiter",
      [&settings](const std::string& text) {
        try {
          settings.delimiter = io::parse_delimiter(text);
        } catch (const InputError& e) {  // a usage error, reported as CLI11 reports its own
          throw CLI::ValidationError("--delimiter", e.what());
        }
      },
      "Field separator: one character or 'tab' (default: sniffed from the first rows among , ; "
      "tab |)");
  sub->add_option_function<std::string>(
      "--decimal",
      [&settings](const std::string& text) {
        try {
          settings.decimal = io::parse_decimal(text);
        } catch (const InputError& e) {
          throw CLI::ValidationError("--decimal", e.what());
        }
      },
      "Decimal mark of numbers: . (default) or , (1,5; the delimiter is then not ,)");
  sub->add_option("--encoding", settings.encoding,
                  "Text encoding of a CSV file, converted to UTF-8 as it is read: latin1, cp1252, "
                  "utf-16, shift_jis... (iconv's names; default utf-8)");
  sub->add_option("--na-values", settings.na_values,
                  "Values read as missing besides the defaults (NA, N/A, NaN, null, ...), e.g. "
                  "'?' (comma-separated, repeatable)")
      ->delimiter(',');
  if (!column_types) return;
  sub->add_option("--categorical", settings.categorical,
                  "Columns read as categories even when they hold numbers (zip codes, ids)")
      ->delimiter(',');
  sub->add_option("--numeric", settings.numeric,
                  "Columns that must hold numbers (a value that is not one is an error)")
      ->delimiter(',');
}

void add_date_flags(CLI::App* sub, PipelineOverrides& overrides) {
  sub->add_option("--date", overrides.date_columns,
                  "Columns of dates or timestamps, turned into year, month, day, day_of_week, "
                  "day_of_year, hour, epoch (default: the text columns of ISO 8601 dates)")
      ->delimiter(',');
  sub->add_option("--date-format", overrides.date_format,
                  "Format of the date columns: iso8601 (default) or strptime-style, e.g. "
                  "'%d/%m/%Y' (%Y %y %m %b %B %d %H %M %S)");
}

void read_dates_as_text(const PipelineOverrides& overrides, io::CsvSettings& settings) {
  for (const std::string& name : overrides.date_columns)
    if (std::find(settings.categorical.begin(), settings.categorical.end(), name) ==
        settings.categorical.end())
      settings.categorical.push_back(name);
}

}  // namespace tabula::cli

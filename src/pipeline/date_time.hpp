// Dates and timestamps as text: ISO 8601 (the default) or a strptime-style format, parsed into
// calendar fields. Used by the DateFeatures step and by the column selection that finds date
// columns.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tabula::pipeline {

/// The format name that means ISO 8601: YYYY-MM-DD, optionally followed by 'T' or ' ' and
/// HH:MM[:SS[.fraction]], optionally followed by 'Z' or an offset ±HH[:MM].
inline constexpr std::string_view kIsoDate = "iso8601";

struct DateTime {
  int year = 1970, month = 1, day = 1;  // as written
  int hour = 0, minute = 0;             // as written (local time of the value)
  double second = 0.0;
  bool has_time = false;
  int offset_minutes = 0;  // the value's UTC offset, 0 when none is written

  double seconds_since_epoch() const;  // UTC
  int day_of_week() const;             // Monday = 0 ... Sunday = 6 (pandas' day_of_week)
  int day_of_year() const;             // 1 ... 366
};

/// `text` read with `format` (kIsoDate, or strptime directives %Y %y %m %d %H %M %S %b %B %%
/// with other characters literal); nullopt when it is not a valid date in that format
/// (February 30th included).
std::optional<DateTime> parse_date_time(std::string_view text, std::string_view format);

/// InputError when `format` is not kIsoDate and has an unknown directive or no %Y/%y, %m/%b, %d.
void check_date_format(std::string_view format);

/// The format as users read it in messages: "ISO 8601 (YYYY-MM-DD[THH:MM[:SS]])" or "'%d/%m/%Y'".
std::string describe_date_format(std::string_view format);

}  // namespace tabula::pipeline

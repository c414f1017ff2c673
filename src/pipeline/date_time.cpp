// Date parsing: a small hand-written reader (no locale, no allocation), because it runs once per
// distinct value of a column and must give the same answer on every machine.
#include "pipeline/date_time.hpp"

#include <array>
#include <cctype>
#include <chrono>

#include "tabula/core/error.hpp"

namespace tabula::pipeline {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

constexpr std::array<std::string_view, 12> kMonths = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

/// Reads between `min_digits` and `max_digits` digits at `p`.
bool read_int(std::string_view text, std::size_t& p, int min_digits, int max_digits, int& out) {
  int n = 0, value = 0;
  while (n < max_digits && p < text.size() && text[p] >= '0' && text[p] <= '9') {
    value = value * 10 + (text[p] - '0');
    ++p, ++n;
  }
  out = value;
  return n >= min_digits;
}

bool read_char(std::string_view text, std::size_t& p, char c) {
  if (p >= text.size() || text[p] != c) return false;
  ++p;
  return true;
}

/// A month's English name, full or its first three letters, any case.
bool read_month_name(std::string_view text, std::size_t& p, int& out) {
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    const std::string_view name = kMonths[m];
    std::size_t n = 0;
    while (n < name.size() && p + n < text.size() &&
           std::tolower(static_cast<unsigned char>(text[p + n])) == name[n])
      ++n;
    if (n == name.size() || n == 3) {
      p += n;
      out = static_cast<int>(m) + 1;
      return true;
    }
  }
  return false;
}

/// Seconds with an optional fraction: "SS" or "SS.fff".
bool read_seconds(std::string_view text, std::size_t& p, double& out) {
  int whole = 0;
  if (!read_int(text, p, 2, 2, whole)) return false;
  out = whole;
  if (p < text.size() && (text[p] == '.' || text[p] == ',')) {
    ++p;
    double scale = 0.1;
    const std::size_t start = p;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9') {
      out += (text[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return false;
  }
  return true;
}

bool read_iso(std::string_view t, DateTime& d) {
  std::size_t p = 0;
  if (!(read_int(t, p, 4, 4, d.year) && read_char(t, p, '-') && read_int(t, p, 2, 2, d.month) &&
        read_char(t, p, '-') && read_int(t, p, 2, 2, d.day)))
    return false;
  if (p == t.size()) return true;
  if (t[p] != 'T' && t[p] != ' ') return false;
  ++p;
  d.has_time = true;
  if (!(read_int(t, p, 2, 2, d.hour) && read_char(t, p, ':') && read_int(t, p, 2, 2, d.minute)))
    return false;
  if (p < t.size() && t[p] == ':' && !(++p, read_seconds(t, p, d.second))) return false;
  if (p == t.size()) return true;
  if (t[p] == 'Z') return p + 1 == t.size();
  if (t[p] != '+' && t[p] != '-') return false;
  const int sign = t[p] == '-' ? -1 : 1;
  ++p;
  int hours = 0, minutes = 0;
  if (!read_int(t, p, 2, 2, hours)) return false;
  if (p < t.size()) {
    read_char(t, p, ':');  // +HH:MM or +HHMM
    if (!read_int(t, p, 2, 2, minutes)) return false;
  }
  if (hours > 23 || minutes > 59) return false;
  d.offset_minutes = sign * (hours * 60 + minutes);
  return p == t.size();
}

/// Reads `t` with a strptime-style `format`.
bool read_with_format(std::string_view t, std::string_view format, DateTime& d) {
  std::size_t p = 0;
  for (std::size_t f = 0; f < format.size(); ++f) {
    if (format[f] != '%') {
      if (!read_char(t, p, format[f])) return false;
      continue;
    }
    if (++f == format.size()) return false;
    bool ok = true;
    switch (format[f]) {
      case 'Y':
        ok = read_int(t, p, 4, 4, d.year);
        break;
      case 'y':
        ok = read_int(t, p, 2, 2, d.year);
        d.year += d.year < 69 ? 2000 : 1900;  // POSIX strptime
        break;
      case 'm':
        ok = read_int(t, p, 1, 2, d.month);
        break;
      case 'b':
      case 'B':
        ok = read_month_name(t, p, d.month);
        break;
      case 'd':
        ok = read_int(t, p, 1, 2, d.day);
        break;
      case 'H':
        ok = read_int(t, p, 1, 2, d.hour), d.has_time = true;
        break;
      case 'M':
        ok = read_int(t, p, 1, 2, d.minute), d.has_time = true;
        break;
      case 'S':
        ok = read_seconds(t, p, d.second), d.has_time = true;
        break;
      case '%':
        ok = read_char(t, p, '%');
        break;
      default:
        return false;
    }
    if (!ok) return false;
  }
  return p == t.size();
}

sys_days days_of(const DateTime& d) {
  return sys_days(year_month_day{year{d.year}, month{static_cast<unsigned>(d.month)},
                                 day{static_cast<unsigned>(d.day)}});
}

}  // namespace

std::optional<DateTime> parse_date_time(std::string_view text, std::string_view format) {
  DateTime d;
  const bool read = format == kIsoDate ? read_iso(text, d) : read_with_format(text, format, d);
  if (!read) return std::nullopt;
  const year_month_day ymd{year{d.year}, month{static_cast<unsigned>(d.month)},
                           day{static_cast<unsigned>(d.day)}};
  if (!ymd.ok() || d.hour > 23 || d.minute > 59 || d.second >= 61.0) return std::nullopt;
  return d;
}

double DateTime::seconds_since_epoch() const {
  const double days = days_of(*this).time_since_epoch().count();
  return days * 86400.0 + hour * 3600.0 + minute * 60.0 + second - offset_minutes * 60.0;
}

int DateTime::day_of_week() const {
  const unsigned iso = std::chrono::weekday(days_of(*this)).iso_encoding();  // Monday = 1
  return static_cast<int>(iso) - 1;
}

int DateTime::day_of_year() const {
  DateTime first = *this;
  first.month = first.day = 1;
  return static_cast<int>((days_of(*this) - days_of(first)).count()) + 1;
}

void check_date_format(std::string_view format) {
  if (format == kIsoDate) return;
  bool has_year = false, has_month = false, has_day = false;
  for (std::size_t f = 0; f < format.size(); ++f) {
    if (format[f] != '%') continue;
    const char c = f + 1 < format.size() ? format[++f] : '\0';
    switch (c) {
      case 'Y':
      case 'y':
        has_year = true;
        break;
      case 'm':
      case 'b':
      case 'B':
        has_month = true;
        break;
      case 'd':
        has_day = true;
        break;
      case 'H':
      case 'M':
      case 'S':
      case '%':
        break;
      default:
        throw InputError("date format '" + std::string(format) + "': unknown directive '%" +
                         std::string(c ? 1 : 0, c) +
                         "' (known: %Y %y %m %b %B %d %H %M %S %%, or iso8601)");
    }
  }
  if (!(has_year && has_month && has_day))
    throw InputError("date format '" + std::string(format) +
                     "': needs a year (%Y or %y), a month (%m or %b) and a day (%d)");
}

std::string describe_date_format(std::string_view format) {
  if (format == kIsoDate) return "ISO 8601 (YYYY-MM-DD[THH:MM[:SS]])";
  return "'" + std::string(format) + "'";
}

}  // namespace tabula::pipeline

// Tokenising: splits one record into fields (RFC 4180 quoting, "" escapes, CRLF or LF line
// ends, surrounding spaces trimmed outside quotes), checking each field's length and UTF-8
// before anything is copied. A header template so that each caller's per-field sink is inlined
// into the loop: this is the reader's hot path.
#pragma once

#include <fast_float/fast_float.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/csv/error.hpp"
#include "io/utf8.hpp"

namespace tabula::io::detail {

/// How a column is read. kNumeric: numbers until a value fails (type inference);
/// kStrictNumeric: a value that is not a number is an error; kStrings: text, the NA strings
/// missing; kRawStrings: text with no NA matching (pass-through columns keep "NA" as written);
/// kSkip: only counted.
enum class Mode : std::uint8_t { kNumeric, kStrictNumeric, kStrings, kRawStrings, kSkip };

/// One field of a record. `value` is the content (quotes removed, "" unescaped, surrounding
/// spaces trimmed when unquoted); `owned` says it lives in a scratch buffer, not in the text.
struct Field {
  std::string_view value;
  bool quoted = false;
  bool owned = false;
  bool has_number = false;  // `number` holds the value, parsed while scanning
  double number = 0;
};

/// Lets scan_record parse a number in place for the columns read as numbers: fast_float stops
/// at the end of the number, and when the next byte ends the field the separate scan for the
/// delimiter is skipped. `starts[c]` is true for bytes that may begin such a number ([0-9.-],
/// minus the first bytes of the NA strings, which need the full comparison).
struct NumberShortcut {
  const Mode* modes = nullptr;
  std::size_t columns = 0;
  const std::array<bool, 256>* starts = nullptr;

  bool applies(std::int64_t index, char first) const {
    return static_cast<std::size_t>(index) < columns &&
           (*starts)[static_cast<unsigned char>(first)] &&
           (modes[index] == Mode::kNumeric || modes[index] == Mode::kStrictNumeric);
  }
};

inline bool is_space(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// Skips blank lines (LF or CRLF) at `p`.
inline void skip_blank_lines(const char*& p, const char* end) {
  for (;;) {
    if (p < end && *p == '\n') {
      ++p;
    } else if (p + 1 < end && p[0] == '\r' && p[1] == '\n') {
      p += 2;
    } else {
      return;
    }
  }
}

/// True when `q` ends a field: the delimiter, LF, CRLF or the end of the text.
inline bool ends_field(const char* q, const char* end, char delimiter) {
  return q >= end || *q == delimiter || *q == '\n' || (*q == '\r' && q + 1 < end && q[1] == '\n');
}

/// Parses a number at `q`; succeeds only when the byte after it ends the field, so that the
/// field is exactly the number.
[[gnu::always_inline]] inline bool parse_number_in_place(const char*& q, const char* end,
                                                         char delimiter, Field& field) {
  // A leading zero ("01234") takes the full path, which decides whether it is a code.
  // (`q` < `end`; a lone '-' may be the last byte of the buffer.)
  const char* digits = q + (*q == '-');
  if (digits + 1 < end && *digits == '0' && digits[1] >= '0' && digits[1] <= '9') return false;
  double number = 0;
  const auto result = fast_float::from_chars(q, end, number);
  if (result.ec != std::errc() || !ends_field(result.ptr, end, delimiter)) return false;
  field.value = std::string_view(q, static_cast<std::size_t>(result.ptr - q));
  field.has_number = true;
  field.number = number;
  q = result.ptr;
  return true;
}

/// The end of a field's scan: `max_field` + 1 bytes past `from` at most, so the rest of an
/// oversized field is never read.
inline const char* scan_limit(const char* from, const char* end, std::size_t max_field) {
  return static_cast<std::size_t>(end - from) > max_field ? from + max_field + 1 : end;
}

/// Reads the quoted field whose opening quote is at `q`; on return `q` is past the closing
/// quote and the spaces after it. False with `error` set when it is too long, unterminated or
/// followed by something other than a field end.
[[gnu::always_inline]] inline bool scan_quoted(const char* text, const char*& q, const char* end,
                                               const char* field_start, char delimiter,
                                               std::size_t max_field, std::int64_t index,
                                               std::string& scratch, Field& field,
                                               RecordError& error) {
  field.quoted = true;
  const char* open = q++;
  const char* content = q;
  bool escaped = false;
  const char* limit = scan_limit(content, end, max_field);
  for (;;) {
    const char* close = q;  // fields are short: a loop beats a memchr call
    while (close < limit && *close != '"') ++close;
    if (close >= limit && limit < end) {
      error = {static_cast<std::size_t>(field_start - text), index + 1,
               field_too_long(max_field + 1, max_field)};
      return false;
    }
    if (close == end) {
      error = {static_cast<std::size_t>(open - text), index + 1,
               "unterminated quoted field: the quote opened on this line never closes"};
      return false;
    }
    if (close + 1 < end && close[1] == '"') {
      escaped = true;
      q = close + 2;
      continue;
    }
    q = close;
    break;
  }
  if (static_cast<std::size_t>(q - content) > max_field) {
    error = {static_cast<std::size_t>(field_start - text), index + 1,
             field_too_long(static_cast<std::size_t>(q - content), max_field)};
    return false;
  }
  if (escaped) {
    scratch.clear();
    for (const char* c = content; c < q; ++c) {
      scratch.push_back(*c);
      if (*c == '"') ++c;  // the second quote of a "" pair
    }
    field.value = scratch;
    field.owned = true;
  } else {
    field.value = std::string_view(content, static_cast<std::size_t>(q - content));
  }
  ++q;  // closing quote
  while (q < end && *q != delimiter && is_space(*q)) ++q;
  if (!ends_field(q, end, delimiter)) {
    error = {static_cast<std::size_t>(q - text), index + 1,
             "unexpected character after a closing quote (a quote inside a quoted field "
             "must be doubled: \"\")"};
    return false;
  }
  return true;
}

/// Reads the unquoted field starting at `q` up to the delimiter or line end (a lone CR is
/// data); sets `non_ascii` when a byte has the high bit. False with `error` set when it is too
/// long or holds a quote.
[[gnu::always_inline]] inline bool scan_unquoted(const char* text, const char*& q, const char* end,
                                                 const char* field_start, char delimiter,
                                                 std::size_t max_field, std::int64_t index,
                                                 Field& field, bool& non_ascii,
                                                 RecordError& error) {
  const char* start = q;
  unsigned char high_bits = 0;
  const char* limit = scan_limit(q, end, max_field);
  for (;;) {
    while (q < limit) {
      const char c = *q;
      if (c == delimiter || c == '\n' || c == '\r' || c == '"') break;
      high_bits |= static_cast<unsigned char>(c);
      ++q;
    }
    if (q == limit && limit < end) {
      error = {static_cast<std::size_t>(field_start - text), index + 1,
               field_too_long(max_field + 1, max_field)};
      return false;
    }
    if (q < end && *q == '\r' && !(q + 1 < end && q[1] == '\n')) {
      ++q;  // a lone CR is data, not a line end
      continue;
    }
    break;
  }
  if (q < end && *q == '"') {
    error = {static_cast<std::size_t>(q - text), index + 1,
             "quote inside an unquoted field (quote the whole field and double the inner "
             "quote: \"\")"};
    return false;
  }
  field.value = trim(std::string_view(start, static_cast<std::size_t>(q - start)));
  non_ascii = (high_bits & 0x80) != 0;
  return true;
}

/// The checks every field passes whatever its quoting: its length (a number that long, or one
/// byte over at the end of the text) and, when it has non-ASCII bytes, valid UTF-8.
[[gnu::always_inline]] inline bool check_field(const char* text, const char* field_start,
                                               std::size_t max_field, std::int64_t index,
                                               const Field& field, bool non_ascii,
                                               RecordError& error) {
  if (field.value.size() > max_field) {
    error = {static_cast<std::size_t>(field_start - text), index + 1,
             field_too_long(field.value.size(), max_field)};
    return false;
  }
  if (!non_ascii) return true;
  const std::size_t bad = find_invalid_utf8(field.value.data(), field.value.size());
  if (bad >= field.value.size()) return true;
  error = {static_cast<std::size_t>(field_start - text), index + 1,
           "invalid UTF-8 (byte " + std::to_string(bad + 1) +
               " of the value; a file in another encoding needs --encoding, e.g. cp1252)"};
  return false;
}

/// Reads the fields of one record starting at `p` (the start of a record, not a blank line) and
/// calls sink(index, field, field_start) for each; sink returns false after setting `error`.
/// Returns the number of fields, or -1 with `error` set. On success `p` is the start of the next
/// record (or `end`). A field longer than `max_field` bytes is an error, found before its value
/// is copied anywhere: a hostile file must not make the reader allocate without bound.
template <class Sink>
std::int64_t scan_record(const char* text, const char*& p, const char* end, char delimiter,
                         std::size_t max_field, std::string& scratch, Sink&& sink,
                         RecordError& error, const NumberShortcut& shortcut = {}) {
  std::int64_t index = 0;
  for (;;) {
    const char* field_start = p;
    const char* q = p;
    while (q < end && *q != delimiter && is_space(*q)) ++q;
    Field field;
    bool non_ascii = false;
    if (q < end && *q == '"') {
      if (!scan_quoted(text, q, end, field_start, delimiter, max_field, index, scratch, field,
                       error))
        return -1;
      for (char c : field.value) non_ascii |= (static_cast<unsigned char>(c) & 0x80) != 0;
    } else if (!(q < end && shortcut.applies(index, *q) &&
                 parse_number_in_place(q, end, delimiter, field))) {
      if (!scan_unquoted(text, q, end, field_start, delimiter, max_field, index, field, non_ascii,
                         error))
        return -1;
    }
    if (!check_field(text, field_start, max_field, index, field, non_ascii, error)) return -1;
    if (!sink(index, field, field_start)) return -1;
    ++index;
    if (q >= end) {
      p = end;
      return index;
    }
    if (*q == delimiter) {
      p = q + 1;
      if (p == end) {  // a trailing delimiter at the end of the file: one more empty field
        if (!sink(index, Field{}, p)) return -1;
        return index + 1;
      }
      continue;
    }
    p = q + (*q == '\r' ? 2 : 1);
    return index;
  }
}

}  // namespace tabula::io::detail

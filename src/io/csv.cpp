// The CSV reader. The body is cut into chunks at record boundaries (found by quote parity, so a
// quoted newline never splits a record), chunks are parsed in parallel into per-chunk columns,
// and the chunks are merged in file order: the result does not depend on the thread count.
//
// Type inference needs every value of a column, so a column is parsed as numbers until a value
// fails; a column that fails anywhere becomes categorical and, unless a probe of the first rows
// already caught it, is parsed again as strings in a second pass over the chunks.
#include <fast_float/fast_float.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "io/csv_parser.hpp"
#include "io/mapped_file.hpp"
#include "io/utf8.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::io {
namespace detail {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kProbeBytes = 256 * 1024;  // rows used to guess string columns up front
constexpr std::size_t kMinChunkBytes = 1 << 20;
constexpr std::size_t kMaxChunkBytes = 8 << 20;
constexpr int kMaxNamesListed = 8;

// A problem found while parsing; turned into an InputError with a line number at the end, once
// the first failing chunk (in file order) is known.
struct ParseError {
  std::size_t offset = 0;   // byte offset in the text: its line is the error's line
  std::int64_t column = 0;  // 1-based; 0 when not in one column
  std::string message;
};

// One field of a record. `value` is the content (quotes removed, "" unescaped, surrounding
// spaces trimmed when unquoted); `owned` says it lives in a scratch buffer, not in the text.
struct Field {
  std::string_view value;
  bool quoted = false;
  bool owned = false;
  bool has_number = false;  // `number` holds the value, parsed while scanning
  double number = 0;
};

// kRawStrings: text with no NA matching (pass-through columns keep "NA" as written).
enum class Mode : std::uint8_t { kNumeric, kStrictNumeric, kStrings, kRawStrings, kSkip };

// Lets scan_record parse a number in place for the columns read as numbers: fast_float stops at
// the end of the number, and when the next byte ends the field the separate scan for the
// delimiter is skipped. `starts[c]` is true for bytes that may begin such a number ([0-9.-],
// minus the first bytes of the NA strings, which need the full comparison).
struct NumberShortcut {
  const Mode* modes = nullptr;
  std::size_t columns = 0;
  const std::array<bool, 256>* starts = nullptr;
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string quote_value(std::string_view value) {
  constexpr std::size_t kMaxShown = 40;
  std::string shown(value.substr(0, kMaxShown));
  if (value.size() > kMaxShown) shown += "...";
  return "'" + shown + "'";
}

// Parses a number at `q`; succeeds only when the byte after it ends the field (delimiter, LF,
// CRLF or the end of the text), so that the field is exactly the number.
inline bool parse_number_in_place(const char*& q, const char* end, char delimiter, Field& field) {
  double number = 0;
  const auto result = fast_float::from_chars(q, end, number);
  if (result.ec != std::errc()) return false;
  const char* after = result.ptr;
  if (after < end && *after != delimiter && *after != '\n' &&
      !(*after == '\r' && after + 1 < end && after[1] == '\n'))
    return false;
  field.value = std::string_view(q, static_cast<std::size_t>(after - q));
  field.has_number = true;
  field.number = number;
  q = after;
  return true;
}

std::string field_too_long(std::size_t bytes, std::size_t limit) {
  return "a field of " + std::to_string(bytes) + " bytes or more exceeds the limit of " +
         std::to_string(limit) + " bytes per field (max_field_bytes)";
}

// Reads the fields of one record starting at `p` (the start of a record, not a blank line) and
// calls sink(index, field, field_start) for each; sink returns false after setting `error`.
// Returns the number of fields, or -1 with `error` set. On success `p` is the start of the next
// record (or `end`). A field longer than `max_field` bytes is an error, found before its value
// is copied anywhere: a hostile file must not make the reader allocate without bound.
template <class Sink>
std::int64_t scan_record(const char* text, const char*& p, const char* end, char delimiter,
                         std::size_t max_field, std::string& scratch, Sink&& sink,
                         ParseError& error, const NumberShortcut& shortcut = {}) {
  std::int64_t index = 0;
  for (;;) {
    const char* field_start = p;
    const char* q = p;
    while (q < end && *q != delimiter && is_space(*q)) ++q;
    Field field;
    bool non_ascii = false;
    if (q < end && *q == '"') {
      field.quoted = true;
      const char* open = q++;
      const char* content = q;
      bool escaped = false;
      // The closing quote is looked for within the limit only: an oversized field is not read.
      const char* limit =
          static_cast<std::size_t>(end - content) > max_field ? content + max_field + 1 : end;
      for (;;) {
        const char* close = q;  // fields are short: a loop beats a memchr call
        while (close < limit && *close != '"') ++close;
        if (close >= limit && limit < end) {
          error = {static_cast<std::size_t>(field_start - text), index + 1,
                   field_too_long(max_field + 1, max_field)};
          return -1;
        }
        if (close == end) {
          error = {static_cast<std::size_t>(open - text), index + 1,
                   "unterminated quoted field: the quote opened on this line never closes"};
          return -1;
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
        return -1;
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
      if (q < end && *q != delimiter && *q != '\n' &&
          !(*q == '\r' && q + 1 < end && q[1] == '\n')) {
        error = {static_cast<std::size_t>(q - text), index + 1,
                 "unexpected character after a closing quote (a quote inside a quoted field "
                 "must be doubled: \"\")"};
        return -1;
      }
      for (char c : field.value) non_ascii |= (static_cast<unsigned char>(c) & 0x80) != 0;
    } else if (q < end && static_cast<std::size_t>(index) < shortcut.columns &&
               (*shortcut.starts)[static_cast<unsigned char>(*q)] &&
               (shortcut.modes[index] == Mode::kNumeric ||
                shortcut.modes[index] == Mode::kStrictNumeric) &&
               parse_number_in_place(q, end, delimiter, field)) {
      // field filled, q at the byte after the number
    } else {
      const char* start = q;
      unsigned char high_bits = 0;
      // Stops one byte past the limit: the rest of an oversized field is never scanned.
      const char* limit = static_cast<std::size_t>(end - q) > max_field ? q + max_field + 1 : end;
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
          return -1;
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
        return -1;
      }
      field.value = trim(std::string_view(start, static_cast<std::size_t>(q - start)));
      non_ascii = (high_bits & 0x80) != 0;
    }
    if (field.value.size() > max_field) {  // a number that long, or one byte over at the end
      error = {static_cast<std::size_t>(field_start - text), index + 1,
               field_too_long(field.value.size(), max_field)};
      return -1;
    }
    if (non_ascii) {
      const std::size_t bad = find_invalid_utf8(field.value.data(), field.value.size());
      if (bad < field.value.size()) {
        error = {static_cast<std::size_t>(field_start - text), index + 1,
                 "invalid UTF-8 (byte " + std::to_string(bad + 1) + " of the value)"};
        return -1;
      }
    }
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

// Skips blank lines (LF or CRLF) at `p`.
void skip_blank_lines(const char*& p, const char* end) {
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

// A plain loop the compiler vectorizes: quote-heavy files would make a memchr per quote slow,
// and this runs serially over the whole file.
std::size_t count_quotes(const char* begin, const char* end) {
  std::size_t count = 0;
  for (const char* c = begin; c < end; ++c) count += *c == '"' ? 1 : 0;
  return count;
}

// The first record boundary at or after `target`, for a scan that started at record start
// `pos` with `quotes` quotes seen in [pos, target): the byte after the first newline outside
// quotes, judged by quote parity. text.size() when there is none.
std::size_t boundary_after(std::string_view text, std::size_t target, std::size_t quotes) {
  const char* base = text.data();
  const std::size_t size = text.size();
  std::size_t cursor = target;
  while (cursor < size) {
    const void* found = std::memchr(base + cursor, '\n', size - cursor);
    if (found == nullptr) break;
    const std::size_t newline = static_cast<std::size_t>(static_cast<const char*>(found) - base);
    quotes += count_quotes(base + cursor, base + newline);
    if (quotes % 2 == 0) return newline + 1;
    cursor = newline + 1;
  }
  return size;
}

// The end of the first chunk of about `chunk_bytes` starting at record start `begin`.
std::size_t first_chunk_end(std::string_view text, std::size_t begin, std::size_t chunk_bytes) {
  const std::size_t target = begin + std::max<std::size_t>(1, chunk_bytes);
  if (target >= text.size()) return text.size();
  return boundary_after(text, target, count_quotes(text.data() + begin, text.data() + target));
}

// Chunk boundaries [b0, b1), [b1, b2), ... covering [begin, size): each boundary is the first
// record boundary after begin + k * chunk_bytes. Quote parity decides what is inside a quoted
// field, so the quotes are counted per segment in parallel and summed; then each segment's
// boundary is found in parallel too. The whole pass is otherwise serial over the file.
std::vector<std::size_t> split_chunks(std::string_view text, std::size_t begin,
                                      std::size_t chunk_bytes) {
  const std::size_t size = text.size();
  chunk_bytes = std::max<std::size_t>(1, chunk_bytes);
  const std::size_t segments = begin < size ? (size - begin + chunk_bytes - 1) / chunk_bytes : 1;
  std::vector<std::size_t> quotes(segments, 0);
  parallel_for(static_cast<std::int64_t>(segments), [&](std::int64_t k) {
    const std::size_t from = begin + static_cast<std::size_t>(k) * chunk_bytes;
    const std::size_t to = std::min(size, from + chunk_bytes);
    quotes[static_cast<std::size_t>(k)] = count_quotes(text.data() + from, text.data() + to);
  });
  std::vector<std::size_t> quotes_before(segments, 0);  // quotes in [begin, segment start)
  for (std::size_t k = 1; k < segments; ++k)
    quotes_before[k] = quotes_before[k - 1] + quotes[k - 1];
  std::vector<std::size_t> ends(segments, size);
  parallel_for(static_cast<std::int64_t>(segments) - 1, [&](std::int64_t k) {
    const auto next = static_cast<std::size_t>(k) + 1;
    ends[next] = boundary_after(text, begin + next * chunk_bytes, quotes_before[next]);
  });
  // A record longer than a segment makes neighbouring segments find the same boundary.
  std::vector<std::size_t> bounds{begin};
  for (std::size_t k = 1; k < segments; ++k)
    if (ends[k] > bounds.back() && ends[k] < size) bounds.push_back(ends[k]);
  bounds.push_back(size);
  return bounds;
}

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

// Distinct strings of one column in one chunk, in order of first appearance.
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

struct ChunkColumns {
  std::int64_t rows = 0;
  std::vector<std::vector<double>> numeric;      // per column, kNumeric/kStrictNumeric
  std::vector<std::vector<std::int32_t>> codes;  // per column, kStrings
  std::vector<Dictionary> dictionaries;          // per column, kStrings
  std::vector<char> not_numeric;                 // per column: a value failed to parse
  // Per column: the first number outside the float32 range in an inferred column; an error
  // only if the column ends up numeric (a text column may well hold "inf").
  std::vector<std::optional<ParseError>> out_of_range;
  std::optional<ParseError> error;
  std::vector<std::size_t> row_offsets;  // start of each row (when asked for)
  std::vector<ParseError> rejected;      // records dropped (skip mode), in order
};

// How parse_chunk treats a bad record and what it records besides the columns.
struct ChunkPolicy {
  bool skip_bad = false;     // drop a bad record into `rejected` and go on
  bool row_offsets = false;  // fill ChunkColumns::row_offsets
  std::string_view number_hint = "the column is forced numeric";  // why a number was expected
  std::size_t max_field_bytes = kDefaultMaxFieldBytes;
};

// Features are computed in float32: a value beyond its range (or infinite) would become inf
// there and NaN or inf further on. NaN is not caught here: it is a missing value.
bool outside_float32(double v) { return std::fabs(v) > std::numeric_limits<float>::max(); }

// A number beyond float32 in column `column`: a bad value of a forced-numeric column (sets
// `error`, returns false); in an inferred column only noted in `noted`, an error later if the
// column stays numeric (a text column may well hold "inf"). Out of line: the hot loop's rare path.
[[gnu::cold, gnu::noinline]] bool out_of_range_value(Mode mode, std::string_view value,
                                                     std::size_t offset, std::int64_t column,
                                                     std::optional<ParseError>& noted,
                                                     ParseError& error) {
  ParseError e{offset, column,
               "value " + quote_value(value) +
                   " is infinite or outside the float32 range (|x| <= 3.4028235e38)"};
  if (mode == Mode::kStrictNumeric) {
    error = std::move(e);
    return false;
  }
  if (!noted) noted = std::move(e);
  return true;
}

// The record boundary after a bad record starting at `start`: the byte after the first newline
// outside quotes (by quote parity, as the chunk splitter judges it), or `end`.
const char* resync_after(const char* start, const char* end) {
  bool quoted = false;
  for (const char* c = start; c < end; ++c) {
    if (*c == '"')
      quoted = !quoted;
    else if (*c == '\n' && !quoted)
      return c + 1;
  }
  return end;
}

struct Schema {
  std::vector<std::string> names;
  std::vector<Mode> modes;
};

// Parses the records in [begin, end) into per-column arrays following `modes`.
ChunkColumns parse_chunk(std::string_view text, std::size_t begin, std::size_t end,
                         const Schema& schema, const std::vector<Mode>& modes, char delimiter,
                         const NaMatcher& is_na, std::size_t reserve_rows,
                         const ChunkPolicy& policy = {}) {
  const std::size_t ncols = schema.names.size();
  ChunkColumns out;
  out.numeric.resize(ncols);
  out.codes.resize(ncols);
  out.dictionaries.resize(ncols);
  out.not_numeric.assign(ncols, 0);
  out.out_of_range.resize(ncols);
  std::vector<Mode> mode = modes;
  for (std::size_t j = 0; j < ncols; ++j) {
    if (mode[j] == Mode::kNumeric || mode[j] == Mode::kStrictNumeric)
      out.numeric[j].reserve(reserve_rows);
    else if (mode[j] == Mode::kStrings || mode[j] == Mode::kRawStrings)
      out.codes[j].reserve(reserve_rows);
  }
  if (policy.row_offsets) out.row_offsets.reserve(reserve_rows);
  const char* base = text.data();
  const char* p = base + begin;
  const char* stop = base + end;
  std::string scratch;
  ParseError error;
  const char* record_start = p;
  // Bytes fast_float may consume must not be the delimiter, or a number could run past it.
  std::array<bool, 256> number_starts{};
  const bool delimiter_is_safe =
      std::isalnum(static_cast<unsigned char>(delimiter)) == 0 &&
      std::string_view(".-+()_").find(delimiter) == std::string_view::npos;
  if (delimiter_is_safe)
    for (unsigned char c : std::string_view("0123456789.-")) number_starts[c] = !is_na.may_start(c);
  const NumberShortcut shortcut{mode.data(), ncols, &number_starts};
  auto sink = [&](std::int64_t index, const Field& field, const char* field_start)
      __attribute__((always_inline)) {
    const auto j = static_cast<std::size_t>(index);
    if (j >= ncols) return true;  // counted, reported once the record is complete
    switch (mode[j]) {
      case Mode::kSkip:
        return true;
      case Mode::kStrings:
        out.codes[j].push_back(is_na(trim(field.value)) ? -1 : out.dictionaries[j].code(field));
        return true;
      case Mode::kRawStrings:
        out.codes[j].push_back(out.dictionaries[j].code(field));
        return true;
      case Mode::kNumeric:
      case Mode::kStrictNumeric: {
        const auto offset = static_cast<std::size_t>(field_start - base);
        if (field.has_number) {
          if (outside_float32(field.number) &&
              !out_of_range_value(mode[j], field.value, offset, index + 1, out.out_of_range[j],
                                  error))
            return false;
          out.numeric[j].push_back(field.number);
          return true;
        }
        const std::string_view value = field.quoted ? trim(field.value) : field.value;
        if (is_na(value)) {
          out.numeric[j].push_back(kMissing);
          return true;
        }
        // fast_float, like std::from_chars, rejects a leading '+'; CSV writers do emit it.
        const char* first = value.data();
        const char* last = value.data() + value.size();
        if (value.size() > 1 && *first == '+' && first[1] != '-' && first[1] != '+') ++first;
        double number = 0;
        const auto result = fast_float::from_chars(first, last, number);
        if (result.ec == std::errc() && result.ptr == last) {
          if (outside_float32(number) &&
              !out_of_range_value(mode[j], value, offset, index + 1, out.out_of_range[j], error))
            return false;
          out.numeric[j].push_back(number);
          return true;
        }
        if (mode[j] == Mode::kStrictNumeric) {
          error = {offset, index + 1,
                   "value " + quote_value(value) + " is not a number (" +
                       std::string(policy.number_hint) + ")"};
          return false;
        }
        out.not_numeric[j] = 1;
        mode[j] = Mode::kSkip;
        out.numeric[j] = {};
        return true;
      }
    }
    return true;
  };
  for (;;) {
    skip_blank_lines(p, stop);
    if (p >= stop) break;
    record_start = p;
    const std::int64_t fields = scan_record(base, p, stop, delimiter, policy.max_field_bytes,
                                            scratch, sink, error, shortcut);
    if (fields >= 0 && static_cast<std::size_t>(fields) != ncols) {
      const std::int64_t column = static_cast<std::size_t>(fields) > ncols ? ncols + 1 : 0;
      error = ParseError{static_cast<std::size_t>(record_start - base), column,
                         "wrong number of fields: expected " + std::to_string(ncols) +
                             " (as in the header), found " + std::to_string(fields)};
    }
    if (fields < 0 || static_cast<std::size_t>(fields) != ncols) {
      // An unterminated quote swallows the rest of the text: there is no next record to go on.
      if (!policy.skip_bad || error.message.starts_with("unterminated")) {
        out.error = std::move(error);
        return out;
      }
      // Drop what the record's first fields already appended.
      for (std::size_t j = 0; j < ncols; ++j) {
        if (out.numeric[j].size() > static_cast<std::size_t>(out.rows)) out.numeric[j].pop_back();
        if (out.codes[j].size() > static_cast<std::size_t>(out.rows)) out.codes[j].pop_back();
      }
      error.offset = static_cast<std::size_t>(record_start - base);  // report the record's line
      out.rejected.push_back(std::move(error));
      p = resync_after(record_start, stop);
      continue;
    }
    if (policy.row_offsets)
      out.row_offsets.push_back(static_cast<std::size_t>(record_start - base));
    ++out.rows;
  }
  return out;
}

[[noreturn]] void throw_at(std::string_view text, const std::string& source, const Schema& schema,
                           const ParseError& error) {
  const std::size_t offset = std::min(error.offset, text.size());
  const auto line =
      1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
  std::string_view name;
  if (error.column > 0 && static_cast<std::size_t>(error.column) <= schema.names.size())
    name = schema.names[static_cast<std::size_t>(error.column - 1)];
  throw InputError(describe_location(source, line, error.column, name, error.message));
}

std::string list_names(const std::vector<std::string>& names) {
  std::string list;
  for (std::size_t i = 0; i < names.size() && i < kMaxNamesListed; ++i)
    list += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > kMaxNamesListed)
    list += ", ... (" + std::to_string(names.size()) + " columns)";
  return list;
}

// Reads the header record at `p`; checks for empty and duplicate names.
Schema parse_header(std::string_view text, const char*& p, const std::string& source,
                    char delimiter, std::size_t max_field = kDefaultMaxFieldBytes) {
  const char* base = text.data();
  const char* end = base + text.size();
  Schema schema;
  std::string scratch;
  ParseError error;
  auto sink = [&](std::int64_t, const Field& field, const char*) {
    schema.names.emplace_back(trim(field.value));
    return true;
  };
  const char* header_start = p;
  if (scan_record(base, p, end, delimiter, max_field, scratch, sink, error) < 0)
    throw_at(text, source, schema, error);
  const auto line = 1 + std::count(base, header_start, '\n');
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t j = 0; j < schema.names.size(); ++j) {
    const std::string& name = schema.names[j];
    if (name.empty())
      throw InputError(describe_location(source, line, static_cast<std::int64_t>(j) + 1, "",
                                         "empty column name in the header"));
    const auto [it, inserted] = seen.emplace(name, j);
    if (!inserted)
      throw InputError(describe_location(
          source, line, static_cast<std::int64_t>(j) + 1, name,
          "duplicate column name (also column " + std::to_string(it->second + 1) + ")"));
  }
  return schema;
}

// Applies the categorical/numeric overrides and checks the target exists.
void apply_options(Schema& schema, const std::string& source, const CsvOptions& options,
                   std::int64_t header_line) {
  const std::size_t ncols = schema.names.size();
  schema.modes.assign(ncols, Mode::kNumeric);
  auto index_of = [&](const std::string& name, const char* what) {
    for (std::size_t j = 0; j < ncols; ++j)
      if (schema.names[j] == name) return j;
    throw InputError(describe_location(
        source, header_line, 0, name,
        std::string(what) + " not found in the header; columns: " + list_names(schema.names)));
  };
  for (const std::string& name : options.categorical)
    schema.modes[index_of(name, "forced categorical, but")] = Mode::kStrings;
  for (const std::string& name : options.numeric) {
    const std::size_t j = index_of(name, "forced numeric, but");
    if (schema.modes[j] == Mode::kStrings)
      throw InputError(describe_location(source, header_line, static_cast<std::int64_t>(j) + 1,
                                         name, "forced both categorical and numeric"));
    schema.modes[j] = Mode::kStrictNumeric;
  }
  if (options.target) index_of(*options.target, "target column");
}

// The first value outside the float32 range, in file order, among the inferred columns that
// stay numeric (the others are text, where "inf" is just a word).
const ParseError* first_out_of_range(const std::vector<ChunkColumns>& chunks,
                                     const std::vector<Mode>& modes,
                                     const std::vector<Mode>& second) {
  for (const ChunkColumns& chunk : chunks) {
    const ParseError* first = nullptr;
    for (std::size_t j = 0; j < modes.size(); ++j) {
      if (modes[j] != Mode::kNumeric || second[j] == Mode::kStrings) continue;
      const std::optional<ParseError>& e = chunk.out_of_range[j];
      if (e && (!first || e->offset < first->offset)) first = &*e;
    }
    if (first) return first;
  }
  return nullptr;
}

// Concatenates the chunks' columns in chunk order.
Column merge_numeric(std::string name, std::vector<ChunkColumns>& chunks, std::size_t j,
                     const std::vector<std::size_t>& row_offsets) {
  Column column;
  column.name = std::move(name);
  column.type = ColumnType::kNumeric;
  column.numeric.resize(row_offsets.back());
  parallel_for(static_cast<std::int64_t>(chunks.size()), [&](std::int64_t c) {
    std::vector<double>& part = chunks[static_cast<std::size_t>(c)].numeric[j];
    std::copy(part.begin(), part.end(),
              column.numeric.begin() + static_cast<std::ptrdiff_t>(row_offsets[c]));
    part = {};
  });
  return column;
}

// Sorts the union of the chunks' dictionaries and recodes each chunk against it.
Column merge_strings(std::string name, std::vector<ChunkColumns>& chunks, std::size_t j,
                     const std::vector<std::size_t>& row_offsets) {
  Column column;
  column.name = std::move(name);
  column.type = ColumnType::kCategorical;
  std::vector<std::string_view> all;
  for (const ChunkColumns& chunk : chunks)
    all.insert(all.end(), chunk.dictionaries[j].values.begin(), chunk.dictionaries[j].values.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  if (all.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw InputError("column '" + column.name + "' has more than 2^31 distinct values");
  column.codes.resize(row_offsets.back());
  parallel_for(static_cast<std::int64_t>(chunks.size()), [&](std::int64_t c) {
    ChunkColumns& chunk = chunks[static_cast<std::size_t>(c)];
    std::vector<std::int32_t> recode(chunk.dictionaries[j].values.size());
    for (std::size_t k = 0; k < recode.size(); ++k)
      recode[k] = static_cast<std::int32_t>(
          std::lower_bound(all.begin(), all.end(), chunk.dictionaries[j].values[k]) - all.begin());
    std::int32_t* out = column.codes.data() + row_offsets[c];
    for (std::int32_t code : chunk.codes[j]) *out++ = code < 0 ? -1 : recode[code];
    chunk.codes[j] = {};
  });
  column.categories.assign(all.begin(), all.end());
  return column;
}

}  // namespace

std::size_t default_chunk_bytes(std::size_t bytes, int threads) {
  const std::size_t per_task = bytes / (8 * static_cast<std::size_t>(std::max(1, threads)));
  return std::clamp(per_task, kMinChunkBytes, kMaxChunkBytes);
}

Dataset parse_csv_chunked(std::string_view text, const std::string& source,
                          const CsvOptions& options, std::size_t chunk_bytes) {
  const char delimiter = options.delimiter;
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
    throw InputError("CSV delimiter cannot be a quote or a line break");
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);

  const char* base = text.data();
  const char* p = base;
  skip_blank_lines(p, base + text.size());
  if (p >= base + text.size())
    throw InputError(describe_location(source, 1, 0, "", "the file is empty (no header row)"));
  const auto header_line = 1 + std::count(base, p, '\n');
  Schema schema = parse_header(text, p, source, delimiter, options.max_field_bytes);
  apply_options(schema, source, options, header_line);
  const std::size_t ncols = schema.names.size();

  const std::size_t body = static_cast<std::size_t>(p - base);
  {
    const char* q = p;
    skip_blank_lines(q, base + text.size());
    if (q >= base + text.size())
      throw InputError(
          describe_location(source, header_line, 0, "", "the file has a header but no data rows"));
  }

  const NaMatcher is_na(options.na_values);
  ChunkPolicy policy;
  policy.max_field_bytes = options.max_field_bytes;
  // Probe the first rows: columns that are already not numeric there are parsed as strings
  // from the start, saving a second pass. Errors are left to the full parse to report.
  std::vector<Mode> modes = schema.modes;
  std::size_t reserve_rows = 0;
  {
    // Only the first chunk: splitting the whole file here would be a serial pass over it.
    const std::size_t probe_end = first_chunk_end(text, body, kProbeBytes);
    const ChunkColumns head =
        parse_chunk(text, body, probe_end, schema, modes, delimiter, is_na, 0, policy);
    for (std::size_t j = 0; j < ncols; ++j)
      if (head.not_numeric[j] && modes[j] == Mode::kNumeric) modes[j] = Mode::kStrings;
    if (!head.error && head.rows > 0) {
      const double bytes_per_row = static_cast<double>(probe_end - body) / head.rows;
      reserve_rows =
          static_cast<std::size_t>(static_cast<double>(chunk_bytes) / bytes_per_row * 1.05) + 16;
    }
  }

  const std::vector<std::size_t> bounds = split_chunks(text, body, chunk_bytes);
  const std::size_t nchunks = bounds.size() - 1;
  std::vector<ChunkColumns> chunks(nchunks);
  parallel_for(static_cast<std::int64_t>(nchunks), [&](std::int64_t c) {
    const auto i = static_cast<std::size_t>(c);
    const std::size_t reserve = std::min(reserve_rows, bounds[i + 1] - bounds[i]);
    chunks[i] = parse_chunk(text, bounds[i], bounds[i + 1], schema, modes, delimiter, is_na,
                            reserve, policy);
  });
  for (const ChunkColumns& chunk : chunks)
    if (chunk.error) throw_at(text, source, schema, *chunk.error);

  // Columns that failed as numbers somewhere: a second pass reads them as strings.
  std::vector<Mode> second(ncols, Mode::kSkip);
  bool need_second = false;
  for (std::size_t j = 0; j < ncols; ++j) {
    if (modes[j] != Mode::kNumeric) continue;
    for (const ChunkColumns& chunk : chunks) {
      if (chunk.not_numeric[j]) {
        second[j] = Mode::kStrings;
        need_second = true;
        break;
      }
    }
  }
  if (need_second) {
    parallel_for(static_cast<std::int64_t>(nchunks), [&](std::int64_t c) {
      const auto i = static_cast<std::size_t>(c);
      ChunkColumns strings =
          parse_chunk(text, bounds[i], bounds[i + 1], schema, second, delimiter, is_na,
                      std::min(reserve_rows, bounds[i + 1] - bounds[i]), policy);
      TABULA_ASSERT(!strings.error && strings.rows == chunks[i].rows,
                    "second CSV pass disagrees with the first");
      for (std::size_t j = 0; j < ncols; ++j) {
        if (second[j] != Mode::kStrings) continue;
        chunks[i].numeric[j] = {};
        chunks[i].codes[j] = std::move(strings.codes[j]);
        chunks[i].dictionaries[j] = std::move(strings.dictionaries[j]);
      }
    });
  }

  if (const ParseError* e = first_out_of_range(chunks, modes, second))
    throw_at(text, source, schema, *e);

  std::vector<std::size_t> row_offsets(nchunks + 1, 0);
  for (std::size_t i = 0; i < nchunks; ++i)
    row_offsets[i + 1] = row_offsets[i] + static_cast<std::size_t>(chunks[i].rows);
  if (row_offsets.back() == 0)
    throw InputError(
        describe_location(source, header_line, 0, "", "the file has a header but no data rows"));

  Dataset dataset;
  dataset.source = source;
  dataset.columns.reserve(ncols);
  for (std::size_t j = 0; j < ncols; ++j) {
    const bool strings = modes[j] == Mode::kStrings || second[j] == Mode::kStrings;
    Column column = strings ? merge_strings(schema.names[j], chunks, j, row_offsets)
                            : merge_numeric(schema.names[j], chunks, j, row_offsets);
    if (options.target && *options.target == column.name)
      dataset.target = std::move(column);
    else
      dataset.columns.push_back(std::move(column));
  }
  return dataset;
}

std::vector<std::string> parse_header_names(std::string_view text, const char*& p,
                                            const std::string& source, char delimiter,
                                            std::size_t max_field_bytes) {
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
    throw InputError("CSV delimiter cannot be a quote or a line break");
  const char* base = text.data();
  const char* end = base + text.size();
  if (p == base && text.size() >= 3 && std::memcmp(base, "\xEF\xBB\xBF", 3) == 0) p += 3;
  skip_blank_lines(p, end);
  if (p >= end)
    throw InputError(describe_location(source, 1, 0, "", "the file is empty (no header row)"));
  return parse_header(text, p, source, delimiter, max_field_bytes).names;
}

Records parse_records(std::string_view text, std::size_t begin, std::size_t end,
                      const RecordsSpec& spec, std::size_t piece_bytes, std::size_t rows_hint) {
  const std::size_t ncols = spec.names.size();
  TABULA_ASSERT(spec.kinds.size() == ncols, "parse_records: one kind per column");
  Schema schema;
  schema.names = spec.names;
  for (FieldKind kind : spec.kinds) {
    switch (kind) {
      case FieldKind::kNumber:
        schema.modes.push_back(Mode::kStrictNumeric);
        break;
      case FieldKind::kText:
        schema.modes.push_back(Mode::kStrings);
        break;
      case FieldKind::kRawText:
        schema.modes.push_back(Mode::kRawStrings);
        break;
      case FieldKind::kSkip:
        schema.modes.push_back(Mode::kSkip);
        break;
    }
  }
  const NaMatcher is_na(spec.na_values);
  const std::string_view body = text.substr(0, end);
  const std::vector<std::size_t> bounds = split_chunks(body, begin, piece_bytes);
  const std::size_t npieces = bounds.size() - 1;
  const double rows_per_byte =
      end > begin ? static_cast<double>(rows_hint) / static_cast<double>(end - begin) : 0.0;
  const ChunkPolicy policy{spec.skip_bad_records, true, spec.number_hint, spec.max_field_bytes};
  std::vector<ChunkColumns> pieces(npieces);
  parallel_for(static_cast<std::int64_t>(npieces), [&](std::int64_t c) {
    const auto i = static_cast<std::size_t>(c);
    const auto reserve = static_cast<std::size_t>(
        rows_per_byte * static_cast<double>(bounds[i + 1] - bounds[i]) * 1.02 + 16);
    pieces[i] = parse_chunk(body, bounds[i], bounds[i + 1], schema, schema.modes, spec.delimiter,
                            is_na, reserve, policy);
  });

  Records records;
  for (ChunkColumns& piece : pieces) {
    for (ParseError& e : piece.rejected)
      records.errors.push_back({e.offset, e.column, std::move(e.message)});
    if (piece.error) {
      records.errors.push_back({piece.error->offset, piece.error->column, piece.error->message});
      records.fatal = spec.skip_bad_records;
      return records;
    }
  }
  std::vector<std::size_t> row_offsets(npieces + 1, 0);
  for (std::size_t i = 0; i < npieces; ++i)
    row_offsets[i + 1] = row_offsets[i] + static_cast<std::size_t>(pieces[i].rows);
  records.row_offsets.reserve(row_offsets.back());
  for (const ChunkColumns& piece : pieces)
    records.row_offsets.insert(records.row_offsets.end(), piece.row_offsets.begin(),
                               piece.row_offsets.end());
  for (std::size_t j = 0; j < ncols; ++j) {
    switch (schema.modes[j]) {
      case Mode::kStrictNumeric:
        records.columns.push_back(merge_numeric(spec.names[j], pieces, j, row_offsets));
        break;
      case Mode::kStrings:
      case Mode::kRawStrings:
        records.columns.push_back(merge_strings(spec.names[j], pieces, j, row_offsets));
        break;
      default:
        break;
    }
  }
  return records;
}

}  // namespace detail

Dataset parse_csv(std::string_view text, const std::string& source, const CsvOptions& options) {
  return detail::parse_csv_chunked(text, source, options,
                                   detail::default_chunk_bytes(text.size(), thread_count()));
}

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  const MappedFile file(path);
  if (file.text().empty())
    throw InputError(describe_location(path, 1, 0, "", "the file is empty (no header row)"));
  return parse_csv(file.text(), path, options);
}

}  // namespace tabula::io

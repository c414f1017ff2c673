#include "io/csv/chunk.hpp"

#include <cctype>
#include <string>

#include "io/csv/boundaries.hpp"

namespace tabula::io::detail {
namespace {

// A number written with a zero before its first significant digit ("007", "-01234"); "0",
// "0.5" and "0e3" are not.
bool has_leading_zero(std::string_view value) {
  if (!value.empty() && (value.front() == '-' || value.front() == '+')) value.remove_prefix(1);
  return value.size() > 1 && value[0] == '0' && value[1] >= '0' && value[1] <= '9';
}

// Bytes that may start a number the tokeniser parses in place. Bytes fast_float may consume
// must not be the delimiter, or a number could run past it: then there is no shortcut.
std::array<bool, 256> number_starts(char delimiter, const NaMatcher& is_na) {
  std::array<bool, 256> starts{};
  const bool delimiter_is_safe =
      std::isalnum(static_cast<unsigned char>(delimiter)) == 0 &&
      std::string_view(".-+()_").find(delimiter) == std::string_view::npos;
  if (delimiter_is_safe)
    for (unsigned char c : std::string_view("0123456789.-")) starts[c] = !is_na.may_start(c);
  return starts;
}

ChunkColumns empty_chunk(const std::vector<Mode>& modes, std::size_t reserve_rows,
                         const ChunkPolicy& policy) {
  const std::size_t ncols = modes.size();
  ChunkColumns out;
  out.numeric.resize(ncols);
  out.codes.resize(ncols);
  out.dictionaries.resize(ncols);
  out.not_numeric.assign(ncols, 0);
  out.out_of_range.resize(ncols);
  for (std::size_t j = 0; j < ncols; ++j) {
    if (modes[j] == Mode::kNumeric || modes[j] == Mode::kStrictNumeric)
      out.numeric[j].reserve(reserve_rows);
    else if (modes[j] == Mode::kStrings || modes[j] == Mode::kRawStrings)
      out.codes[j].reserve(reserve_rows);
  }
  if (policy.row_offsets) out.row_offsets.reserve(reserve_rows);
  return out;
}

// Converts each field of a record into its column of `out`, following `mode` (an inferred
// numeric column that meets a non-number turns to kSkip here: a later pass reads it as text).
class ChunkSink {
 public:
  ChunkSink(ChunkColumns& out, std::vector<Mode>& mode, const NaMatcher& is_na,
            const ChunkPolicy& policy, const char* base, RecordError& error)
      : out_(out), mode_(mode), is_na_(is_na), policy_(policy), base_(base), error_(error) {}

  [[gnu::always_inline]] bool operator()(std::int64_t index, const Field& field,
                                         const char* field_start) {
    const auto j = static_cast<std::size_t>(index);
    if (j >= mode_.size()) return true;  // counted, reported once the record is complete
    switch (mode_[j]) {
      case Mode::kSkip:
        return true;
      case Mode::kStrings:
        out_.codes[j].push_back(is_na_(trim(field.value)) ? -1 : out_.dictionaries[j].code(field));
        return true;
      case Mode::kRawStrings:
        out_.codes[j].push_back(out_.dictionaries[j].code(field));
        return true;
      case Mode::kNumeric:
      case Mode::kStrictNumeric:
        return number(j, index, field, field_start);
    }
    return true;
  }

 private:
  [[gnu::always_inline]] bool number(std::size_t j, std::int64_t index, const Field& field,
                                     const char* field_start) {
    const auto offset = static_cast<std::size_t>(field_start - base_);
    // A number parsed in place is never quoted: `value` is then the field as written.
    const std::string_view value = field.quoted ? trim(field.value) : field.value;
    double number = field.number;
    if (!field.has_number) {  // numbers with a leading zero never come parsed in place
      if (is_na_(value)) {
        out_.numeric[j].push_back(kMissing);
        return true;
      }
      if (!parse_number(value, number, policy_.decimal)) return not_number(j, index, value, offset);
      // "01234" is a code (a zip code, an id), not the number 1234: an inferred column
      // holding one is text, where its zeros are kept.
      if (mode_[j] == Mode::kNumeric && has_leading_zero(value))
        return not_number(j, index, value, offset);
    }
    if (outside_float32(number) &&
        !out_of_range_value(mode_[j], value, offset, index + 1, out_.out_of_range[j], error_))
      return false;
    out_.numeric[j].push_back(number);
    return true;
  }

  bool not_number(std::size_t j, std::int64_t index, std::string_view value, std::size_t offset) {
    if (mode_[j] == Mode::kStrictNumeric) {
      error_ = {offset, index + 1, not_a_number(value, policy_.number_hint)};
      return false;
    }
    out_.not_numeric[j] = 1;
    mode_[j] = Mode::kSkip;
    out_.numeric[j] = {};
    return true;
  }

  ChunkColumns& out_;
  std::vector<Mode>& mode_;
  const NaMatcher& is_na_;
  const ChunkPolicy& policy_;
  const char* base_;
  RecordError& error_;
};

// Skip mode: takes back what a bad record's first fields already appended.
void drop_partial_record(ChunkColumns& out) {
  const auto rows = static_cast<std::size_t>(out.rows);
  for (std::size_t j = 0; j < out.numeric.size(); ++j) {
    if (out.numeric[j].size() > rows) out.numeric[j].pop_back();
    if (out.codes[j].size() > rows) out.codes[j].pop_back();
  }
}

RecordError wrong_field_count(std::size_t record_offset, std::int64_t fields, std::size_t ncols) {
  const std::int64_t column =
      static_cast<std::size_t>(fields) > ncols ? static_cast<std::int64_t>(ncols) + 1 : 0;
  return {record_offset, column,
          "wrong number of fields: expected " + std::to_string(ncols) +
              " (as in the header), found " + std::to_string(fields)};
}

}  // namespace

ChunkColumns parse_chunk(std::string_view text, std::size_t begin, std::size_t end,
                         const std::vector<Mode>& modes, char delimiter, const NaMatcher& is_na,
                         std::size_t reserve_rows, const ChunkPolicy& policy) {
  const std::size_t ncols = modes.size();
  ChunkColumns out = empty_chunk(modes, reserve_rows, policy);
  std::vector<Mode> mode = modes;
  const char* base = text.data();
  const char* p = base + begin;
  const char* stop = base + end;
  std::string scratch;
  RecordError error;
  // Numbers are parsed in place with '.' only; a decimal comma takes the field-by-field path.
  const std::array<bool, 256> starts =
      policy.decimal == '.' ? number_starts(delimiter, is_na) : std::array<bool, 256>{};
  const NumberShortcut shortcut{mode.data(), ncols, &starts};
  ChunkSink sink(out, mode, is_na, policy, base, error);
  for (;;) {
    skip_blank_lines(p, stop);
    if (p >= stop) break;
    const char* record_start = p;
    const auto record_offset = static_cast<std::size_t>(record_start - base);
    const std::int64_t fields = scan_record(base, p, stop, delimiter, policy.max_field_bytes,
                                            scratch, sink, error, shortcut);
    if (fields >= 0 && static_cast<std::size_t>(fields) != ncols)
      error = wrong_field_count(record_offset, fields, ncols);
    if (fields < 0 || static_cast<std::size_t>(fields) != ncols) {
      // An unterminated quote swallows the rest of the text: there is no next record to go on.
      if (!policy.skip_bad || error.message.starts_with("unterminated")) {
        out.error = std::move(error);
        return out;
      }
      drop_partial_record(out);
      error.offset = record_offset;  // report the record's line
      out.rejected.push_back(std::move(error));
      p = resync_after(record_start, stop);
      continue;
    }
    if (policy.row_offsets) out.row_offsets.push_back(record_offset);
    ++out.rows;
  }
  return out;
}

}  // namespace tabula::io::detail

#include "io/csv/sniffer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

#include "io/compressed_file.hpp"
#include "io/csv/boundaries.hpp"
#include "io/csv/error.hpp"
#include "io/csv/parser.hpp"
#include "tabula/core/error.hpp"

namespace tabula::io::detail {
namespace {

constexpr std::size_t kProbeBytes = 256 * 1024;  // rows used to guess string columns up front

void check_names(const Schema& schema, const std::string& source, std::int64_t line) {
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t j = 0; j < schema.names.size(); ++j) {
    const std::string& name = schema.names[j];
    if (name.empty() && j == 0) continue;  // an index column, as pandas writes it
    if (name.empty())
      throw_located(source, line, static_cast<std::int64_t>(j) + 1, "",
                    "empty column name in the header");
    const auto [it, inserted] = seen.emplace(name, j);
    if (!inserted)
      throw_located(source, line, static_cast<std::int64_t>(j) + 1, name,
                    "duplicate column name (also column " + std::to_string(it->second + 1) + ")");
  }
}

}  // namespace

void check_delimiter(char delimiter) {
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
    throw InputError("CSV delimiter cannot be a quote or a line break");
}

char sniff_delimiter(std::string_view head) {
  constexpr char kCandidates[] = {',', '\t', ';', '|'};
  constexpr int kRecords = 20;
  if (starts_with_bom(head)) head.remove_prefix(3);
  head = head.substr(0, kSniffBytes);
  // Fields per whole record and candidate; a record ends at a line break outside quotes.
  std::vector<std::array<std::int64_t, 4>> fields;
  std::array<std::int64_t, 4> current{1, 1, 1, 1};
  bool quoted = false, blank = true;
  for (const char c : head) {
    if (c == '"') {
      quoted = !quoted;
      blank = false;
    } else if (quoted) {
      continue;
    } else if (c == '\n' || c == '\r') {
      if (!blank) fields.push_back(current);
      current = {1, 1, 1, 1};
      blank = true;
      if (static_cast<int>(fields.size()) == kRecords) break;
    } else {
      for (std::size_t k = 0; k < 4; ++k) current[k] += c == kCandidates[k];
      blank = false;
    }
  }
  // A head that holds the whole file may end without a line break.
  if (!blank && !quoted && head.size() < kSniffBytes) fields.push_back(current);
  char best = ',';
  std::int64_t best_fields = 1;
  for (std::size_t k = 0; k < 4 && !fields.empty(); ++k) {
    const std::int64_t n = fields.front()[k];
    const bool same = std::all_of(fields.begin(), fields.end(),
                                  [&](const std::array<std::int64_t, 4>& f) { return f[k] == n; });
    if (same && n > best_fields) {
      best = kCandidates[k];
      best_fields = n;
    }
  }
  return best;
}

char resolve_delimiter(char delimiter, std::string_view text) {
  return delimiter != 0 ? delimiter : sniff_delimiter(text);
}

bool starts_with_bom(std::string_view text) {
  return text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0;
}

namespace {

struct Signature {
  std::string_view magic;
  std::string_view what;
};

// Formats other than the compressions (compression_of knows those). Longer magics before their
// prefixes (UTF-32LE's starts with UTF-16LE's).
constexpr Signature kSignatures[] = {
    {std::string_view("PK\x03\x04", 4), "a zip archive"},
    {std::string_view("PAR1", 4), "a Parquet file"},
    {std::string_view("ARROW1", 6), "an Arrow IPC/Feather file"},
    {std::string_view("\xFF\xFE\x00\x00", 4), "UTF-32 text"},
    {std::string_view("\x00\x00\xFE\xFF", 4), "UTF-32 text"},
    {std::string_view("\xFF\xFE", 2), "UTF-16 text"},
    {std::string_view("\xFE\xFF", 2), "UTF-16 text"},
};

// True when head[at] is a control byte that no CSV text holds (not a tab or line end).
bool followed_by_binary(std::string_view head, std::size_t at) {
  if (at >= head.size()) return false;
  const auto c = static_cast<unsigned char>(head[at]);
  return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

}  // namespace

void check_text_signature(std::string_view head, const std::string& source) {
  const auto refuse = [&](const std::string& what, bool text) {
    throw InputError("'" + source + "' is " + what + ", not a CSV file: " +
                     (text ? "pass --encoding with its encoding (e.g. --encoding utf-16), or "
                             "convert it to UTF-8 (iconv -t UTF-8)"
                           : "tabula reads plain UTF-8 CSV files only (decompress or convert "
                             "it first; see docs/data-formats.md)"));
  };
  // Compressed text reaches here only when this build cannot decompress it (or compressed
  // twice).
  if (const Compression compression = compression_of(head); compression != Compression::kNone)
    refuse(std::string(compression == Compression::kXz ? "an " : "a ") +
               std::string(compression_name(compression)) + "-compressed file",
           false);
  for (const Signature& signature : kSignatures) {
    if (!head.starts_with(signature.magic)) continue;
    // "PAR1" and "ARROW1" could also start a header: Parquet and Arrow follow with binary.
    if ((signature.magic == "PAR1" || signature.magic == "ARROW1") &&
        !followed_by_binary(head, signature.magic.size()))
      continue;
    // Columnar files reach here only when this build has no Arrow (src/io/columnar/).
    if (signature.magic == "PAR1" || signature.magic == "ARROW1")
      throw InputError("'" + source + "' is " + std::string(signature.what) +
                       ", and this tabula was built without Apache Arrow (scripts/setup.sh's "
                       ".venv provides it through pyarrow; reconfigure), or export it to CSV");
    refuse(std::string(signature.what), signature.what.ends_with("text"));
  }
}

Schema parse_header(std::string_view text, const char*& p, const std::string& source,
                    char delimiter, std::size_t max_field) {
  const char* base = text.data();
  const char* end = base + text.size();
  Schema schema;
  std::string scratch;
  RecordError error;
  auto sink = [&](std::int64_t, const Field& field, const char*) {
    schema.names.emplace_back(trim(field.value));
    return true;
  };
  const char* header_start = p;
  if (scan_record(base, p, end, delimiter, max_field, scratch, sink, error) < 0)
    throw_at(text, source, schema.names, error);
  check_names(schema, source, 1 + std::count(base, header_start, '\n'));
  return schema;
}

void apply_options(Schema& schema, const std::string& source, const CsvOptions& options,
                   std::int64_t header_line) {
  const std::size_t ncols = schema.names.size();
  schema.modes.assign(ncols, Mode::kNumeric);
  auto index_of = [&](const std::string& name, const char* what) {
    for (std::size_t j = 0; j < ncols; ++j)
      if (schema.names[j] == name) return j;
    throw_located(
        source, header_line, 0, name,
        std::string(what) + " not found in the header; columns: " + list_names(schema.names));
  };
  for (const std::string& name : options.categorical)
    schema.modes[index_of(name, "forced categorical, but")] = Mode::kStrings;
  for (const std::string& name : options.numeric) {
    const std::size_t j = index_of(name, "forced numeric, but");
    if (schema.modes[j] == Mode::kStrings)
      throw_located(source, header_line, static_cast<std::int64_t>(j) + 1, name,
                    "forced both categorical and numeric");
    schema.modes[j] = Mode::kStrictNumeric;
  }
  if (options.target) index_of(*options.target, "target column");
}

TypeGuess guess_types(std::string_view text, std::size_t body, const std::vector<Mode>& modes,
                      char delimiter, const NaMatcher& is_na, const ChunkPolicy& policy,
                      std::size_t chunk_bytes) {
  TypeGuess guess{modes, 0};
  // Only the first chunk: splitting the whole file here would be a serial pass over it.
  const std::size_t probe_end = first_chunk_end(text, body, kProbeBytes);
  const ChunkColumns head = parse_chunk(text, body, probe_end, modes, delimiter, is_na, 0, policy);
  for (std::size_t j = 0; j < modes.size(); ++j)
    if (head.not_numeric[j] && guess.modes[j] == Mode::kNumeric) guess.modes[j] = Mode::kStrings;
  if (!head.error && head.rows > 0) {
    const double bytes_per_row = static_cast<double>(probe_end - body) / head.rows;
    guess.reserve_rows =
        static_cast<std::size_t>(static_cast<double>(chunk_bytes) / bytes_per_row * 1.05) + 16;
  }
  return guess;
}

std::vector<std::string> parse_header_names(std::string_view text, const char*& p,
                                            const std::string& source, char delimiter,
                                            std::size_t max_field_bytes) {
  check_delimiter(delimiter);
  const char* end = text.data() + text.size();
  if (p == text.data() && starts_with_bom(text)) p += 3;
  skip_blank_lines(p, end);
  if (p >= end) throw_empty_file(source);
  return parse_header(text, p, source, delimiter, max_field_bytes).names;
}

}  // namespace tabula::io::detail

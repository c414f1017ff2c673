// Sniffing: what the file's shape is before its body is parsed. The dialect (delimiter checked,
// byte order mark and leading blank lines skipped), the header (names, none empty or
// repeated), the options applied to it (forced types, the target), and the column types guessed
// from the first rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/csv/chunk.hpp"
#include "io/csv/tokenizer.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io::detail {

struct Schema {
  std::vector<std::string> names;
  std::vector<Mode> modes;
};

/// InputError for a delimiter that would make records ambiguous (0 asks for sniffing).
void check_delimiter(char delimiter);

/// Bytes of a file's start that sniff_delimiter looks at.
inline constexpr std::size_t kSniffBytes = 64 * 1024;

/// The delimiter of a file that starts with `head`: of ',' tab ';' '|', the one that cuts the
/// first records (up to 20 whole ones in head, quotes respected) into the same number of fields,
/// at least two; the most fields win, then that order. ',' when none does (one column).
char sniff_delimiter(std::string_view head);

/// `delimiter`, or when it is 0 the one sniffed from the start of `text`.
char resolve_delimiter(char delimiter, std::string_view text);

/// True when `text` starts with a UTF-8 byte order mark (3 bytes), which is skipped.
bool starts_with_bom(std::string_view text);

/// InputError naming `source` when `head` (the file's first bytes) starts with the signature of
/// a format that is not UTF-8 CSV: compressed (gzip, xz, zstd, bzip2, zip), Parquet, Arrow/
/// Feather, or UTF-16/UTF-32 text. Without it such files fail later as "invalid UTF-8".
void check_text_signature(std::string_view head, const std::string& source);

/// Reads the header record at `p`; checks for empty and duplicate names (the first name may be
/// empty: pandas writes its index so). `text` starts at the start of the file, so errors name
/// the right line.
Schema parse_header(std::string_view text, const char*& p, const std::string& source,
                    char delimiter, std::size_t max_field);

/// Applies the categorical/numeric overrides to `schema.modes` (otherwise inferred) and checks
/// the target exists.
void apply_options(Schema& schema, const std::string& source, const CsvOptions& options,
                   std::int64_t header_line);

/// Column modes after a look at the first rows, and an estimate of the rows per chunk.
struct TypeGuess {
  std::vector<Mode> modes;
  std::size_t reserve_rows = 0;
};

/// Parses the first rows of the body (at `body`): columns that are already not numeric there
/// are read as strings from the start, saving a second pass. Errors are left to the full parse.
TypeGuess guess_types(std::string_view text, std::size_t body, const std::vector<Mode>& modes,
                      char delimiter, const NaMatcher& is_na, const ChunkPolicy& policy,
                      std::size_t chunk_bytes);

}  // namespace tabula::io::detail

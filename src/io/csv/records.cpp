// The record parser the streaming reader drives: one chunk of text whose columns the caller
// chose (by FieldKind), bad records optionally dropped and reported instead of stopping.
#include "io/csv/boundaries.hpp"
#include "io/csv/chunk.hpp"
#include "io/csv/parser.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::io::detail {
namespace {

Mode mode_of(FieldKind kind) {
  switch (kind) {
    case FieldKind::kNumber:
      return Mode::kStrictNumeric;
    case FieldKind::kText:
      return Mode::kStrings;
    case FieldKind::kRawText:
      return Mode::kRawStrings;
    case FieldKind::kSkip:
      break;
  }
  return Mode::kSkip;
}

// The pieces' columns in piece order, one per column not skipped.
void merge_pieces(std::vector<ChunkColumns>& pieces, const RecordsSpec& spec,
                  const std::vector<Mode>& modes, Records& records) {
  const std::vector<std::size_t> row_offsets = chunk_row_offsets(pieces);
  records.row_offsets.reserve(row_offsets.back());
  for (const ChunkColumns& piece : pieces)
    records.row_offsets.insert(records.row_offsets.end(), piece.row_offsets.begin(),
                               piece.row_offsets.end());
  for (std::size_t j = 0; j < modes.size(); ++j) {
    if (modes[j] == Mode::kStrictNumeric)
      records.columns.push_back(merge_numeric(spec.names[j], pieces, j, row_offsets));
    else if (modes[j] == Mode::kStrings || modes[j] == Mode::kRawStrings)
      records.columns.push_back(merge_strings(spec.names[j], pieces, j, row_offsets));
  }
}

}  // namespace

Records parse_records(std::string_view text, std::size_t begin, std::size_t end,
                      const RecordsSpec& spec, std::size_t piece_bytes, std::size_t rows_hint) {
  TABULA_ASSERT(spec.kinds.size() == spec.names.size(), "parse_records: one kind per column");
  std::vector<Mode> modes;
  for (FieldKind kind : spec.kinds) modes.push_back(mode_of(kind));
  const NaMatcher is_na(spec.na_values);
  const std::string_view body = text.substr(0, end);
  const std::vector<std::size_t> bounds = split_chunks(body, begin, piece_bytes);
  const std::size_t npieces = bounds.size() - 1;
  const double rows_per_byte =
      end > begin ? static_cast<double>(rows_hint) / static_cast<double>(end - begin) : 0.0;
  const ChunkPolicy policy{spec.skip_bad_records, true, spec.number_hint, spec.max_field_bytes,
                           spec.decimal};
  std::vector<ChunkColumns> pieces(npieces);
  parallel_for(static_cast<std::int64_t>(npieces), [&](std::int64_t c) {
    const auto i = static_cast<std::size_t>(c);
    const auto reserve = static_cast<std::size_t>(
        rows_per_byte * static_cast<double>(bounds[i + 1] - bounds[i]) * 1.02 + 16);
    pieces[i] =
        parse_chunk(body, bounds[i], bounds[i + 1], modes, spec.delimiter, is_na, reserve, policy);
  });

  Records records;
  for (ChunkColumns& piece : pieces) {
    for (RecordError& e : piece.rejected) records.errors.push_back(std::move(e));
    if (piece.error) {
      records.errors.push_back(std::move(*piece.error));
      records.fatal = spec.skip_bad_records;
      return records;
    }
  }
  merge_pieces(pieces, spec, modes, records);
  return records;
}

}  // namespace tabula::io::detail

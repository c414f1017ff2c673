// The properties of cutting CSV bytes into ranks' shares (src/distributed/csv_share.hpp) that
// must hold for any bytes: checked by share_fuzzer and replayed on its corpus by
// ShareCorpus.EverySeedKeepsTheShareProperties in every build.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "distributed/csv_share.hpp"
#include "io/csv/parser.hpp"
#include "io/csv/sniffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::testing {

/// The cells of every row of `data`, its columns in order, as comparable text (numbers by
/// their bits, so -0 and 0 differ; NaN as "nan"; categories by their spelling, not their code).
inline std::vector<std::string> row_cells(const Dataset& data) {
  std::vector<std::string> cells;
  const auto add = [&](const Column& c, std::int64_t i) {
    if (c.type == ColumnType::kNumeric) {
      const double v = c.numeric[static_cast<std::size_t>(i)];
      cells.push_back(std::isnan(v) ? "nan"
                                    : std::to_string(std::signbit(v)) + ":" + std::to_string(v));
      return;
    }
    const std::int32_t code = c.codes[static_cast<std::size_t>(i)];
    cells.push_back(code < 0 ? "<missing>" : c.categories[static_cast<std::size_t>(code)]);
  };
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    for (const Column& c : data.columns) add(c, i);
    if (data.target) add(*data.target, i);
  }
  return cells;
}

/// "" when the shares of `text` for 1..8 ranks keep their properties, else what broke:
/// - the ranks' byte ranges are contiguous, start at line starts and cover every byte after
///   the header as the parser finds it (or every rank is refused alike, for input that is no
///   splittable CSV);
/// - when the whole text parses and holds no quote (a quoted line break may not be cut) and
///   every share parses, the shares (after the pandas index rule over the ranks) have the whole
///   table's column names and, where each share read a column with the whole table's type, the
///   ranks' rows in rank order are the whole table's rows.
inline std::string csv_share_violation(std::string_view text) {
  std::optional<Dataset> whole;
  try {
    whole = io::parse_csv(text, "fuzz.csv");
  } catch (const InputError&) {
  }
  const bool quoted = text.find('"') != std::string_view::npos;
  for (int ranks = 1; ranks <= 8; ++ranks) {
    std::vector<distributed::ByteRange> ranges;
    try {
      for (int r = 0; r < ranks; ++r)
        ranges.push_back(distributed::csv_share_of(text, "fuzz.csv", {}, r, ranks));
    } catch (const InputError&) {
      if (!ranges.empty()) return "rank 0 was cut but a later rank was refused";
      continue;
    }
    // Where the whole parse's rows begin: after the header record and its line break.
    const char* p = text.data();
    io::detail::parse_header_names(text, p, "fuzz.csv", io::detail::resolve_delimiter(0, text));
    const auto header_end = static_cast<std::uint64_t>(p - text.data());
    if (ranges.front().begin != header_end) return "rank 0 does not start after the header";
    if (ranges.back().end != text.size()) return "the last rank does not end at the file's end";
    for (int r = 0; r < ranks; ++r) {
      const distributed::ByteRange& range = ranges[static_cast<std::size_t>(r)];
      if (range.begin > range.end) return "a range ends before it begins";
      if (r + 1 < ranks && range.end != ranges[static_cast<std::size_t>(r) + 1].begin)
        return "ranges are not contiguous";
      if (range.begin > header_end && range.begin < text.size() && text[range.begin - 1] != '\n')
        return "a range does not start at a line start";
    }
    if (!whole || quoted) continue;
    std::vector<Dataset> shares;
    try {
      for (int r = 0; r < ranks; ++r)
        shares.push_back(distributed::parse_csv_share(text, "fuzz.csv", {}, r, ranks));
    } catch (const InputError&) {
      continue;  // a share of blank lines only, or more ranks than lines
    }
    // The pandas index rule over the ranks (read_share_on_every_rank): a leading column goes
    // when every share holds the row numbers from its first global row.
    for (bool index = true; index && !shares.front().columns.empty();) {
      std::int64_t first_row = 0;
      for (const Dataset& share : shares) {
        index &= !share.columns.empty() && io::is_pandas_index(share.columns.front(), first_row);
        first_row += share.rows();
      }
      if (index)
        for (Dataset& share : shares) share.columns.erase(share.columns.begin());
    }
    std::vector<std::string> cells;
    bool comparable = true;
    for (const Dataset& share : shares) {
      if (share.columns.size() != whole->columns.size()) return "a share has other columns";
      for (std::size_t j = 0; j < share.columns.size(); ++j) {
        if (share.columns[j].name != whole->columns[j].name) return "a share renamed a column";
        comparable &= share.columns[j].type == whole->columns[j].type;
      }
      for (std::string& cell : row_cells(share)) cells.push_back(std::move(cell));
    }
    if (comparable && cells != row_cells(*whole))
      return "the shares' rows in rank order are not the file's rows";
  }
  return "";
}

}  // namespace tabula::testing

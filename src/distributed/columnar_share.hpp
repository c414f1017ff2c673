// Each rank's share of one Parquet or Arrow IPC file: whole pieces (Parquet row groups, Arrow IPC
// record batches), a contiguous run per rank, cut where the rows divide most evenly. The ranks'
// rows, in rank order, are the file's rows in order; no rank reads another's pieces.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/columnar/columnar.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::distributed {

/// Where `ranks` ranks cut a file of pieces holding `piece_rows` rows each: rank r reads pieces
/// [b[r], b[r + 1]) (b has ranks + 1 entries, b[0] = 0, b[ranks] = the piece count). Each inner
/// cut is the piece start nearest to r / ranks of the rows (the earlier on a tie), kept so that
/// every rank has at least one piece. InputError naming `path` when there are fewer pieces than
/// ranks (`piece`: "row group" or "record batch", for the message).
std::vector<int> piece_cuts(std::span<const std::int64_t> piece_rows, int ranks,
                            const std::string& path, const std::string& piece);

/// Rank `rank` of `ranks`' pieces of the columnar file at `path` (piece_cuts), read with
/// `options`; messages name the file's own row numbers. InputError as io::read_columnar, and
/// for a share whose pieces hold no rows.
Dataset read_columnar_share(const std::string& path, io::ColumnarFormat format,
                            const io::CsvOptions& options, int rank, int ranks);

}  // namespace tabula::distributed

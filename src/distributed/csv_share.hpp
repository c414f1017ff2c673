// Each rank's share of the data: of one CSV file, the data bytes cut into equal byte ranges, each
// moved to the next line start, so every row belongs to exactly one rank and the ranks' rows, in
// rank order, are the file's rows in order (no rank reads more than its range and the header);
// of a folder, whole shard files; of a Parquet or Arrow IPC file, whole pieces
// (columnar_share.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"

namespace tabula {

class Communicator;

namespace distributed {

/// [begin, end) byte offsets of a rank's rows in a file.
struct ByteRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

/// Rank `rank` of `ranks`' rows of the uncompressed CSV file at `path`: the bytes after the
/// header (a byte order mark, blank lines and the header record, as the CSV parser reads them
/// with `options`' delimiter, sniffed when 0) cut into `ranks` equal parts, each boundary moved
/// forward to the next line start. Quoted fields holding line breaks in the rows are not
/// supported (a boundary could fall inside one). InputError naming the file when it cannot be
/// read, is compressed or has no header.
ByteRange csv_share(const std::string& path, const io::CsvOptions& options, int rank, int ranks);

/// csv_share of a file's bytes `text` (`path` names it in messages). The ranges of ranks
/// 0..ranks-1 are contiguous and cover every byte after the header.
ByteRange csv_share_of(std::string_view text, const std::string& path,
                       const io::CsvOptions& options, int rank, int ranks);

/// Rank `rank`'s rows of the CSV bytes `text`: its csv_share_of range parsed under the header,
/// with the whole file's delimiter. InputError as io::parse_csv, and for a share with no bytes.
Dataset parse_csv_share(std::string_view text, const std::string& path,
                        const io::CsvOptions& options, int rank, int ranks);

/// The shard files of a folder: its `*.csv` files, sorted by name (their rows, in this order,
/// are the table's). InputError naming the folder when it holds none.
std::vector<std::string> shard_files(const std::string& folder);

/// The file whose first rows show how the class labels are spelt: `path`, or a folder's first
/// shard file.
std::string first_data_file(const std::string& path);

/// This rank's rows, read with `options`: of one CSV file, its byte range (csv_share); of a
/// folder of shard files (shard_files), a contiguous block of whole files, at least one per
/// rank, each with the first file's header line; of a Parquet or Arrow IPC file, a run of whole
/// row groups or record batches (read_columnar_share). The source named in messages says which
/// bytes, files or pieces. InputError as io::parse_csv or io::read_columnar, for a share with
/// no rows, and for a shard whose header differs from the first's.
Dataset read_share(const std::string& path, const io::CsvOptions& options, int rank, int ranks);

/// Every rank reads its share (read_share), then the ranks agree: when any rank failed,
/// every rank throws the same DistributedError naming the failed ranks and their reasons. Of a
/// CSV source, the leading columns that hold a pandas row index over all the rows in rank order
/// are then dropped on every rank, as one process drops them from the whole file (a share alone
/// cannot tell: its rows do not start at row 0).
Dataset read_share_on_every_rank(const std::string& path, const io::CsvOptions& options,
                                 Communicator& comm);

}  // namespace distributed
}  // namespace tabula

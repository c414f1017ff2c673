#include "distributed/csv_share.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "distributed/columnar_share.hpp"
#include "distributed/reduce.hpp"
#include "io/columnar/columnar.hpp"
#include "io/compressed_file.hpp"
#include "io/csv/parser.hpp"
#include "io/csv/sniffer.hpp"
#include "io/mapped_file.hpp"
#include "io/sql/sql_source.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::distributed {
namespace {

/// The first line start at or after `offset` in `text` (lines start after '\n'), not before
/// `data_begin`.
std::uint64_t line_start_at_or_after(std::string_view text, std::uint64_t offset,
                                     std::uint64_t data_begin) {
  if (offset <= data_begin) return data_begin;
  const std::size_t newline = text.find('\n', offset - 1);
  return newline == std::string_view::npos ? text.size() : newline + 1;
}

/// The refusal that does not depend on the bytes: a source a byte range cannot cut.
void check_splittable(const std::string& path) {
  if (io::is_sql_url(path))
    throw InputError(path +
                     ": --distributed reads a CSV file's byte ranges; a SQL source cannot "
                     "be split (export it to CSV)");
}

/// The options every share of `text` is parsed with: the whole file's delimiter (sniffed from
/// its start when not given), so that no rank sniffs another one from its own rows; pandas
/// index columns kept (drop_index_columns_over_ranks decides over every rank's rows).
io::CsvOptions share_options(std::string_view text, const io::CsvOptions& options) {
  io::CsvOptions out = options;
  out.delimiter = io::detail::resolve_delimiter(options.delimiter, text);
  out.drop_index_columns = false;
  return out;
}

/// The leading columns of the ranks' CSV shares that hold a pandas row index over all the rows
/// (io::is_pandas_index from each rank's first global row), dropped on every rank, as one process
/// drops them from the whole file. Every rank decides alike (one agreement per column).
void drop_index_columns_over_ranks(Dataset& data, Communicator& comm) {
  const RowRange range = row_range(&comm, data.rows());
  while (!data.columns.empty()) {
    const bool mine = io::is_pandas_index(data.columns.front(), range.offset);
    if (sum_over_ranks(&comm, mine ? 0.0 : 1.0) != 0.0) return;
    if (comm.is_root())
      spdlog::info("{}: column '{}' is a row index as pandas writes it: not read", data.source,
                   data.columns.front().name);
    data.columns.erase(data.columns.begin());
  }
}

/// The bytes of `text` before its first data row: a byte order mark, blank lines and the header
/// record with its line break, found as the CSV parser finds them (`options` resolved by
/// share_options). InputError as the parser's for a file without a header.
std::string_view header_of(std::string_view text, const std::string& path,
                           const io::CsvOptions& options) {
  const char* p = text.data();
  io::detail::parse_header_names(text, p, path, options.delimiter, options.max_field_bytes);
  return text.substr(0, static_cast<std::size_t>(p - text.data()));
}

/// header_of a file whose rows byte ranges can cut: InputError for an empty or compressed
/// file, or one without rows.
std::string_view checked_header(std::string_view text, const std::string& path,
                                const io::CsvOptions& options) {
  if (text.empty()) throw InputError(path + ": the file is empty");
  if (io::compression_of(text) != io::Compression::kNone)
    throw InputError(path + ": a " + std::string(io::compression_name(io::compression_of(text))) +
                     " file cannot be cut into byte ranges; decompress it for --distributed");
  const std::string_view header = header_of(text, path, options);
  if (header.size() >= text.size()) throw InputError(path + ": a header with no rows");
  return header;
}

/// Rank `rank`'s byte range of the rows, which start at `data_begin` (checked_header's size).
ByteRange share_range(std::string_view text, std::uint64_t data_begin, int rank, int ranks) {
  const std::uint64_t data_bytes = text.size() - data_begin;
  auto boundary = [&](int r) {
    const std::uint64_t offset =
        data_begin +
        data_bytes / static_cast<std::uint64_t>(ranks) * static_cast<std::uint64_t>(r) +
        data_bytes % static_cast<std::uint64_t>(ranks) * static_cast<std::uint64_t>(r) /
            static_cast<std::uint64_t>(ranks);
    return r == ranks ? text.size() : line_start_at_or_after(text, offset, data_begin);
  };
  return {boundary(rank), boundary(rank + 1)};
}

/// Rank `rank`'s block of whole shard files, as one CSV text under the first file's header.
Dataset read_shard_files(const std::string& folder, const io::CsvOptions& given, int rank,
                         int ranks) {
  const std::vector<std::string> files = shard_files(folder);
  const std::size_t n = files.size(), r = static_cast<std::size_t>(rank),
                    size = static_cast<std::size_t>(ranks);
  if (n < size)
    throw InputError(
        fmt::format("{}: {} shard file(s) for {} ranks: give every rank a file", folder, n, ranks));
  const std::size_t first = n * r / size, last = n * (r + 1) / size;
  const io::MappedFile front(files.front());
  check_splittable(files.front());
  const io::CsvOptions options = share_options(front.text(), given);
  const std::string header(header_of(front.text(), files.front(), options));
  std::string text = header;
  for (std::size_t f = first; f < last; ++f) {
    const io::MappedFile file(files[f]);
    if (io::columnar_format_of(file.text()) != io::ColumnarFormat::kNone)
      throw InputError(files[f] +
                       ": a shard folder's files are CSV; give a Parquet or Arrow "
                       "IPC table as one file (its row groups are the shares)");
    if (io::compression_of(file.text()) != io::Compression::kNone)
      throw InputError(files[f] + ": compressed shard files are not read yet; decompress them");
    const std::string_view own = header_of(file.text(), files[f], options);
    if (own != header)
      throw InputError(files[f] + ": its header differs from " + files.front() +
                       "'s; every shard file must have the same columns");
    text.append(file.text().substr(own.size()));
    if (!text.empty() && text.back() != '\n') text.push_back('\n');
  }
  const std::string source =
      fmt::format("{} (rank {}'s files {}..{})", folder, rank, files[first], files[last - 1]);
  return io::parse_csv(text, source, options);
}

}  // namespace

std::vector<std::string> shard_files(const std::string& folder) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.is_regular_file() && entry.path().extension() == ".csv")
      files.push_back(entry.path().string());
  if (files.empty()) throw InputError(folder + ": a folder with no .csv shard files");
  std::sort(files.begin(), files.end());
  return files;
}

std::string first_data_file(const std::string& path) {
  return std::filesystem::is_directory(path) ? shard_files(path).front() : path;
}

ByteRange csv_share_of(std::string_view text, const std::string& path,
                       const io::CsvOptions& options, int rank, int ranks) {
  const io::CsvOptions resolved = share_options(text, options);
  return share_range(text, checked_header(text, path, resolved).size(), rank, ranks);
}

ByteRange csv_share(const std::string& path, const io::CsvOptions& options, int rank, int ranks) {
  check_splittable(path);
  const io::MappedFile file(path);
  return csv_share_of(file.text(), path, options, rank, ranks);
}

Dataset parse_csv_share(std::string_view text, const std::string& path, const io::CsvOptions& given,
                        int rank, int ranks) {
  const io::CsvOptions options = share_options(text, given);
  const std::string_view header = checked_header(text, path, options);
  const ByteRange range = share_range(text, header.size(), rank, ranks);
  if (range.begin >= range.end)
    throw InputError(fmt::format(
        "{}: rank {} of {} has no rows (its byte range starts at the file's end): the file has "
        "fewer lines than ranks; use fewer ranks",
        path, rank, ranks));
  // The header travels with every share, so each rank reads the same column names.
  std::string share(header);
  share.append(text.substr(range.begin, range.end - range.begin));
  const std::string source =
      ranks == 1 ? path
                 : fmt::format("{} (rank {}'s bytes {}-{}; line numbers count from that share)",
                               path, rank, range.begin, range.end);
  return io::parse_csv(share, source, options);
}

Dataset read_share(const std::string& path, const io::CsvOptions& options, int rank, int ranks) {
  if (std::filesystem::is_directory(path)) return read_shard_files(path, options, rank, ranks);
  check_splittable(path);
  if (const io::ColumnarFormat format = io::columnar_format_of_file(path);
      format != io::ColumnarFormat::kNone)
    return read_columnar_share(path, format, options, rank, ranks);
  const io::MappedFile file(path);
  return parse_csv_share(file.text(), path, options, rank, ranks);
}

Dataset read_share_on_every_rank(const std::string& path, const io::CsvOptions& options,
                                 Communicator& comm) {
  Dataset data;
  std::string error;
  try {
    data = read_share(path, options, comm.rank(), comm.size());
  } catch (const Error& e) {
    error = e.what();
  }
  comm.check_all(error, "reading the data shares");
  const bool csv = std::filesystem::is_directory(path) ||
                   io::columnar_format_of_file(path) == io::ColumnarFormat::kNone;
  if (csv && options.drop_index_columns) drop_index_columns_over_ranks(data, comm);
  return data;
}

}  // namespace tabula::distributed

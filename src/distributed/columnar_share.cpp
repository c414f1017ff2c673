#include "distributed/columnar_share.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <numeric>

#include "tabula/core/error.hpp"

namespace tabula::distributed {

std::vector<int> piece_cuts(std::span<const std::int64_t> piece_rows, int ranks,
                            const std::string& path, const std::string& piece) {
  const int pieces = static_cast<int>(piece_rows.size());
  if (ranks < 1) throw InputError(fmt::format("{}: {} ranks", path, ranks));
  if (pieces < ranks)
    throw InputError(fmt::format(
        "{}: {} {}(s) for {} ranks: a rank reads whole {}s, so every rank needs one; write the "
        "file with smaller {}s (pyarrow: row_group_size=..., Arrow IPC: max_chunksize=...) or "
        "use fewer ranks",
        path, pieces, piece, ranks, piece, piece));
  // starts[p]: the file row piece p starts at. A footer is untrusted: the counts are bounded
  // first, so that the sums and the products below stay exact in 64 bits.
  constexpr std::int64_t kMaxRows = std::int64_t{1} << 40;
  std::vector<std::int64_t> starts(static_cast<std::size_t>(pieces) + 1, 0);
  for (int p = 0; p < pieces; ++p) {
    const std::int64_t n = piece_rows[static_cast<std::size_t>(p)];
    if (n < 0 || n > kMaxRows - starts[static_cast<std::size_t>(p)])
      throw InputError(fmt::format("{}: {} {} claims {} rows", path, piece, p + 1, n));
    starts[static_cast<std::size_t>(p) + 1] = starts[static_cast<std::size_t>(p)] + n;
  }
  if (ranks > (1 << 20)) throw InputError(fmt::format("{}: {} ranks", path, ranks));
  const std::int64_t rows = starts.back();
  // |start of piece q - r / ranks of the rows|, times ranks (integers: every rank agrees).
  const auto distance = [&](int q, int r) {
    return std::llabs(starts[static_cast<std::size_t>(q)] * ranks - rows * r);
  };
  std::vector<int> cuts(static_cast<std::size_t>(ranks) + 1, 0);
  cuts.back() = pieces;
  for (int r = 1; r < ranks; ++r) {
    int best = cuts[static_cast<std::size_t>(r) - 1] + 1;
    const int last = pieces - (ranks - r);  // leaves a piece for each later rank
    // Starts rise, so past ideal + the best distance no piece can be nearer: stop there.
    for (int p = best + 1; p <= last; ++p) {
      if (starts[static_cast<std::size_t>(p)] * ranks > rows * r + distance(best, r)) break;
      if (distance(p, r) < distance(best, r)) best = p;
    }
    cuts[static_cast<std::size_t>(r)] = best;
  }
  return cuts;
}

Dataset read_columnar_share(const std::string& path, io::ColumnarFormat format,
                            const io::CsvOptions& options, int rank, int ranks) {
  const std::vector<std::int64_t> rows = io::columnar_piece_rows(path, format);
  const std::string piece(io::columnar_piece_name(format));
  const std::vector<int> cuts = piece_cuts(rows, ranks, path, piece);
  io::ColumnarPieces mine;
  mine.first = cuts[static_cast<std::size_t>(rank)];
  mine.last = cuts[static_cast<std::size_t>(rank) + 1];
  mine.first_row = std::accumulate(rows.begin(), rows.begin() + mine.first, std::int64_t{0});
  Dataset data = io::read_columnar(path, format, options, mine);
  if (ranks > 1)
    data.source =
        fmt::format("{} (rank {}'s {}s {}..{})", path, rank, piece, mine.first + 1, mine.last);
  return data;
}

}  // namespace tabula::distributed

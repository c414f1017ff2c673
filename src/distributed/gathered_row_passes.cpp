#include "distributed/gathered_row_passes.hpp"

#include <algorithm>

#include "distributed/pack.hpp"
#include "distributed/reduce.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::distributed {
namespace {

// Every rank's part, in rank order: its row count, its rows, their weights when weighted.
void unpack_rows(const std::vector<std::string>& parts, std::int64_t d, bool weighted,
                 std::int64_t expected, const char* what, std::vector<float>& x,
                 std::vector<double>& w) {
  x.clear();
  w.clear();
  std::int64_t rows = 0;
  for (std::size_t r = 0; r < parts.size(); ++r) {
    PartReader in(parts[r], r, what);
    const std::int64_t n = in.count();
    if (n > expected - rows) in.fail("more rows than the block holds");
    in.values(static_cast<std::size_t>(n * d), x);
    if (weighted) in.values(static_cast<std::size_t>(n), w);
    if (!in.done()) in.fail("trailing bytes");
    rows += n;
  }
  if (rows != expected)
    throw InputError(std::string(what) + ": the ranks hold " + std::to_string(rows) + " of its " +
                     std::to_string(expected) + " rows");
}

}  // namespace

GatheredRowPasses::GatheredRowPasses(MatrixView<const float> share, std::span<const double> weight,
                                     Communicator& comm, std::uint64_t sample_seed,
                                     std::int64_t sample_capacity)
    : share_(dense_rows(share, row_major_)), weight_(weight), comm_(comm) {
  const RowRange range = row_range(&comm, share.rows);
  offset_ = range.offset;
  total_ = range.total;
  weighted_ = !weight.empty();
  // The sample: each rank sends its rows of the global sample with their slots.
  const std::vector<std::int64_t> slots =
      ReservoirSample::rows_of(total_, sample_capacity, sample_seed);
  const std::int64_t d = share_.cols;
  std::string mine;
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const std::int64_t local = slots[s] - offset_;
    if (local < 0 || local >= share_.rows) continue;
    pack(mine, static_cast<std::int64_t>(s));
    pack_values(mine, std::span<const float>(share_.data + local * d, static_cast<std::size_t>(d)));
    if (weighted_) pack(mine, weight_[static_cast<std::size_t>(local)]);
  }
  sample_.assign(slots.size() * static_cast<std::size_t>(d), 0.0f);
  if (weighted_) sample_weight_.assign(slots.size(), 0.0);
  std::vector<bool> filled(slots.size(), false);
  const std::vector<std::string> parts = comm.all_gather(mine);
  std::vector<float> row;
  for (std::size_t r = 0; r < parts.size(); ++r) {
    PartReader in(parts[r], r, "sample rows");
    while (!in.done()) {
      const std::int64_t s = in.count();
      if (s >= static_cast<std::int64_t>(slots.size()) || filled[s]) in.fail("a bad sample slot");
      row.clear();
      in.values(static_cast<std::size_t>(d), row);
      std::copy(row.begin(), row.end(), sample_.begin() + s * d);
      if (weighted_) sample_weight_[s] = in.scalar<double>();
      filled[s] = true;
    }
  }
  if (std::find(filled.begin(), filled.end(), false) != filled.end())
    throw InputError("sample rows: a sampled row came from no rank");
}

MatrixView<const float> GatheredRowPasses::sample() const {
  const std::int64_t d = share_.cols;
  return MatrixView<const float>::row_major(
      sample_.data(), d == 0 ? 0 : static_cast<std::int64_t>(sample_.size()) / d, d);
}

void GatheredRowPasses::pass(const std::function<bool(const RowBlock&)>& visit) {
  const std::int64_t d = share_.cols;
  std::vector<float> x;
  std::vector<double> w;
  for (std::int64_t begin = 0; begin < total_; begin += kBlockRows) {
    const std::int64_t end = std::min(total_, begin + kBlockRows);
    const std::int64_t lo = std::clamp(begin - offset_, std::int64_t{0}, share_.rows);
    const std::int64_t hi = std::clamp(end - offset_, std::int64_t{0}, share_.rows);
    std::string mine;
    pack(mine, hi - lo);
    pack_values(mine, std::span<const float>(share_.data + lo * d,
                                             static_cast<std::size_t>((hi - lo) * d)));
    if (weighted_)
      pack_values(mine,
                  weight_.subspan(static_cast<std::size_t>(lo), static_cast<std::size_t>(hi - lo)));
    unpack_rows(comm_.all_gather(mine), d, weighted_, end - begin, "block of rows", x, w);
    if (!visit(RowBlock{MatrixView<const float>::row_major(x.data(), end - begin, d), w, begin}))
      return;
  }
}

}  // namespace tabula::distributed

#include "models/forest/hist_reduce.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <string>

#include "tabula/distributed/communicator.hpp"

namespace tabula::forest {
namespace {

// A winner as int64 words: found, feature, bin, missing_left, the gain's bits, left sums.
constexpr std::int64_t kRecordHead = 5;

void write_record(const UnitSplit& s, std::int64_t channels, std::int64_t* out) {
  out[0] = s.found ? 1 : 0;
  if (!s.found) {
    std::fill(out + 1, out + kRecordHead + channels, 0);
    return;
  }
  out[1] = s.feature;
  out[2] = s.bin;
  out[3] = s.missing_left;
  out[4] = std::bit_cast<std::int64_t>(s.gain);
  for (std::int64_t c = 0; c < channels; ++c)
    out[kRecordHead + c] = s.left[static_cast<std::size_t>(c)];
}

UnitSplit read_record(const std::int64_t* in, std::int64_t channels) {
  UnitSplit s;
  s.found = in[0] == 1;
  if (!s.found) return s;
  s.feature = static_cast<std::int32_t>(in[1]);
  s.bin = static_cast<std::int32_t>(in[2]);
  s.missing_left = static_cast<std::uint8_t>(in[3]);
  s.gain = std::bit_cast<double>(in[4]);
  s.left.assign(in + kRecordHead, in + kRecordHead + channels);
  return s;
}

// Units [first, end) of `units` for rank r of `ranks`: contiguous, sizes differing by one at most.
std::int64_t unit_begin(std::int64_t units, int r, int ranks) { return units * r / ranks; }

}  // namespace

bool scatter_pays(std::int64_t bytes, int ranks, std::int64_t min_bytes) {
  return ranks > 1 && bytes >= min_bytes;
}

void keep_better(UnitSplit& best, const UnitSplit& candidate) {
  if (candidate.found && (!best.found || candidate.gain > best.gain)) best = candidate;
}

void all_reduce_histograms(Communicator& comm, std::span<std::int64_t> hist, const HistBatch& batch,
                           ReductionStats& stats) {
  ++stats.collectives;
  if (batch.fits_int32) {
    std::vector<std::int32_t> narrow(hist.begin(), hist.end());
    comm.all_reduce_sum(std::span<std::int32_t>(narrow));
    std::copy(narrow.begin(), narrow.end(), hist.begin());
    stats.bytes += static_cast<std::int64_t>(hist.size() * sizeof(std::int32_t));
    return;
  }
  comm.all_reduce_sum(hist);
  stats.bytes += static_cast<std::int64_t>(hist.size() * sizeof(std::int64_t));
}

ScatteredUnits reduce_units(Communicator& comm, std::span<const std::int64_t> hist,
                            const HistBatch& batch, ReductionStats& stats) {
  const int ranks = comm.size(), me = comm.rank();
  const std::int64_t units = batch.nodes * batch.units_per_node;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    counts[static_cast<std::size_t>(r)] =
        (unit_begin(units, r + 1, ranks) - unit_begin(units, r, ranks)) * batch.unit_size;
  ScatteredUnits out;
  out.batch = batch;
  out.first = unit_begin(units, me, ranks);
  out.count = unit_begin(units, me + 1, ranks) - out.first;
  // This rank's units, summed over the ranks (no transpose: units are contiguous).
  out.sums.resize(static_cast<std::size_t>(out.count * batch.unit_size));
  if (batch.fits_int32) {
    const std::vector<std::int32_t> narrow(hist.begin(), hist.end());
    std::vector<std::int32_t> got(out.sums.size());
    comm.reduce_scatter_sum(std::span<const std::int32_t>(narrow), counts,
                            std::span<std::int32_t>(got));
    std::copy(got.begin(), got.end(), out.sums.begin());
    stats.bytes += static_cast<std::int64_t>(hist.size() * sizeof(std::int32_t));
  } else {
    comm.reduce_scatter_sum(hist, counts, std::span<std::int64_t>(out.sums));
    stats.bytes += static_cast<std::int64_t>(hist.size() * sizeof(std::int64_t));
  }
  ++stats.collectives;
  ++stats.scattered;
  return out;
}

std::vector<std::vector<UnitSplit>> exchange_best_splits(
    Communicator& comm, const std::vector<ScatteredUnits>& parts,
    const std::vector<std::span<const std::int32_t>>& features, const ScanUnits& scan,
    ReductionStats& stats) {
  const int ranks = comm.size(), me = comm.rank();
  // Entries: per batch, per rank, one record per node that rank's units touch.
  struct Layout {
    std::int64_t record = 0;
    std::vector<std::int64_t> begin;                           // ranks + 1 entry offsets, in words
    std::vector<std::pair<std::int64_t, std::int64_t>> nodes;  // per rank [first, end)
  };
  std::vector<Layout> layouts(parts.size());
  std::int64_t words = 0;
  for (std::size_t b = 0; b < parts.size(); ++b) {
    const HistBatch& batch = parts[b].batch;
    const std::int64_t m = batch.units_per_node, units = batch.nodes * m;
    Layout& layout = layouts[b];
    layout.record = kRecordHead + batch.channels;
    for (int r = 0; r < ranks; ++r) {
      const std::int64_t ub = unit_begin(units, r, ranks), ue = unit_begin(units, r + 1, ranks);
      layout.nodes.push_back(ue > ub ? std::pair{ub / m, (ue - 1) / m + 1}
                                     : std::pair{std::int64_t{0}, std::int64_t{0}});
      layout.begin.push_back(words);
      words += (layout.nodes.back().second - layout.nodes.back().first) * layout.record;
    }
    layout.begin.push_back(words);
  }
  std::vector<std::int64_t> records(static_cast<std::size_t>(words), 0);
  // This rank's units scanned, combined per node it touches (units in order).
  for (std::size_t b = 0; b < parts.size(); ++b) {
    const ScatteredUnits& part = parts[b];
    const Layout& layout = layouts[b];
    if (part.count == 0) continue;
    const std::int64_t m = part.batch.units_per_node, k = part.batch.channels;
    const std::vector<UnitSplit> found =
        scan(part.sums.data(), part.count, features[b].data() + part.first);
    const auto [nb, ne] = layout.nodes[static_cast<std::size_t>(me)];
    for (std::int64_t node = nb; node < ne; ++node) {
      UnitSplit best;
      const std::int64_t u0 = std::max(part.first, node * m);
      const std::int64_t u1 = std::min(part.first + part.count, (node + 1) * m);
      for (std::int64_t u = u0; u < u1; ++u)
        keep_better(best, found[static_cast<std::size_t>(u - part.first)]);
      write_record(best, k,
                   records.data() + layout.begin[static_cast<std::size_t>(me)] +
                       (node - nb) * layout.record);
    }
  }
  // Every rank's winners on every rank: zeros elsewhere, so integer sums gather exactly.
  comm.all_reduce_sum(std::span<std::int64_t>(records));
  ++stats.collectives;
  stats.bytes += static_cast<std::int64_t>(records.size() * sizeof(std::int64_t));
  // Each node's split: ranks hold increasing units, so rank order is unit order.
  std::vector<std::vector<UnitSplit>> splits(parts.size());
  for (std::size_t b = 0; b < parts.size(); ++b) {
    const Layout& layout = layouts[b];
    splits[b].resize(static_cast<std::size_t>(parts[b].batch.nodes));
    for (int r = 0; r < ranks; ++r) {
      const auto [nb, ne] = layout.nodes[static_cast<std::size_t>(r)];
      for (std::int64_t node = nb; node < ne; ++node) {
        const std::int64_t* at = records.data() + layout.begin[static_cast<std::size_t>(r)] +
                                 (node - nb) * layout.record;
        if (at[0] != 0 && at[0] != 1)
          throw DistributedError("forest split exchange: rank " + std::to_string(r) +
                                 " sent a malformed winner for node " + std::to_string(node));
        keep_better(splits[b][static_cast<std::size_t>(node)],
                    read_record(at, parts[b].batch.channels));
      }
    }
  }
  return splits;
}

std::vector<UnitSplit> scattered_best_splits(Communicator& comm, std::span<const std::int64_t> hist,
                                             const HistBatch& batch,
                                             std::span<const std::int32_t> features,
                                             const ScanUnits& scan, ReductionStats& stats) {
  std::vector<ScatteredUnits> parts;
  parts.push_back(reduce_units(comm, hist, batch, stats));
  return std::move(exchange_best_splits(comm, parts, {features}, scan, stats).front());
}

}  // namespace tabula::forest

#include "models/cluster/seeding.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "distributed/reduce.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::cluster {
namespace {

constexpr std::int64_t kHostRows = 4096;

double weight_of(std::span<const double> weights, std::int64_t i) {
  return weights.empty() ? 1.0 : weights[static_cast<std::size_t>(i)];
}

// numpy's searchsorted(side="left"): the first row whose cumulative value reaches `target`,
// -1 when none does.
std::int64_t first_reaching(const std::vector<double>& cumulative, double target) {
  const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), target);
  return it == cumulative.end() ? -1 : it - cumulative.begin();
}

void copy_row(MatrixView<const float> x, std::int64_t row, double* out) {
  for (std::int64_t j = 0; j < x.cols; ++j) out[j] = x(row, j);
}

/// Where this rank's running sums start (the earlier ranks' totals added in rank order, 0 for
/// one process) and the total of every rank, added in the same order.
struct RankPrefix {
  double start = 0.0;
  double total = 0.0;
};

RankPrefix rank_prefix(Communicator* comm, double mine) {
  if (comm == nullptr || comm->size() == 1) return {0.0, mine};
  std::string bytes(sizeof(double), '\0');
  std::memcpy(bytes.data(), &mine, sizeof(double));
  RankPrefix prefix;
  const std::vector<std::string> parts = comm->all_gather(bytes);
  for (int r = 0; r < static_cast<int>(parts.size()); ++r) {
    if (parts[static_cast<std::size_t>(r)].size() != sizeof(double))
      throw Error("k-means seeding: rank " + std::to_string(r) + " sent a malformed sum");
    double theirs = 0.0;
    std::memcpy(&theirs, parts[static_cast<std::size_t>(r)].data(), sizeof(double));
    if (r == comm->rank()) prefix.start = prefix.total;
    prefix.total += theirs;
  }
  return prefix;
}

/// A draw's row as this rank sees it: found (its running sum reaches the draw), a fallback
/// (no rank's does: the row one process falls back to, if it is this rank's), or neither.
enum class Pick : std::int64_t { kNone = 0, kFound = 1, kFallback = 2 };

/// The rows of `picks.size()` draws (each this rank's local row, or -1 with kNone), copied to
/// every rank: for each draw, the lowest rank that found it, else the rank with the fallback.
/// `owned[t]` says whether this rank gave draw t's row. One process: its own rows.
std::vector<double> rows_of_draws(Communicator* comm, MatrixView<const float> x,
                                  const std::vector<std::pair<Pick, std::int64_t>>& picks,
                                  std::vector<char>& owned) {
  const std::int64_t d = x.cols;
  const std::size_t t_count = picks.size();
  const std::size_t record = sizeof(std::int64_t) + static_cast<std::size_t>(d) * sizeof(double);
  std::string bytes(t_count * record, '\0');
  for (std::size_t t = 0; t < t_count; ++t) {
    const auto status = static_cast<std::int64_t>(picks[t].first);
    std::memcpy(bytes.data() + t * record, &status, sizeof(status));
    if (picks[t].first != Pick::kNone)
      copy_row(x, picks[t].second,
               reinterpret_cast<double*>(bytes.data() + t * record + sizeof(status)));
  }
  const std::vector<std::string> parts =
      comm != nullptr ? comm->all_gather(bytes) : std::vector<std::string>{bytes};
  std::vector<double> rows(t_count * static_cast<std::size_t>(d));
  owned.assign(t_count, 0);
  const int me = comm != nullptr ? comm->rank() : 0;
  for (std::size_t t = 0; t < t_count; ++t) {
    int from = -1;
    for (Pick wanted : {Pick::kFound, Pick::kFallback}) {
      for (int r = 0; r < static_cast<int>(parts.size()) && from < 0; ++r) {
        const std::string& part = parts[static_cast<std::size_t>(r)];
        if (part.size() != bytes.size())
          throw Error("k-means seeding: rank " + std::to_string(r) + " sent a malformed draw");
        std::int64_t status = 0;
        std::memcpy(&status, part.data() + t * record, sizeof(status));
        if (status == static_cast<std::int64_t>(wanted)) from = r;
      }
      if (from >= 0) break;
    }
    if (from < 0) throw Error("k-means seeding: no rank holds a draw's row");
    std::memcpy(rows.data() + t * static_cast<std::size_t>(d),
                parts[static_cast<std::size_t>(from)].data() + t * record + sizeof(std::int64_t),
                static_cast<std::size_t>(d) * sizeof(double));
    owned[t] = from == me ? 1 : 0;
  }
  return rows;
}

/// Whether a rank after this one says `mine` (false for one process).
bool later_rank_has(Communicator* comm, bool mine) {
  if (comm == nullptr || comm->size() == 1) return false;
  std::vector<std::int64_t> flags(static_cast<std::size_t>(comm->size()), 0);
  flags[static_cast<std::size_t>(comm->rank())] = mine ? 1 : 0;
  distributed::sum_over_ranks(comm, flags);
  return std::any_of(flags.begin() + comm->rank() + 1, flags.end(),
                     [](std::int64_t f) { return f != 0; });
}

bool last_rank(Communicator* comm) { return comm == nullptr || comm->rank() == comm->size() - 1; }

/// Draws `targets` against a rank's cumulative sums (which start at its prefix): numpy's
/// searchsorted over every rank's rows, clipped to the last row of the last rank.
std::vector<double> draw_rows(Communicator* comm, MatrixView<const float> x,
                              const std::vector<double>& cumulative,
                              const std::vector<double>& targets) {
  std::vector<std::pair<Pick, std::int64_t>> picks;
  for (double target : targets) {
    const std::int64_t row = first_reaching(cumulative, target);
    if (row >= 0)
      picks.emplace_back(Pick::kFound, row);
    else if (last_rank(comm))
      picks.emplace_back(Pick::kFallback, x.rows - 1);
    else
      picks.emplace_back(Pick::kNone, -1);
  }
  std::vector<char> owned;
  return rows_of_draws(comm, x, picks, owned);
}

}  // namespace

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// long: one k-means++ step per centre: draw the trials, their distances (one GEMM pass), their
// potentials, keep the best.
std::vector<double> kmeans_plus_plus(const Points& points, std::span<const double> weights,
                                     std::int64_t k, std::mt19937_64& rng, Communicator* comm) {
  const std::int64_t n = points.rows(), d = points.cols();
  const MatrixView<const float> x = points.host();
  std::vector<double> centres(static_cast<std::size_t>(k * d));
  std::vector<double> cumulative(static_cast<std::size_t>(n));
  double local = 0.0;
  for (std::int64_t i = 0; i < n; ++i) local += weight_of(weights, i);
  RankPrefix prefix = rank_prefix(comm, local);
  double running = prefix.start;
  for (std::int64_t i = 0; i < n; ++i) cumulative[i] = running += weight_of(weights, i);
  {
    const std::vector<double> first =
        draw_rows(comm, x, cumulative, {uniform01(rng) * prefix.total});
    std::copy(first.begin(), first.end(), centres.begin());
  }

  std::vector<double> closest(static_cast<std::size_t>(n));
  points.for_each_block(std::span<const double>(centres.data(), static_cast<std::size_t>(d)), 1,
                        [&](std::int64_t begin, std::int64_t end, std::span<const double> d2) {
                          std::copy(d2.begin(), d2.end(), closest.begin() + begin);
                          (void)end;
                        });
  double potential = distributed::sum_over_ranks(
      comm, ordered_sum(n, [&](std::int64_t i) { return weight_of(weights, i) * closest[i]; }));

  const std::int64_t trials = 2 + static_cast<std::int64_t>(std::log(static_cast<double>(k)));
  std::vector<double> trial_centres(static_cast<std::size_t>(trials * d));
  std::vector<std::vector<double>> trial_closest(static_cast<std::size_t>(trials),
                                                 std::vector<double>(static_cast<std::size_t>(n)));
  std::vector<double> targets(static_cast<std::size_t>(trials));
  for (std::int64_t c = 1; c < k; ++c) {
    local = 0.0;
    for (std::int64_t i = 0; i < n; ++i) local += weight_of(weights, i) * closest[i];
    running = rank_prefix(comm, local).start;
    for (std::int64_t i = 0; i < n; ++i)
      cumulative[i] = running += weight_of(weights, i) * closest[i];
    for (double& target : targets) target = uniform01(rng) * potential;
    trial_centres = draw_rows(comm, x, cumulative, targets);
    points.for_each_block(
        trial_centres, trials,
        [&](std::int64_t begin, std::int64_t end, std::span<const double> d2) {
          parallel_blocks(end - begin, kHostRows, [&](std::int64_t lo, std::int64_t hi) {
            for (std::int64_t i = lo; i < hi; ++i)
              for (std::int64_t t = 0; t < trials; ++t)
                trial_closest[t][begin + i] = std::min(closest[begin + i], d2[i * trials + t]);
          });
        });
    std::vector<double> potentials(static_cast<std::size_t>(trials));
    for (std::int64_t t = 0; t < trials; ++t) {
      const std::vector<double>& dist = trial_closest[t];
      potentials[t] =
          ordered_sum(n, [&](std::int64_t i) { return weight_of(weights, i) * dist[i]; });
    }
    distributed::sum_over_ranks(comm, potentials);
    std::int64_t best = 0;
    double best_potential = 0.0;
    for (std::int64_t t = 0; t < trials; ++t)
      if (t == 0 || potentials[t] < best_potential) best = t, best_potential = potentials[t];
    potential = best_potential;
    closest.swap(trial_closest[best]);
    std::copy_n(trial_centres.data() + best * d, d, centres.data() + c * d);
  }
  return centres;
}

std::vector<double> random_rows(const Points& points, std::span<const double> weights,
                                std::int64_t k, std::mt19937_64& rng, Communicator* comm) {
  const std::int64_t n = points.rows(), d = points.cols();
  std::vector<char> drawn(static_cast<std::size_t>(n), 0);
  std::vector<double> centres(static_cast<std::size_t>(k * d));
  for (std::int64_t c = 0; c < k; ++c) {
    double local = 0.0;
    for (std::int64_t i = 0; i < n; ++i)
      if (!drawn[i]) local += weight_of(weights, i);
    const RankPrefix prefix = rank_prefix(comm, local);
    // Fewer rows of positive weight than clusters: the first rows not drawn yet.
    const double target = prefix.total > 0.0 ? uniform01(rng) * prefix.total : -1.0;
    std::int64_t pick = -1, last = -1;
    double running = prefix.start;
    for (std::int64_t i = 0; i < n && pick < 0; ++i) {
      if (drawn[i]) continue;
      running += weight_of(weights, i);
      if (running > target) pick = i;
    }
    // Rounding at the top end: the last row not drawn, of the last rank holding one.
    for (std::int64_t i = n - 1; i >= 0 && last < 0; --i)
      if (!drawn[i]) last = i;
    const bool later = later_rank_has(comm, last >= 0);
    const bool fallback = last >= 0 && !later;
    std::vector<std::pair<Pick, std::int64_t>> picks{
        pick >= 0  ? std::pair{Pick::kFound, pick}
        : fallback ? std::pair{Pick::kFallback, last}
                   : std::pair{Pick::kNone, std::int64_t{-1}}};
    std::vector<char> owned;
    const std::vector<double> row = rows_of_draws(comm, points.host(), picks, owned);
    if (owned[0]) drawn[static_cast<std::size_t>(pick >= 0 ? pick : last)] = 1;
    std::copy(row.begin(), row.end(), centres.begin() + c * d);
  }
  return centres;
}

}  // namespace tabula::cluster

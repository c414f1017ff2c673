#include "distributed/select.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "distributed/reduce.hpp"
#include "tabula/core/error.hpp"

namespace tabula::distributed {
namespace {

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;

/// One k being selected: the key digits settled so far and this rank's values that still match.
struct Target {
  std::int64_t k = 0;  // rank among `candidates` over every rank
  std::uint64_t prefix = 0;
  std::vector<std::uint64_t> candidates;
};

}  // namespace

std::uint64_t order_key(double value) {
  if (value == 0.0) value = 0.0;  // -0.0 sorts with +0.0, as comparisons of doubles do
  const auto bits = std::bit_cast<std::uint64_t>(value);
  // Positive doubles order as their bits; negative ones in reverse, below every positive one.
  return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
}

double from_order_key(std::uint64_t key) {
  return std::bit_cast<double>((key & kSignBit) != 0 ? key & ~kSignBit : ~key);
}

std::vector<double> select_over_ranks(Communicator* comm, std::span<const double> values,
                                      std::span<const std::int64_t> ranks) {
  std::vector<std::uint64_t> keys(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) throw InputError("select_over_ranks: a value is NaN");
    keys[i] = order_key(values[i]);
  }
  std::vector<Target> targets(ranks.size());
  for (std::size_t t = 0; t < ranks.size(); ++t) {
    if (ranks[t] < 0)
      throw InputError("select_over_ranks: negative order " + std::to_string(ranks[t]));
    targets[t].k = ranks[t];
  }
  for (int settled = 0; settled < 64;) {
    const int width = std::min(kSelectDigitBits, 64 - settled);
    const int shift = 64 - settled - width;
    const std::size_t bins = std::size_t{1} << width;
    auto digit = [&](std::uint64_t key) { return (key >> shift) & (bins - 1); };
    std::vector<std::int64_t> histogram(bins * targets.size(), 0);
    for (std::size_t t = 0; t < targets.size(); ++t) {
      const std::vector<std::uint64_t>& mine = settled == 0 ? keys : targets[t].candidates;
      for (std::uint64_t key : mine) ++histogram[t * bins + digit(key)];
    }
    sum_over_ranks(comm, histogram);
    for (std::size_t t = 0; t < targets.size(); ++t) {
      Target& target = targets[t];
      std::size_t d = 0;
      std::int64_t below = 0;
      for (; d < bins; ++d) {
        const std::int64_t count = histogram[t * bins + d];
        if (count < 0) throw InputError("select_over_ranks: a negative count from another rank");
        if (target.k < below + count) break;
        below += count;
      }
      if (d == bins) {
        if (settled == 0)
          throw InputError("select_over_ranks: order " + std::to_string(target.k) + " asked of " +
                           std::to_string(below) + " values");
        throw InputError("select_over_ranks: the ranks' counts do not add up");
      }
      target.k -= below;
      target.prefix |= static_cast<std::uint64_t>(d) << shift;
      const std::vector<std::uint64_t>& mine = settled == 0 ? keys : target.candidates;
      std::vector<std::uint64_t> kept;
      for (std::uint64_t key : mine)
        if (digit(key) == d) kept.push_back(key);
      target.candidates = std::move(kept);
    }
    settled += width;
  }
  std::vector<double> out;
  for (const Target& target : targets) out.push_back(from_order_key(target.prefix));
  return out;
}

double median_over_ranks(Communicator* comm, std::span<const double> values) {
  std::vector<std::int64_t> n{static_cast<std::int64_t>(values.size())};
  sum_over_ranks(comm, n);
  if (n[0] == 0) throw InputError("median: no values on any rank");
  const std::int64_t positions[2] = {(n[0] - 1) / 2, n[0] / 2};
  const std::vector<double> v = select_over_ranks(comm, values, positions);
  return n[0] % 2 == 1 ? v[1] : (v[0] + v[1]) / 2.0;
}

double quantile_over_ranks(Communicator* comm, std::span<const double> values, double q) {
  if (!(q >= 0.0 && q <= 1.0)) throw InputError("quantile: q must lie in [0, 1]");
  std::vector<std::int64_t> n{static_cast<std::int64_t>(values.size())};
  sum_over_ranks(comm, n);
  if (n[0] == 0) throw InputError("quantile: no values on any rank");
  const double position = q * static_cast<double>(n[0] - 1);
  const auto lo = static_cast<std::int64_t>(std::floor(position));
  const std::int64_t positions[2] = {lo, std::min(lo + 1, n[0] - 1)};
  const std::vector<double> v = select_over_ranks(comm, values, positions);
  const double t = position - static_cast<double>(lo), a = v[0], b = v[1], diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

}  // namespace tabula::distributed

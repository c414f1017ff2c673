// A/B traffic split between the served versions of one model: weighted, deterministic, and
// sticky when the client sends a key (the same key always reaches the same version while the
// split is unchanged).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tabula::serve {

class TrafficSplit {
 public:
  TrafficSplit() = default;
  /// `versions` and `weights` have equal, non-zero sizes; weights >= 0 with a positive sum.
  /// InputError otherwise.
  TrafficSplit(std::vector<std::string> versions, std::vector<double> weights);

  /// The version for one request: chosen by the hash of `key` when given (sticky), else by
  /// `sequence` (e.g. a request counter), so the long-run shares follow the weights.
  const std::string& pick(std::optional<std::string_view> key, std::uint64_t sequence) const;

  bool empty() const { return versions_.empty(); }
  const std::vector<std::string>& versions() const { return versions_; }
  const std::vector<double>& weights() const { return weights_; }

 private:
  std::vector<std::string> versions_;
  std::vector<double> weights_;
  std::vector<double> cumulative_;  // normalised to end at 1
};

/// splitmix64 of the FNV-1a hash of `key`: well mixed, stable across runs and platforms.
std::uint64_t sticky_hash(std::string_view key);

}  // namespace tabula::serve

// Weighted version choice by hashing.
#include "serve/traffic_split.hpp"

#include <algorithm>
#include <cmath>

#include "tabula/core/error.hpp"

namespace tabula::serve {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t sticky_hash(std::string_view key) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return splitmix64(h);
}

TrafficSplit::TrafficSplit(std::vector<std::string> versions, std::vector<double> weights)
    : versions_(std::move(versions)), weights_(std::move(weights)) {
  if (versions_.empty() || versions_.size() != weights_.size())
    throw InputError("a traffic split needs one weight per version");
  double total = 0;
  for (double w : weights_) {
    if (!(w >= 0) || std::isinf(w)) throw InputError("traffic weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) throw InputError("traffic weights must not all be 0");
  double running = 0;
  for (double w : weights_) {
    running += w;
    cumulative_.push_back(running / total);
  }
  cumulative_.back() = 1.0;
}

const std::string& TrafficSplit::pick(std::optional<std::string_view> key,
                                      std::uint64_t sequence) const {
  TABULA_ASSERT(!versions_.empty(), "pick from an empty traffic split");
  const std::uint64_t h = key ? sticky_hash(*key) : splitmix64(sequence);
  // Top 53 bits as a uniform double in [0, 1).
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  const auto index = std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()),
                                           versions_.size() - 1);
  return versions_[index];
}

}  // namespace tabula::serve

// The random draws of splits, folds and search spaces: from std::mt19937_64, whose output is
// fixed by the standard, and never through std:: distributions, whose output is not. Same seed,
// same draws on every platform.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace tabula::selection {

/// Uniform integer in [0, bound) without modulo bias.
inline std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t r;
  do r = rng();
  while (r >= limit);
  return r % bound;
}

/// Uniform double in [0, 1) from 53 random bits.
inline double draw_unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// Fisher-Yates shuffle.
template <typename T>
void shuffle_in_place(std::vector<T>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[draw_below(rng, i)]);
}

}  // namespace tabula::selection

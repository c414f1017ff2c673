// Sorting many numbers at once: an LSD radix sort of their order-preserving bit patterns, for the
// forest's quantile binning (floats) and the drift profile's percentiles (doubles), where a
// comparison sort of every column was the largest fixed cost.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace tabula {

/// Sorts `values` (float or double, no NaN; infinities allowed) ascending, in place: a byte per
/// pass, skipping bytes that every key shares (small integers differ in one or two). Equal
/// values stay equal (-0 lands before +0; they compare equal). Below 512 values, std::sort.
template <typename T>
void radix_sort(std::vector<T>& values) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  using Key = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  constexpr std::size_t kRadixFrom = 512;  // below, std::sort is as fast
  const std::size_t n = values.size();
  if (n < kRadixFrom) {
    std::sort(values.begin(), values.end());
    return;
  }
  constexpr Key kSign = Key{1} << (sizeof(Key) * 8 - 1);
  std::vector<Key> keys(n), spare(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = std::bit_cast<Key>(values[i]);
    keys[i] = (u & kSign) != 0 ? ~u : u | kSign;
  }
  // Every byte's counts in one read of the keys; a pass reorders the keys without changing them.
  constexpr int kBytes = sizeof(Key);
  std::array<std::array<std::size_t, 256>, kBytes> starts{};
  for (const Key key : keys)
    for (int b = 0; b < kBytes; ++b) ++starts[b][(key >> (8 * b)) & 255];
  for (int b = 0; b < kBytes; ++b) {
    std::array<std::size_t, 256>& start = starts[b];
    if (std::find(start.begin(), start.end(), n) != start.end()) continue;  // one shared byte
    std::size_t sum = 0;
    for (std::size_t& count : start) sum += std::exchange(count, sum);
    for (const Key key : keys) spare[start[(key >> (8 * b)) & 255]++] = key;
    keys.swap(spare);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Key key = keys[i];
    values[i] = std::bit_cast<T>((key & kSign) != 0 ? key ^ kSign : ~key);
  }
}

}  // namespace tabula

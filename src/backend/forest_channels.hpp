// Adding (and copying) one row's integer channels into a histogram bin on the host, shared by the
// CPU histogram primitive and the forest's small-node path (host code only: not for the kernels).
#pragma once

#include <cstdint>
#include <cstring>

namespace tabula::forest {

/// to[c] += from[c] for k channels. Three channels (regression, two classes: the common shape)
/// as one scalar and one two-lane add: 8% less fit time on 1M x 28 than three scalar adds, and
/// a loop of unknown length costs more than the adds. Two channels (boosting's packed ones) as
/// the two-lane add alone.
inline void add_channels(std::int64_t* to, const std::int64_t* from, std::int64_t k) {
  using Pair = std::int64_t __attribute__((vector_size(16)));
  if (k == 2 || k == 3) {  // two channels (packed boosting channels): the two-lane add alone
    Pair a, b;
    std::memcpy(&a, to + k - 2, sizeof a);
    std::memcpy(&b, from + k - 2, sizeof b);
    a += b;
    std::memcpy(to + k - 2, &a, sizeof a);
    if (k == 3) to[0] += from[0];
    return;
  }
  for (std::int64_t c = 0; c < k; ++c) to[c] += from[c];
}

/// to[c] = from[c] for k channels; two and three spelled out, since a copy loop becomes a
/// library call that costs more than the copies.
inline void copy_channels(std::int64_t* to, const std::int64_t* from, std::int64_t k) {
  if (k == 2) {
    to[0] = from[0];
    to[1] = from[1];
    return;
  }
  if (k == 3) {
    to[0] = from[0];
    to[1] = from[1];
    to[2] = from[2];
    return;
  }
  for (std::int64_t c = 0; c < k; ++c) to[c] = from[c];
}

/// Copies one row of ordered codes (ForestBatch::ordered_codes): kStride bytes, a fixed size so
/// that it is one or two vector moves rather than a library call. to may equal from.
template <int kStride>
inline void copy_code_row(std::uint8_t* to, const std::uint8_t* from) {
  std::uint8_t row[kStride];
  std::memcpy(row, from, kStride);
  std::memcpy(to, row, kStride);
}

}  // namespace tabula::forest

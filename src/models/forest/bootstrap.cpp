#include "models/forest/bootstrap.hpp"

#include <algorithm>
#include <string>

#include "backend/forest_math.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::forest {
namespace {

// floor(a·b / c) without overflow for a, b, c < 2^62.
std::int64_t mul_div_floor(std::int64_t a, std::int64_t b, std::int64_t c) {
  __extension__ typedef unsigned __int128 U128;
  return static_cast<std::int64_t>(static_cast<U128>(a) * static_cast<U128>(b) /
                                   static_cast<U128>(c));
}

}  // namespace

std::int64_t bootstrap_block_draws(std::int64_t n, std::int64_t n_draw, std::int64_t block,
                                   std::int64_t block_rows) {
  const std::int64_t begin = std::min(n, block * block_rows);
  const std::int64_t end = std::min(n, begin + block_rows);
  return mul_div_floor(n_draw, end, n) - mul_div_floor(n_draw, begin, n);
}

std::vector<std::int32_t> draw_counts(std::uint64_t seed, std::int64_t tree, std::int64_t n,
                                      std::int64_t n_draw, bool bootstrap, std::int64_t first,
                                      std::int64_t rows, std::int64_t block_rows) {
  if (rows < 0) rows = n;
  if (first < 0 || first + rows > n || block_rows <= 0 || n_draw < 0 || n_draw > n)
    throw InputError("forest bootstrap: rows [" + std::to_string(first) + ", " +
                     std::to_string(first + rows) + ") of " + std::to_string(n) + " with " +
                     std::to_string(n_draw) + " draws in blocks of " + std::to_string(block_rows));
  std::vector<std::int32_t> counts(static_cast<std::size_t>(rows), bootstrap ? 0 : 1);
  if (!bootstrap || rows == 0) return counts;
  const std::uint64_t stream = bootstrap_stream(tree);
  const std::int64_t first_block = first / block_rows;
  const std::int64_t last_block = (first + rows - 1) / block_rows;
  // Each block writes only its own rows: blocks run side by side with plain increments, and the
  // counts do not depend on the thread count.
  parallel_for(last_block - first_block + 1, [&](std::int64_t i) {
    const std::int64_t block = first_block + i;
    const std::int64_t begin = block * block_rows;
    const std::int64_t size = std::min(n, begin + block_rows) - begin;
    const std::int64_t draws = bootstrap_block_draws(n, n_draw, block, block_rows);
    // Draw k's row relative to `first`; rows before it wrap far above `rows` (unsigned).
    const std::uint64_t shift = static_cast<std::uint64_t>(begin - first);
    const std::uint64_t counter0 = static_cast<std::uint64_t>(block) << 32;
    for (std::int64_t k = 0; k < draws; ++k) {
      const std::uint64_t r =
          counter_random(seed, stream, counter0 + static_cast<std::uint64_t>(k));
      const std::uint64_t at = uniform_below(r, static_cast<std::uint64_t>(size)) + shift;
      if (at < static_cast<std::uint64_t>(rows)) ++counts[static_cast<std::size_t>(at)];
    }
  });
  return counts;
}

}  // namespace tabula::forest

// The blocked bootstrap (src/models/forest/bootstrap.hpp): any share of the rows draws the
// counts one process draws for them, on any thread count, and tables of at most one block draw
// exactly the unblocked bootstrap.
#include "models/forest/bootstrap.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "backend/forest_math.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::forest {
namespace {

// The bootstrap before blocks: n_draw words of the tree's stream, each a uniform row of n.
std::vector<std::int32_t> unblocked_counts(std::uint64_t seed, std::int64_t tree, std::int64_t n,
                                           std::int64_t n_draw) {
  std::vector<std::int32_t> counts(static_cast<std::size_t>(n), 0);
  for (std::int64_t k = 0; k < n_draw; ++k) {
    const std::uint64_t r =
        counter_random(seed, bootstrap_stream(tree), static_cast<std::uint64_t>(k));
    ++counts[static_cast<std::size_t>(uniform_below(r, static_cast<std::uint64_t>(n)))];
  }
  return counts;
}

std::int64_t sum(const std::vector<std::int32_t>& counts) {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

TEST(ForestBootstrap, OneBlockDrawsTheUnblockedBootstrap) {
  for (const std::int64_t n : {std::int64_t{1}, std::int64_t{1000}, kBootstrapBlockRows}) {
    for (const std::int64_t n_draw : {n, (n * 7 + 9) / 10}) {
      SCOPED_TRACE(std::to_string(n) + " rows, " + std::to_string(n_draw) + " draws");
      EXPECT_EQ(draw_counts(17, 3, n, n_draw, true), unblocked_counts(17, 3, n, n_draw));
    }
  }
  // One row more than a block: the blocked draws differ (the change is only above a block).
  const std::int64_t n = kBootstrapBlockRows + 1;
  EXPECT_NE(draw_counts(17, 3, n, n, true), unblocked_counts(17, 3, n, n));
}

TEST(ForestBootstrap, BlocksShareTheDrawsExactly) {
  for (const std::int64_t block_rows : {std::int64_t{1000}, kBootstrapBlockRows}) {
    const std::int64_t n = 7 * block_rows + 123;
    for (const std::int64_t n_draw : {n, n / 3 + 1, std::int64_t{5}}) {
      std::int64_t total = 0;
      for (std::int64_t b = 0; b < 8; ++b) {
        const std::int64_t size = b < 7 ? block_rows : 123;
        const std::int64_t draws = bootstrap_block_draws(n, n_draw, b, block_rows);
        // Each block's share, rounded down or up.
        EXPECT_LE(draws * n, n_draw * size + n);
        EXPECT_GE(draws * n, n_draw * size - n);
        total += draws;
      }
      EXPECT_EQ(total, n_draw);
      EXPECT_EQ(sum(draw_counts(5, 1, n, n_draw, true, 0, -1, block_rows)), n_draw);
    }
  }
}

TEST(ForestBootstrap, AShareDrawsTheOneProcessCountsOfItsRows) {
  const std::int64_t block_rows = 1000;
  const std::int64_t n = 10 * block_rows + 537;
  for (const std::int64_t n_draw : {n, (n * 6) / 10}) {
    const std::vector<std::int32_t> all = draw_counts(9, 4, n, n_draw, true, 0, -1, block_rows);
    // Cuts inside blocks, on block edges, a share of one row and a share of several blocks.
    for (const std::vector<std::int64_t>& cuts : {std::vector<std::int64_t>{0, n},
                                                  {0, 1, n},
                                                  {0, 999, 1000, 4321, n},
                                                  {0, 3000, 7001, 7002, n}}) {
      for (std::size_t r = 0; r + 1 < cuts.size(); ++r) {
        SCOPED_TRACE("share [" + std::to_string(cuts[r]) + ", " + std::to_string(cuts[r + 1]) +
                     ")");
        const std::vector<std::int32_t> share =
            draw_counts(9, 4, n, n_draw, true, cuts[r], cuts[r + 1] - cuts[r], block_rows);
        EXPECT_EQ(share,
                  std::vector<std::int32_t>(all.begin() + cuts[r], all.begin() + cuts[r + 1]));
      }
    }
  }
  // The production block size over three shares of 200,001 rows.
  const std::int64_t big = 200001;
  const std::vector<std::int32_t> all = draw_counts(2, 0, big, big, true);
  const std::vector<std::int32_t> middle = draw_counts(2, 0, big, big, true, 70000, 90000);
  EXPECT_EQ(middle, std::vector<std::int32_t>(all.begin() + 70000, all.begin() + 160000));
}

TEST(ForestBootstrap, CountsDoNotDependOnTheThreadCount) {
  const std::int64_t n = 3 * kBootstrapBlockRows + 11;
  set_thread_count(1);
  const std::vector<std::int32_t> one = draw_counts(8, 2, n, n / 2, true);
  set_thread_count(3);
  const std::vector<std::int32_t> three = draw_counts(8, 2, n, n / 2, true);
  set_thread_count(0);
  EXPECT_EQ(one, three);
  EXPECT_EQ(sum(one), n / 2);
}

TEST(ForestBootstrap, CountsLookLikeABootstrap) {
  // Every draw lands in its block, and rows are drawn about once each on average (Binomial(B,
  // 1/B) ~ Poisson(1): about e^-1 of the rows are left out).
  const std::int64_t n = 4 * kBootstrapBlockRows;
  const std::vector<std::int32_t> counts = draw_counts(1, 7, n, n, true);
  std::int64_t zeros = 0;
  for (std::int64_t b = 0; b < 4; ++b) {
    std::int64_t in_block = 0;
    for (std::int64_t i = b * kBootstrapBlockRows; i < (b + 1) * kBootstrapBlockRows; ++i) {
      in_block += counts[static_cast<std::size_t>(i)];
      zeros += counts[static_cast<std::size_t>(i)] == 0;
    }
    EXPECT_EQ(in_block, kBootstrapBlockRows);
  }
  EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(n), 0.3679, 0.005);
  // Without bootstrap every row counts once.
  EXPECT_EQ(draw_counts(1, 7, 10, 10, false, 2, 5), std::vector<std::int32_t>(5, 1));
}

TEST(ForestBootstrap, RefusesASharePastTheRows) {
  EXPECT_THROW(draw_counts(1, 0, 100, 100, true, 90, 20), InputError);
  EXPECT_THROW(draw_counts(1, 0, 100, 101, true), InputError);
}

}  // namespace
}  // namespace tabula::forest

// The forest's bootstrap: how often each row is drawn for a tree, drawn block by block so that
// any range of rows (a rank's share) can be drawn alone, with the counts a one-process fit
// draws for those rows, whatever the number of ranks or threads.
#pragma once

#include <cstdint>
#include <vector>

namespace tabula::forest {

/// Rows per bootstrap block (docs/distributed.md, "Draws"). Tables of at most this many rows
/// are one block, drawn exactly as before blocks (scikit-learn's n_draw draws over all rows).
inline constexpr std::int64_t kBootstrapBlockRows = std::int64_t{1} << 16;

/// How many of the n_draw draws over n rows fall to block `block` (rows [block·B, (block+1)·B)
/// clipped to n, B = block_rows): floor(n_draw·end / n) - floor(n_draw·begin / n), so every
/// block gets its share of the draws rounded down or up and the blocks' draws add up to n_draw
/// exactly.
std::int64_t bootstrap_block_draws(std::int64_t n, std::int64_t n_draw, std::int64_t block,
                                   std::int64_t block_rows = kBootstrapBlockRows);

/// How often each row is drawn for tree `tree`: with `bootstrap`, each block makes its share of
/// n_draw uniform draws with replacement among its own rows, draw k of block b being word
/// b·2^32 + k of the tree's stream under `seed` (block 0's draws are the unblocked bootstrap's);
/// without, every row once. Returns the counts of the `rows` rows from global row `first` (a
/// rank's share; all n by default), drawing only the blocks that overlap them, blocks in
/// parallel. block_rows: a test hook (kBootstrapBlockRows otherwise).
std::vector<std::int32_t> draw_counts(std::uint64_t seed, std::int64_t tree, std::int64_t n,
                                      std::int64_t n_draw, bool bootstrap, std::int64_t first = 0,
                                      std::int64_t rows = -1,
                                      std::int64_t block_rows = kBootstrapBlockRows);

}  // namespace tabula::forest

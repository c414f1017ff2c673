// Deterministic row blocking for sums over rows. The selected rows are cut into blocks whose
// size depends only on the number of columns, and consecutive blocks are grouped into slots
// whose number depends only on the problem size. Each slot is summed by one task, in block
// order, into its own accumulator, and the slots are reduced in slot order, so the result is
// the same bit for bit for any thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula::cpu {

/// Rows per block are chosen so a float64 tile of one block (rows x cols) is about this size:
/// it stays close to L1 while the Gram kernel reads it once per panel (measured: 64 KiB beat
/// 40, 52, 96, 128 and 256 KiB for 100 columns), and amortises each BLAS call.
inline constexpr std::int64_t kTileBytes = 64 * 1024;
inline constexpr std::int64_t kMinBlockRows = 32;
inline constexpr std::int64_t kMaxBlockRows = 4096;
/// At most this many accumulators, and at most this many bytes of them.
inline constexpr std::int64_t kMaxSlots = 64;
inline constexpr std::int64_t kSlotBudgetBytes = std::int64_t{64} << 20;

struct RowBlocks {
  std::int64_t selected = 0;    // rows selected
  std::int64_t block_rows = 0;  // rows per block (the last block may be shorter)
  std::int64_t blocks = 0;
  std::int64_t slots = 0;

  /// `slot_bytes`: the size of one accumulator.
  static RowBlocks plan(std::int64_t selected, std::int64_t cols, std::int64_t slot_bytes) {
    RowBlocks p;
    p.selected = selected;
    p.block_rows = std::clamp<std::int64_t>(kTileBytes / (8 * std::max<std::int64_t>(cols, 1)),
                                            kMinBlockRows, kMaxBlockRows);
    p.blocks = (selected + p.block_rows - 1) / p.block_rows;
    const std::int64_t by_memory = kSlotBudgetBytes / std::max<std::int64_t>(slot_bytes, 1);
    p.slots = std::max<std::int64_t>(1, std::min({p.blocks, kMaxSlots, by_memory}));
    return p;
  }
  /// Blocks [first_block(s), first_block(s + 1)) belong to slot s.
  std::int64_t first_block(std::int64_t slot) const { return slot * blocks / slots; }
  std::int64_t block_begin(std::int64_t block) const { return block * block_rows; }
  std::int64_t block_end(std::int64_t block) const {
    return std::min(selected, (block + 1) * block_rows);
  }
};

/// The selected rows of an n-row matrix and their optional weights; positions are checked
/// when read.
class RowSelection {
 public:
  RowSelection(VectorView<const double> weights, RowSubset rows, std::int64_t total_rows,
               const char* primitive)
      : weights_(weights.size > 0 ? weights.data : nullptr),
        indices_(rows.is_all() ? nullptr : rows.indices.data),
        selected_(rows.count(total_rows)),
        total_rows_(total_rows),
        primitive_(primitive) {}

  std::int64_t selected() const { return selected_; }
  bool all_rows() const { return indices_ == nullptr; }
  bool weighted() const { return weights_ != nullptr; }

  /// Row number of selected position `r`.
  std::int64_t row(std::int64_t r) const {
    if (indices_ == nullptr) return r;
    const std::int64_t i = indices_[r];
    if (i < 0 || i >= total_rows_)
      throw Error(std::string(primitive_) + ": row subset entry " + std::to_string(r) + " is " +
                  std::to_string(i) + ", outside [0, " + std::to_string(total_rows_) + ")");
    return i;
  }

  /// Weight of row `i` (1 when unweighted); throws InputError unless finite and >= 0.
  double weight(std::int64_t i) const {
    if (weights_ == nullptr) return 1.0;
    const double w = weights_[i];
    if (!(std::isfinite(w) && w >= 0.0))
      throw InputError(std::string(primitive_) + ": weight of row " + std::to_string(i) + " is " +
                       std::to_string(w) + "; weights must be finite and non-negative");
    return w;
  }

  /// Fills rows[r - begin] and weights[r - begin] for positions [begin, end).
  void fetch(std::int64_t begin, std::int64_t end, std::vector<std::int64_t>& rows,
             std::vector<double>& weights) const {
    rows.resize(static_cast<std::size_t>(end - begin));
    weights.resize(rows.size());
    for (std::int64_t r = begin; r < end; ++r) {
      const std::int64_t i = row(r);
      rows[static_cast<std::size_t>(r - begin)] = i;
      weights[static_cast<std::size_t>(r - begin)] = weight(i);
    }
  }

 private:
  const double* weights_;
  const std::int64_t* indices_;
  std::int64_t selected_;
  std::int64_t total_rows_;
  const char* primitive_;
};

}  // namespace tabula::cpu

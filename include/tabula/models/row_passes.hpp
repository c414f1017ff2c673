// Rows a model reads in passes instead of holding them: what lets mini-batch k-means fit a file
// larger than memory. A source gives the row count, a uniform sample of the rows (which fits in
// memory: seeding, the tolerance's scale) and any number of passes over every row in order,
// by blocks. The same rows from memory or streamed from a file give the same sample and the same
// blocks' rows, so a model fitted in passes does not depend on where its rows come from.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "tabula/core/matrix.hpp"

namespace tabula {

/// Consecutive rows of a pass: rows [first_row, first_row + x.rows) of the source.
struct RowBlock {
  MatrixView<const float> x;       // host, row-major
  std::span<const double> weight;  // empty (unit) or x.rows values
  std::int64_t first_row = 0;
};

class RowPasses {
 public:
  virtual ~RowPasses() = default;
  virtual std::int64_t rows() const = 0;
  virtual std::int64_t cols() const = 0;
  /// The sampled rows (ReservoirSample of rows() rows with the source's seed), in slot order:
  /// every row, in order, when there are at most its capacity. Host, row-major.
  virtual MatrixView<const float> sample() const = 0;
  /// Their weights: empty (unit) or sample().rows values.
  virtual std::span<const double> sample_weight() const = 0;
  /// Visits every row, in order, by blocks (of any sizes); stops early when `visit` returns
  /// false. Throws InputError for a row that cannot be read, naming it.
  virtual void pass(const std::function<bool(const RowBlock&)>& visit) = 0;
};

/// `x` as dense row-major rows (what RowBlock hands out): `x` itself when it is, otherwise a
/// copy made in `storage`, which must outlive the view.
MatrixView<const float> dense_rows(MatrixView<const float> x, std::vector<float>& storage);

/// A uniform sample of `capacity` rows of a stream of unknown length (Vitter's algorithm R,
/// one draw per row past the capacity): offer(i) for rows i = 0, 1, ... in order says the slot
/// row i takes (replacing the slot's earlier row), or nothing. The slots depend on the seed and
/// the row numbers only.
class ReservoirSample {
 public:
  /// The rows mini-batch k-means samples: enough for the seeding (3 x batch_size rows by
  /// default) and for the pipeline's statistics of a streamed file.
  static constexpr std::int64_t kDefaultCapacity = 65536;

  ReservoirSample(std::int64_t capacity, std::uint64_t seed) : capacity_(capacity), rng_(seed) {}

  std::optional<std::int64_t> offer(std::int64_t row) {
    if (row < capacity_) return row;
    const auto j = static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(row + 1));
    if (j < capacity_) return j;
    return std::nullopt;
  }

  /// The rows held after offering rows [0, n): slot s's row at [s].
  static std::vector<std::int64_t> rows_of(std::int64_t n, std::int64_t capacity,
                                           std::uint64_t seed) {
    ReservoirSample sample(capacity, seed);
    std::vector<std::int64_t> slots(static_cast<std::size_t>(std::min(n, capacity)));
    for (std::int64_t i = 0; i < n; ++i)
      if (const auto slot = sample.offer(i)) slots[static_cast<std::size_t>(*slot)] = i;
    return slots;
  }

 private:
  std::int64_t capacity_;
  std::mt19937_64 rng_;
};

/// The rows of a matrix in memory as passes: the sample gathered once, one block per pass.
class MatrixRowPasses final : public RowPasses {
 public:
  MatrixRowPasses(MatrixView<const float> x, std::span<const double> weight,
                  std::uint64_t sample_seed,
                  std::int64_t sample_capacity = ReservoirSample::kDefaultCapacity);
  std::int64_t rows() const override { return x_.rows; }
  std::int64_t cols() const override { return x_.cols; }
  MatrixView<const float> sample() const override;
  std::span<const double> sample_weight() const override { return sample_weight_; }
  void pass(const std::function<bool(const RowBlock&)>& visit) override;

 private:
  std::vector<float> row_major_;  // a copy of input that is not dense row-major (before x_)
  MatrixView<const float> x_;
  std::span<const double> weight_;
  std::vector<float> sample_;
  std::vector<double> sample_weight_;
};

}  // namespace tabula

// The rows of a data-parallel fit as one process's passes (RowPasses): each rank holds its
// share of the rows, in rank order, and every rank is handed every row in order, each block
// gathered from the ranks that hold its rows. A model that fits in passes (mini-batch k-means)
// then runs the same steps on every rank and ends with the one-process model. It spreads the
// reading of the file over the ranks, not the steps: each pass moves every row to every rank.
#pragma once

#include <cstdint>
#include <vector>

#include "tabula/models/row_passes.hpp"

namespace tabula {
class Communicator;
}

namespace tabula::distributed {

class GatheredRowPasses final : public RowPasses {
 public:
  /// `share`: this rank's rows (host); `weight`: empty (unit, on every rank) or theirs. The
  /// sample is ReservoirSample's over the global row numbers with `sample_seed`, gathered.
  GatheredRowPasses(MatrixView<const float> share, std::span<const double> weight,
                    Communicator& comm, std::uint64_t sample_seed,
                    std::int64_t sample_capacity = ReservoirSample::kDefaultCapacity);
  std::int64_t rows() const override { return total_; }
  std::int64_t cols() const override { return share_.cols; }
  MatrixView<const float> sample() const override;
  std::span<const double> sample_weight() const override { return sample_weight_; }
  /// Blocks of kBlockRows global rows; every rank must make the same calls (the visits return
  /// the same answers on every rank, since every rank sees the same rows).
  void pass(const std::function<bool(const RowBlock&)>& visit) override;
  /// The global number of this rank's first row.
  std::int64_t offset() const { return offset_; }

  static constexpr std::int64_t kBlockRows = 65536;

 private:
  std::vector<float> row_major_;   // a copy of input that is not dense row-major (before share_)
  MatrixView<const float> share_;  // row-major
  std::span<const double> weight_;
  Communicator& comm_;
  std::int64_t offset_ = 0, total_ = 0;
  bool weighted_ = false;
  std::vector<float> sample_;
  std::vector<double> sample_weight_;
};

}  // namespace tabula::distributed

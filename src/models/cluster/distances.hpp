// Squared Euclidean distances from rows to centres through the backend's GEMM:
// ‖x - c‖² = ‖x‖² - 2 x·c + ‖c‖², with x·c from one float32 GEMM per block of rows and the
// norms in float64. The rows are shifted by a fixed vector (the data's column means in a fit)
// before the product, as scikit-learn centres the data, so that the cancellation in the
// expansion stays small for data far from the origin. Shared by seeding, Lloyd iterations,
// predict and transform.
//
// On a backend that computes in host memory nothing is copied up front: each thread shifts a
// tile of rows (a few hundred, in L2) into its own buffer, multiplies it by every centre and
// takes the arg-min there, so neither a shifted copy of the data nor the n x k products are
// ever stored (for_each_nearest). On a device the shifted rows are made resident once and the
// products come back per block.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula::cluster {

/// Rows (host, n x d float32) made resident on a backend as x - shift, with their squared
/// norms. Keeps a view of the original rows for the exact float64 work (centre sums, inertia).
class Points {
 public:
  /// `shift` has d values. It is dropped (the products read the rows in place, without a
  /// shifted copy) when its squared norm is at most 1% of `spread`, the data's total variance
  /// (Σ of the columns' variances): the products' rounding then grows by at most about 1%.
  Points(Backend& backend, MatrixView<const float> x, std::span<const double> shift, double spread);
  Points(const Points&) = delete;
  Points& operator=(const Points&) = delete;

  Backend& backend() const { return *backend_; }
  std::int64_t rows() const { return x_.rows; }
  std::int64_t cols() const { return x_.cols; }
  /// The original rows (host, row-major).
  MatrixView<const float> host() const { return x_; }

  /// Calls fn(begin, end, d2) for consecutive blocks of rows, where d2 holds the (end - begin)
  /// x k squared distances (row-major, float64, never negative; NaN for a row with a missing
  /// value) from those rows to the
  /// `centres` (k x d, host, row-major, in the original space). Blocks arrive in row order on
  /// the calling thread; their size depends on n and k only.
  void for_each_block(std::span<const double> centres, std::int64_t k,
                      const std::function<void(std::int64_t begin, std::int64_t end,
                                               std::span<const double> d2)>& fn) const;

  /// The nearest of the `centres` (k x d, as for_each_block) to each row: the arg-min of
  /// ‖c‖² - 2 x·c in float32 (‖x‖² is the same for every centre), the lower index on a tie; -1
  /// for a row with a missing value. Fused with the products, without the n x k distances.
  std::vector<std::int32_t> nearest(std::span<const double> centres, std::int64_t k) const;

  /// The nearest centre of every row (as `nearest`), visited by blocks of `block_rows` rows:
  /// fn(block, begin, end, labels) with labels[i - begin] the nearest centre of row i. Blocks
  /// run in parallel; one block's calls come in row order from one thread, in pieces [begin,
  /// end) of the block (on a host backend, right after the rows' products, while the rows are
  /// in cache). Callers reduce per-block results in block order for thread-count-free sums.
  void for_each_nearest(
      std::span<const double> centres, std::int64_t k, std::int64_t block_rows,
      const std::function<void(std::int64_t block, std::int64_t begin, std::int64_t end,
                               const std::int32_t* labels)>& fn) const;

  /// For the listed rows (host backends): the nearest of the `centres` (k x d) in labels[r],
  /// its squared distance in first[r] and the second nearest's in second[r] (float64 from the
  /// float32 products, never negative; +inf when k == 1). Rows gathered in tiles, in parallel.
  void nearest_two(std::span<const double> centres, std::int64_t k,
                   std::span<const std::int64_t> rows, std::int32_t* labels, double* first,
                   double* second) const;

 private:
  struct Centres;
  /// Calls fn(begin, end, dots, row_norms, shifted) for consecutive blocks of rows: dots holds
  /// (end - begin) x k float32 values -2 x·c (shifted, row-major), row_norms the block's
  /// squared shifted row norms (float64; NaN for a missing value), shifted the float32-rounded
  /// shifted centres and their squared norms. Blocks in row order on the calling thread.
  void for_each_product(
      std::span<const double> centres, std::int64_t k,
      const std::function<void(std::int64_t begin, std::int64_t end, const float* dots,
                               const double* row_norms, const Centres& shifted)>& fn) const;
  /// Rows [begin, begin + rows) shifted into `out` (rows x d, float32), their squared norms in
  /// float64 into `norms` unless it is null.
  void shift_rows(std::int64_t begin, std::int64_t rows, float* out, double* norms) const;

  Backend* backend_;
  MatrixView<const float> x_;     // row-major
  std::vector<float> row_major_;  // a copy of column-major input
  std::vector<double> shift_;     // float32 values
  std::vector<float> shift_f_;
  bool unshifted_ = false;  // the shift was dropped: host products read the rows in place
  // Device backends only: the shifted rows, resident, and their norms.
  std::vector<float> shifted_host_;
  std::unique_ptr<ResidentMatrix<float>> shifted_;
  std::vector<double> sq_norms_;
};

/// Σ_{i<n} term(i) in float64, summed in fixed blocks of rows reduced in block order, so the
/// result does not depend on the thread count. term is called from several threads.
double ordered_sum(std::int64_t n, const std::function<double(std::int64_t)>& term);

/// Exact float64 ‖x_i - c‖² (host loop), for the few places that need more than GEMM precision.
double exact_sq_distance(MatrixView<const float> x, std::int64_t row, const double* centre);

}  // namespace tabula::cluster

// Squared Euclidean distances from rows to centres through the backend's GEMM:
// ‖x - c‖² = ‖x‖² - 2 x·c + ‖c‖², with x·c from one float32 GEMM per block of rows and the
// norms in float64. The rows are shifted by a fixed vector (the data's column means in a fit)
// before the product, as scikit-learn centres the data, so that the cancellation in the
// expansion stays small for data far from the origin. Shared by seeding, Lloyd iterations,
// predict and transform.
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
  /// `shift` has d values.
  Points(Backend& backend, MatrixView<const float> x, std::span<const double> shift);
  Points(const Points&) = delete;
  Points& operator=(const Points&) = delete;

  Backend& backend() const { return *backend_; }
  std::int64_t rows() const { return x_.rows; }
  std::int64_t cols() const { return x_.cols; }
  /// The original rows (host).
  MatrixView<const float> host() const { return x_; }
  /// The shift the distances are computed in (d values).
  const std::vector<double>& shift() const { return shift_; }

  /// Calls fn(begin, end, d2) for consecutive blocks of rows, where d2 holds the (end - begin)
  /// x k squared distances (row-major, float64, never negative; NaN for a row with a missing
  /// value) from those rows to the
  /// `centres` (k x d, host, row-major, in the original space). Blocks arrive in row order on
  /// the calling thread; their size depends on n and k only.
  void for_each_block(std::span<const double> centres, std::int64_t k,
                      const std::function<void(std::int64_t begin, std::int64_t end,
                                               std::span<const double> d2)>& fn) const;

  /// The nearest of the `centres` (k x d, as for_each_block) to each row: the arg-min of
  /// ‖c‖² - 2 x·c (‖x‖² is the same for every centre), the lower index on a tie; -1 for a row
  /// with a missing value. Fused with the products, without the n x k distances.
  std::vector<std::int32_t> nearest(std::span<const double> centres, std::int64_t k) const;

 private:
  /// Calls fn(begin, end, dots, c_norms) for consecutive blocks of rows: dots holds
  /// (end - begin) x k float32 values -2 x·c (shifted), c_norms the k squared norms of the
  /// shifted, float32-rounded centres. Blocks in row order on the calling thread.
  void for_each_product(
      std::span<const double> centres, std::int64_t k,
      const std::function<void(std::int64_t begin, std::int64_t end, const float* dots,
                               const std::vector<double>& c_norms)>& fn) const;

  Backend* backend_;
  MatrixView<const float> x_;
  std::vector<double> shift_;
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

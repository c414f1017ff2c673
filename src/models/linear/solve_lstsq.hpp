// (Weighted, ridge-penalised) least squares from sufficient statistics, shared by
// LinearRegression and Ridge: one pass over the data on the backend for the means, XᵀWX and
// XᵀWY (float64 accumulation), then a d x d solve.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula {
class Communicator;
}

namespace tabula::models {

struct LeastSquaresFit {
  std::vector<double> coef;       // k x d, row-major (one row per target)
  std::vector<double> intercept;  // k (zeros without an intercept)
  std::int64_t rank = 0;          // numerical rank of the (centred, penalised) system
  bool used_eigen = false;        // true when the minimum-norm fallback solved it
};

/// Minimises Σ_i w_i ||y_i - W x_i - b||² + alpha ||W||² (b is not penalised) for x (n x d,
/// host, row-major float32), y (n x k, host, row-major float64) and weights (empty = unit,
/// else n non-negative values with a positive sum). The data is uploaded to `backend` once.
/// Throws InputError for missing features, non-finite targets, bad weights, no rows.
/// `comm` (null: one process): each rank holds its own rows; the statistics are summed and the
/// moments merged over the ranks, and every rank solves the same system.
LeastSquaresFit fit_least_squares(Backend& backend, MatrixView<const float> x,
                                  MatrixView<const double> y, std::span<const double> weights,
                                  double alpha, bool fit_intercept, std::string_view model,
                                  Communicator* comm = nullptr);

/// Throws InputError naming the model and the first feature column holding NaN or infinity, and
/// its row (counted from first_row, the first row of x in a larger table).
void check_finite_features(MatrixView<const float> x, std::string_view model,
                           std::int64_t first_row = 0);
/// Throws InputError unless weights is empty or holds n finite, non-negative values with a
/// positive sum; returns the sum (n for unit weights).
double check_sample_weights(std::span<const double> weights, std::int64_t n,
                            std::string_view model);

}  // namespace tabula::models

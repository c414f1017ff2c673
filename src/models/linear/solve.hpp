// Dense symmetric solves for the linear family, on the backend: Cholesky first, and the
// eigendecomposition pseudo-inverse (minimum-norm solution) when Cholesky fails or the system is
// numerically rank-deficient.
#pragma once

#include <cstdint>
#include <vector>

#include "tabula/backend/backend.hpp"

namespace tabula::models {

struct SymmetricSolveInfo {
  bool used_eigen = false;  // true when the pseudo-inverse fallback was taken
  std::int64_t rank = 0;    // numerical rank of A (n when Cholesky succeeded)
};

/// Solves A X = B for symmetric positive semi-definite A (n x n, host, column-major) and B
/// (n x k, host, column-major; overwritten by X). The work runs on `backend` (A and B are
/// uploaded, the factorisation or eigendecomposition happens there). When A is not numerically
/// positive definite (Cholesky fails, or a pivot falls below n * eps * max|A_ii| scaled by
/// kPivotSafety), X = V diag(1/λ) Vᵀ B over the eigenvalues λ > max(λ) * n * eps, the
/// minimum-norm least-squares solution, as LAPACK's gelsd gives it.
SymmetricSolveInfo solve_symmetric(Backend& backend, const std::vector<double>& a,
                                   std::vector<double>& b, std::int64_t n, std::int64_t k);

/// Eigendecomposition of symmetric A (n x n, host, column-major) on `backend`: eigenvalues in
/// descending order, eigenvectors as the columns of `vectors` (n x n, column-major), matching.
void symmetric_eigen_descending(Backend& backend, const std::vector<double>& a, std::int64_t n,
                                std::vector<double>& values, std::vector<double>& vectors);

}  // namespace tabula::models

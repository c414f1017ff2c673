// Leading eigenpairs of a symmetric positive semi-definite matrix by randomized subspace
// iteration (Halko, Martinsson & Tropp 2011, algorithm 4.4): the products run on the backend,
// so a d x d covariance costs O(d² l) per iteration instead of the O(d³) of a full
// eigendecomposition. PCA uses it when features are many and few components are wanted.
#pragma once

#include <cstdint>
#include <vector>

#include "tabula/backend/backend.hpp"

namespace tabula::models {

/// The k largest eigenvalues (descending) and their eigenvectors (n x k, column-major, signs
/// arbitrary) of symmetric PSD A (n x n, host, column-major). Uses l = min(n, k + oversamples)
/// seeded Gaussian probe vectors and `iterations` power iterations with re-orthonormalisation.
/// Falls back to the full eigendecomposition when l == n.
void top_eigen_randomized(Backend& backend, const std::vector<double>& a, std::int64_t n,
                          std::int64_t k, std::int64_t oversamples, int iterations,
                          std::uint64_t seed, std::vector<double>& values,
                          std::vector<double>& vectors);

}  // namespace tabula::models

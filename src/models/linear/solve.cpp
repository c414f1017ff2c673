#include "models/linear/solve.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"

namespace tabula::models {
namespace {

// Cholesky pivots this close to the rounding level of A mean the system is rank-deficient in
// float64 arithmetic; the solution would be dominated by noise, so take the eigen route.
constexpr double kPivotSafety = 16.0;

}  // namespace

void symmetric_eigen_descending(Backend& backend, const std::vector<double>& a, std::int64_t n,
                                std::vector<double>& values, std::vector<double>& vectors) {
  TABULA_ASSERT(static_cast<std::int64_t>(a.size()) == n * n, "symmetric_eigen: A is not n x n");
  Buffer<double> a_dev = Buffer<double>::from_host(backend, a);
  Buffer<double> values_dev(backend, n);
  backend.linalg().symmetric_eigen(a_dev.matrix(n, n, Layout::kColMajor), values_dev.view());
  std::vector<double> ascending = values_dev.to_host();
  std::vector<double> vectors_asc = a_dev.to_host();
  values.assign(static_cast<std::size_t>(n), 0.0);
  vectors.assign(static_cast<std::size_t>(n * n), 0.0);
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t src = n - 1 - j;
    values[j] = ascending[src];
    std::copy_n(vectors_asc.begin() + src * n, n, vectors.begin() + j * n);
  }
}

SymmetricSolveInfo solve_symmetric(Backend& backend, const std::vector<double>& a,
                                   std::vector<double>& b, std::int64_t n, std::int64_t k) {
  TABULA_ASSERT(static_cast<std::int64_t>(a.size()) == n * n, "solve_symmetric: A is not n x n");
  TABULA_ASSERT(static_cast<std::int64_t>(b.size()) == n * k, "solve_symmetric: B is not n x k");
  SymmetricSolveInfo info;
  if (n == 0) return info;
  const double eps = std::numeric_limits<double>::epsilon();
  double max_diag = 0.0;
  for (std::int64_t i = 0; i < n; ++i) max_diag = std::max(max_diag, std::abs(a[i * n + i]));

  if (max_diag > 0.0) {
    Buffer<double> a_dev = Buffer<double>::from_host(backend, a);
    Buffer<double> b_dev = Buffer<double>::from_host(backend, b);
    if (backend.linalg().cholesky_solve(a_dev.matrix(n, n, Layout::kColMajor),
                                        b_dev.matrix(n, k, Layout::kColMajor))) {
      std::vector<double> factor = a_dev.to_host();
      double min_pivot = std::numeric_limits<double>::infinity();
      for (std::int64_t i = 0; i < n; ++i) {
        const double pivot = factor[i * n + i];
        min_pivot = std::min(min_pivot, pivot * pivot);
      }
      if (min_pivot > kPivotSafety * static_cast<double>(n) * eps * max_diag) {
        b = b_dev.to_host();
        info.rank = n;
        return info;
      }
    }
  }

  // Minimum-norm solution through the pseudo-inverse.
  info.used_eigen = true;
  std::vector<double> values, vectors;
  symmetric_eigen_descending(backend, a, n, values, vectors);
  const double cutoff = std::max(values[0], 0.0) * static_cast<double>(n) * eps;
  std::vector<double> x(static_cast<std::size_t>(n * k), 0.0);
  std::vector<double> projection(static_cast<std::size_t>(k));
  for (std::int64_t j = 0; j < n; ++j) {
    if (!(values[j] > cutoff)) continue;
    ++info.rank;
    const double* v = vectors.data() + j * n;
    for (std::int64_t t = 0; t < k; ++t) {
      double dot = 0.0;
      for (std::int64_t i = 0; i < n; ++i) dot += v[i] * b[t * n + i];
      projection[t] = dot / values[j];
    }
    for (std::int64_t t = 0; t < k; ++t)
      for (std::int64_t i = 0; i < n; ++i) x[t * n + i] += v[i] * projection[t];
  }
  b = std::move(x);
  return info;
}

}  // namespace tabula::models

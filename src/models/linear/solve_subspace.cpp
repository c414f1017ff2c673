#include "models/linear/solve_subspace.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "models/linear/solve.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"

namespace tabula::models {
namespace {

// Standard normal values by Box–Muller on the raw 64-bit generator, so the probe matrix is the
// same with every standard library (std::normal_distribution is implementation-defined).
std::vector<double> gaussian(std::int64_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };
  std::vector<double> out(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 2.0 * std::numbers::pi * uniform();
    out[i] = r * std::cos(angle);
    if (i + 1 < count) out[i + 1] = r * std::sin(angle);
  }
  return out;
}

// Modified Gram–Schmidt, twice (enough for orthogonality to rounding level), on the columns of
// q (n x l, column-major). A column that vanishes is replaced by zeros.
void orthonormalize(std::vector<double>& q, std::int64_t n, std::int64_t l) {
  for (int pass = 0; pass < 2; ++pass) {
    for (std::int64_t j = 0; j < l; ++j) {
      double* v = q.data() + j * n;
      for (std::int64_t i = 0; i < j; ++i) {
        const double* u = q.data() + i * n;
        double dot = 0.0;
        for (std::int64_t r = 0; r < n; ++r) dot += u[r] * v[r];
        for (std::int64_t r = 0; r < n; ++r) v[r] -= dot * u[r];
      }
      double norm = 0.0;
      for (std::int64_t r = 0; r < n; ++r) norm += v[r] * v[r];
      norm = std::sqrt(norm);
      const double inv = norm > 0.0 ? 1.0 / norm : 0.0;
      for (std::int64_t r = 0; r < n; ++r) v[r] *= inv;
    }
  }
}

}  // namespace

void top_eigen_randomized(Backend& backend, const std::vector<double>& a, std::int64_t n,
                          std::int64_t k, std::int64_t oversamples, int iterations,
                          std::uint64_t seed, std::vector<double>& values,
                          std::vector<double>& vectors) {
  TABULA_ASSERT(k >= 1 && k <= n, "top_eigen_randomized: k out of range");
  const std::int64_t l = std::min(n, k + oversamples);
  if (l == n) {
    symmetric_eigen_descending(backend, a, n, values, vectors);
    values.resize(static_cast<std::size_t>(k));
    vectors.resize(static_cast<std::size_t>(n * k));
    return;
  }
  Buffer<double> a_dev = Buffer<double>::from_host(backend, a);
  const MatrixView<const double> av = std::as_const(a_dev).matrix(n, n, Layout::kColMajor);
  Buffer<double> q_dev(backend, n * l), y_dev(backend, n * l);
  auto multiply = [&](const std::vector<double>& q) {  // A q on the backend
    q_dev.copy_from_host(q);
    backend.linalg().gemm(Op::kNone, Op::kNone, 1.0, av,
                          std::as_const(q_dev).matrix(n, l, Layout::kColMajor), 0.0,
                          y_dev.matrix(n, l, Layout::kColMajor));
    return y_dev.to_host();
  };
  std::vector<double> q = gaussian(n * l, seed);
  for (int it = 0; it < iterations; ++it) {
    q = multiply(q);
    orthonormalize(q, n, l);
  }
  // Rayleigh–Ritz: B = Qᵀ A Q (l x l), then A ≈ (Q U) diag(λ) (Q U)ᵀ.
  const std::vector<double> aq = multiply(q);
  std::vector<double> b(static_cast<std::size_t>(l * l));
  for (std::int64_t j = 0; j < l; ++j)
    for (std::int64_t i = 0; i < l; ++i) {
      double dot = 0.0;
      for (std::int64_t r = 0; r < n; ++r) dot += q[i * n + r] * aq[j * n + r];
      b[j * l + i] = dot;
    }
  for (std::int64_t j = 0; j < l; ++j)  // exact symmetry for the eigensolver
    for (std::int64_t i = j + 1; i < l; ++i)
      b[j * l + i] = b[i * l + j] = 0.5 * (b[j * l + i] + b[i * l + j]);
  std::vector<double> small_values, small_vectors;
  symmetric_eigen_descending(backend, b, l, small_values, small_vectors);
  values.assign(small_values.begin(), small_values.begin() + k);
  vectors.assign(static_cast<std::size_t>(n * k), 0.0);
  for (std::int64_t c = 0; c < k; ++c)
    for (std::int64_t j = 0; j < l; ++j) {
      const double u = small_vectors[c * l + j];
      for (std::int64_t r = 0; r < n; ++r) vectors[c * n + r] += q[j * n + r] * u;
    }
}

}  // namespace tabula::models

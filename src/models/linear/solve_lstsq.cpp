#include "models/linear/solve_lstsq.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "distributed/reduce.hpp"
#include "models/linear/solve.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::models {

void check_finite_features(MatrixView<const float> x, std::string_view model,
                           std::int64_t first_row) {
  // A full pass over the data: run it on the pool, each block recording its first bad cell,
  // and report the first one in row order whatever the thread count.
  constexpr std::int64_t kBlockRows = 16384;
  const std::int64_t blocks = (x.rows + kBlockRows - 1) / kBlockRows;
  std::vector<std::int64_t> first_bad(static_cast<std::size_t>(blocks), -1);
  parallel_for(blocks, [&](std::int64_t block) {
    const std::int64_t end = std::min(x.rows, (block + 1) * kBlockRows);
    for (std::int64_t i = block * kBlockRows; i < end; ++i) {
      bool finite = true;
      for (std::int64_t j = 0; j < x.cols; ++j) finite &= std::isfinite(x(i, j));
      if (finite) continue;
      first_bad[static_cast<std::size_t>(block)] = i;
      return;
    }
  });
  for (std::int64_t i : first_bad) {
    if (i < 0) continue;
    std::int64_t j = 0;
    while (std::isfinite(x(i, j))) ++j;
    throw InputError("model '" + std::string(model) + "': feature column " + std::to_string(j + 1) +
                     " has a missing or infinite value (row " + std::to_string(first_row + i + 1) +
                     "); impute it first (this model does not accept missing values)");
  }
}

double check_sample_weights(std::span<const double> weights, std::int64_t n,
                            std::string_view model) {
  if (weights.empty()) return static_cast<double>(n);
  if (static_cast<std::int64_t>(weights.size()) != n)
    throw InputError("model '" + std::string(model) + "': sample_weight has " +
                     std::to_string(weights.size()) + " values for " + std::to_string(n) + " rows");
  double sum = 0.0;
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0.0)
      throw InputError("model '" + std::string(model) +
                       "': sample_weight values must be finite and non-negative");
    sum += w;
  }
  if (!(sum > 0.0))
    throw InputError("model '" + std::string(model) + "': sample_weight sums to zero");
  return sum;
}

LeastSquaresFit fit_least_squares(Backend& backend, MatrixView<const float> x,
                                  MatrixView<const double> y, std::span<const double> weights,
                                  double alpha, bool fit_intercept, std::string_view model,
                                  Communicator* comm) {
  const std::int64_t n = x.rows, d = x.cols, k = y.cols;
  if (n == 0) throw InputError("model '" + std::string(model) + "': no training rows");
  if (y.rows != n)
    throw Error("fit_least_squares: x has " + std::to_string(n) + " rows, y " +
                std::to_string(y.rows));
  check_finite_features(x, model);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < k; ++t)
      if (!std::isfinite(y(i, t)))
        throw InputError("model '" + std::string(model) + "': the target has a missing or " +
                         "infinite value (row " + std::to_string(i + 1) + ")");
  double weight_sum = check_sample_weights(weights, n, model);

  // The data goes to the device once; everything after works on d x d statistics.
  const ResidentMatrix<float> x_dev(backend, x);
  std::vector<double> y_dense(static_cast<std::size_t>(n * k));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < k; ++t) y_dense[i * k + t] = y(i, t);
  Buffer<double> y_dev = Buffer<double>::from_host(backend, y_dense);
  Buffer<double> w_dev = Buffer<double>::from_host(backend, weights);
  const MatrixView<const float> xv = x_dev.view();
  const MatrixView<const double> yv = std::as_const(y_dev).matrix(n, k, Layout::kRowMajor);
  const VectorView<const double> wv = std::as_const(w_dev).view();

  Buffer<double> gram_dev(backend, d * d), cross_dev(backend, d * k);
  backend.linalg().gram(xv, wv, RowSubset::all(), gram_dev.matrix(d, d, Layout::kColMajor));
  backend.linalg().cross_product(xv, yv, wv, RowSubset::all(),
                                 cross_dev.matrix(d, k, Layout::kColMajor));
  std::vector<double> x_mean(static_cast<std::size_t>(d), 0.0),
      y_mean(static_cast<std::size_t>(k), 0.0);
  std::vector<double> x_var;
  if (fit_intercept) {
    Buffer<double> mean_dev(backend, d), var_dev(backend, d);
    backend.linalg().column_moments(xv, wv, RowSubset::all(), mean_dev.view(), var_dev.view());
    Buffer<double> ymean_dev(backend, k), yvar_dev(backend, k);
    backend.linalg().column_moments(yv, wv, RowSubset::all(), ymean_dev.view(), yvar_dev.view());
    x_mean = mean_dev.to_host();
    x_var = var_dev.to_host();
    y_mean = ymean_dev.to_host();
    std::vector<double> y_var = yvar_dev.to_host();
    double y_weight_sum = weight_sum;
    distributed::merge_moments(comm, y_weight_sum, y_mean, y_var);
    distributed::merge_moments(comm, weight_sum, x_mean, x_var);
  }
  std::vector<double> a = gram_dev.to_host();
  std::vector<double> b = cross_dev.to_host();
  distributed::sum_over_ranks(comm, a);
  distributed::sum_over_ranks(comm, b);
  if (fit_intercept) {
    // Centring by subtraction; the diagonal comes from the two-pass variances, which do not
    // cancel when the means are large.
    for (std::int64_t j = 0; j < d; ++j) {
      for (std::int64_t i = 0; i < d; ++i)
        a[j * d + i] =
            i == j ? weight_sum * x_var[i] : a[j * d + i] - weight_sum * x_mean[i] * x_mean[j];
      for (std::int64_t t = 0; t < k; ++t) b[t * d + j] -= weight_sum * x_mean[j] * y_mean[t];
    }
  }
  for (std::int64_t j = 0; j < d; ++j) a[j * d + j] += alpha;

  SymmetricSolveInfo info = solve_symmetric(backend, a, b, d, k);
  LeastSquaresFit fit;
  fit.rank = info.rank;
  fit.used_eigen = info.used_eigen;
  fit.coef.assign(static_cast<std::size_t>(k * d), 0.0);
  fit.intercept.assign(static_cast<std::size_t>(k), 0.0);
  for (std::int64_t t = 0; t < k; ++t) {
    double offset = y_mean[t];
    for (std::int64_t j = 0; j < d; ++j) {
      fit.coef[t * d + j] = b[t * d + j];
      offset -= x_mean[j] * b[t * d + j];
    }
    if (fit_intercept) fit.intercept[t] = offset;
  }
  return fit;
}

}  // namespace tabula::models

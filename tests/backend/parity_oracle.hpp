// The oracle of the parity suite: plain float64 loops on the host, written for clarity and
// sharing no code with any backend. Each result carries, per element, the sum of the absolute
// values of its terms: a rounding-error bound scales with it, which makes relative
// tolerances meaningful even when terms cancel.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "parity_data.hpp"
#include "tabula/backend/backend.hpp"

namespace tabula::testing {

struct Reference {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<double> value;      // row-major
  std::vector<double> magnitude;  // sum of |terms| per element

  static Reference zeros(std::int64_t rows, std::int64_t cols) {
    const auto size = static_cast<std::size_t>(rows * cols);
    return {rows, cols, std::vector<double>(size, 0.0), std::vector<double>(size, 0.0)};
  }
  void add(std::int64_t i, std::int64_t j, double term) {
    value[i * cols + j] += term;
    magnitude[i * cols + j] += std::fabs(term);
  }
};

/// Selected rows: `subset` if given, else 0..n-1. Weight 1 when `weights` is empty.
inline std::vector<std::int64_t> selected_rows(std::int64_t n,
                                               const std::vector<std::int64_t>& subset) {
  if (!subset.empty()) return subset;
  std::vector<std::int64_t> all(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) all[i] = i;
  return all;
}
inline double weight_of(const std::vector<double>& weights, std::int64_t i) {
  return weights.empty() ? 1.0 : weights[i];
}

template <typename T>
Reference gram_reference(const HostMatrix<T>& x, const std::vector<double>& weights,
                         const std::vector<std::int64_t>& subset) {
  Reference ref = Reference::zeros(x.cols, x.cols);
  for (std::int64_t i : selected_rows(x.rows, subset))
    for (std::int64_t a = 0; a < x.cols; ++a)
      for (std::int64_t b = 0; b < x.cols; ++b)
        ref.add(a, b, weight_of(weights, i) * double(x(i, a)) * double(x(i, b)));
  return ref;
}

template <typename T>
Reference cross_reference(const HostMatrix<T>& x, const HostMatrix<double>& y,
                          const std::vector<double>& weights,
                          const std::vector<std::int64_t>& subset) {
  Reference ref = Reference::zeros(x.cols, y.cols);
  for (std::int64_t i : selected_rows(x.rows, subset))
    for (std::int64_t a = 0; a < x.cols; ++a)
      for (std::int64_t b = 0; b < y.cols; ++b)
        ref.add(a, b, weight_of(weights, i) * double(x(i, a)) * y(i, b));
  return ref;
}

struct MomentsReference {
  std::vector<double> mean, variance;
  std::vector<double> mean_scale;      // sum w |x| / sum w
  std::vector<double> variance_scale;  // sum w x² / sum w
};

template <typename T>
MomentsReference moments_reference(const HostMatrix<T>& x, const std::vector<double>& weights,
                                   const std::vector<std::int64_t>& subset) {
  const auto d = static_cast<std::size_t>(x.cols);
  MomentsReference ref{std::vector<double>(d, 0.0), std::vector<double>(d, 0.0),
                       std::vector<double>(d, 0.0), std::vector<double>(d, 0.0)};
  const std::vector<std::int64_t> rows = selected_rows(x.rows, subset);
  double total = 0.0;
  for (std::int64_t i : rows) total += weight_of(weights, i);
  for (std::size_t j = 0; j < d; ++j) {
    double sum = 0.0;
    for (std::int64_t i : rows) {
      const double w = weight_of(weights, i), v = double(x(i, j));
      sum += w * v;
      ref.mean_scale[j] += w * std::fabs(v) / total;
      ref.variance_scale[j] += w * v * v / total;
    }
    ref.mean[j] = sum / total;
    double squares = 0.0;
    for (std::int64_t i : rows) {
      const double dev = double(x(i, j)) - ref.mean[j];
      squares += weight_of(weights, i) * dev * dev;
    }
    ref.variance[j] = squares / total;
  }
  return ref;
}

/// alpha op(a) op(b) + beta c; c is ignored when beta == 0 (it may hold NaN).
template <typename T>
Reference gemm_reference(Op op_a, Op op_b, double alpha, const HostMatrix<T>& a,
                         const HostMatrix<T>& b, double beta, const HostMatrix<T>& c) {
  Reference ref = Reference::zeros(c.rows, c.cols);
  const std::int64_t k = op_a == Op::kNone ? a.cols : a.rows;
  for (std::int64_t i = 0; i < c.rows; ++i)
    for (std::int64_t j = 0; j < c.cols; ++j) {
      for (std::int64_t p = 0; p < k; ++p) {
        const double av = op_a == Op::kNone ? a(i, p) : a(p, i);
        const double bv = op_b == Op::kNone ? b(p, j) : b(j, p);
        ref.add(i, j, alpha * av * bv);
      }
      if (beta != 0.0) ref.add(i, j, beta * double(c(i, j)));
    }
  return ref;
}

/// |got - value| <= rel * magnitude for every element (and exact where magnitude is 0).
template <typename T>
::testing::AssertionResult matches(const HostMatrix<T>& got, const Reference& ref, double rel) {
  if (got.rows != ref.rows || got.cols != ref.cols)
    return ::testing::AssertionFailure() << "shape " << got.rows << "x" << got.cols << ", expected "
                                         << ref.rows << "x" << ref.cols;
  int bad = 0;
  std::ostringstream message;
  for (std::int64_t i = 0; i < ref.rows; ++i)
    for (std::int64_t j = 0; j < ref.cols; ++j) {
      const double g = double(got(i, j));
      const double want = ref.value[i * ref.cols + j];
      const double bound = rel * ref.magnitude[i * ref.cols + j];
      if (!(std::fabs(g - want) <= bound) && bad++ < 5)
        message << " (" << i << "," << j << "): got " << g << " expected " << want << " bound "
                << bound << ";";
    }
  if (bad > 0) return ::testing::AssertionFailure() << bad << " element(s) off:" << message.str();
  if (!got.padding_untouched())
    return ::testing::AssertionFailure() << "wrote into the padding outside the view";
  return ::testing::AssertionSuccess();
}

}  // namespace tabula::testing

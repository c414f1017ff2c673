// Regression metrics, computed in NumPy's summation order so they match scikit-learn's bits.
#include <cmath>
#include <limits>
#include <vector>

#include "metrics/checks.hpp"
#include "metrics/pairwise_sum.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {
namespace {

/// sklearn's force_finite rule for r2 and explained variance.
double explained_fraction(double numerator, double denominator) {
  if (denominator != 0.0) return numerator != 0.0 ? 1.0 - numerator / denominator : 1.0;
  return numerator != 0.0 ? 0.0 : 1.0;
}

}  // namespace

double mean_squared_error(std::span<const double> y_true, std::span<const double> y_pred) {
  detail::check_pair("mean_squared_error", y_true, y_pred, "y_pred");
  std::vector<double> sq(y_true.size());
  for (std::size_t i = 0; i < sq.size(); ++i) {
    const double d = y_true[i] - y_pred[i];
    sq[i] = d * d;
  }
  return detail::mean(sq);
}

double root_mean_squared_error(std::span<const double> y_true, std::span<const double> y_pred) {
  return std::sqrt(mean_squared_error(y_true, y_pred));
}

double mean_absolute_error(std::span<const double> y_true, std::span<const double> y_pred) {
  detail::check_pair("mean_absolute_error", y_true, y_pred, "y_pred");
  std::vector<double> abs(y_true.size());
  for (std::size_t i = 0; i < abs.size(); ++i) abs[i] = std::abs(y_pred[i] - y_true[i]);
  return detail::mean(abs);
}

double r2(std::span<const double> y_true, std::span<const double> y_pred) {
  detail::check_pair("r2", y_true, y_pred, "y_pred");
  if (y_true.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t n = y_true.size();
  const double avg = detail::mean(y_true);
  std::vector<double> num(n), den(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = y_true[i] - y_pred[i];
    const double c = y_true[i] - avg;
    num[i] = d * d;
    den[i] = c * c;
  }
  return explained_fraction(detail::pairwise_sum(num), detail::pairwise_sum(den));
}

double explained_variance(std::span<const double> y_true, std::span<const double> y_pred) {
  detail::check_pair("explained_variance", y_true, y_pred, "y_pred");
  const std::size_t n = y_true.size();
  std::vector<double> diff(n);
  for (std::size_t i = 0; i < n; ++i) diff[i] = y_true[i] - y_pred[i];
  const double diff_avg = detail::mean(diff);
  const double true_avg = detail::mean(y_true);
  std::vector<double> num(n), den(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double a = y_true[i] - y_pred[i] - diff_avg;
    const double b = y_true[i] - true_avg;
    num[i] = a * a;
    den[i] = b * b;
  }
  return explained_fraction(detail::mean(num), detail::mean(den));
}

}  // namespace tabula::metrics

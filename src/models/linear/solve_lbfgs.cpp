#include "models/linear/solve_lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace tabula::models {
namespace {

constexpr double kArmijo = 1e-4;
constexpr int kMaxHalvings = 40;

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const std::vector<double>& a) {
  double m = 0.0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

// Sufficient decrease, with slack for rounding: near the optimum f changes below its own
// precision and a good step must not be refused for that.
bool accept(double f_new, double f, double t, double slope) {
  if (!std::isfinite(f_new)) return false;
  const double slack = 16.0 * std::numeric_limits<double>::epsilon() * std::abs(f);
  return f_new <= f + kArmijo * t * slope + slack;
}

}  // namespace

OptimizeResult minimize_lbfgs(const ValueGradient& f, std::vector<double>& theta,
                              std::int64_t max_iter, double tol, int memory) {
  const std::size_t n = theta.size();
  std::vector<double> g(n), g_new(n), direction(n), theta_new(n);
  double value = f(theta, g);
  std::deque<std::vector<double>> s_hist, y_hist;
  std::deque<double> rho_hist;
  OptimizeResult result;
  std::vector<double> alpha(static_cast<std::size_t>(memory));

  while (true) {
    result.gradient_max = max_abs(g);
    if (result.gradient_max <= tol) {
      result.converged = true;
      break;
    }
    if (result.iterations >= max_iter) break;

    // Two-loop recursion: direction = -H g with the stored curvature pairs.
    direction = g;
    const std::size_t k = s_hist.size();
    for (std::size_t j = k; j-- > 0;) {
      alpha[j] = rho_hist[j] * dot(s_hist[j], direction);
      for (std::size_t i = 0; i < n; ++i) direction[i] -= alpha[j] * y_hist[j][i];
    }
    double gamma = 1.0;
    if (k > 0) gamma = 1.0 / (rho_hist[k - 1] * dot(y_hist[k - 1], y_hist[k - 1]));
    for (double& v : direction) v *= gamma;
    for (std::size_t j = 0; j < k; ++j) {
      const double beta = rho_hist[j] * dot(y_hist[j], direction);
      for (std::size_t i = 0; i < n; ++i) direction[i] += (alpha[j] - beta) * s_hist[j][i];
    }
    for (double& v : direction) v = -v;
    double slope = dot(g, direction);
    if (!(slope < 0.0)) {  // not a descent direction: restart from steepest descent
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      for (std::size_t i = 0; i < n; ++i) direction[i] = -g[i];
      slope = -dot(g, g);
    }
    double t = k == 0 ? std::min(1.0, 1.0 / std::sqrt(dot(g, g))) : 1.0;
    double value_new = 0.0;
    bool found = false;
    for (int h = 0; h < kMaxHalvings; ++h, t *= 0.5) {
      for (std::size_t i = 0; i < n; ++i) theta_new[i] = theta[i] + t * direction[i];
      value_new = f(theta_new, g_new);
      if (accept(value_new, value, t, slope)) {
        found = true;
        break;
      }
    }
    ++result.iterations;
    if (!found) break;  // no progress possible at this precision
    std::vector<double> s(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      s[i] = theta_new[i] - theta[i];
      y[i] = g_new[i] - g[i];
    }
    const double sy = dot(s, y);
    if (sy > std::numeric_limits<double>::epsilon() * dot(y, y)) {
      if (static_cast<int>(s_hist.size()) == memory) {
        s_hist.pop_front(), y_hist.pop_front(), rho_hist.pop_front();
      }
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(y));
      rho_hist.push_back(1.0 / sy);
    }
    theta.swap(theta_new);
    g.swap(g_new);
    value = value_new;
  }
  result.value = value;
  return result;
}

OptimizeResult minimize_newton(const ValueGradientHessian& f, const NewtonSolve& solve,
                               std::vector<double>& theta, std::int64_t max_iter, double tol) {
  const std::size_t n = theta.size();
  std::vector<double> g(n), g_new(n), h, h_new, theta_new(n);
  double value = f(theta, g, &h);
  OptimizeResult result;
  while (true) {
    result.gradient_max = max_abs(g);
    if (result.gradient_max <= tol) {
      result.converged = true;
      break;
    }
    if (result.iterations >= max_iter) break;
    std::vector<double> step = solve(h, g);
    double slope = dot(g, step);
    if (!(slope < 0.0)) {
      for (std::size_t i = 0; i < n; ++i) step[i] = -g[i];
      slope = -dot(g, g);
    }
    double t = 1.0, value_new = 0.0;
    bool found = false;
    for (int k = 0; k < kMaxHalvings; ++k, t *= 0.5) {
      for (std::size_t i = 0; i < n; ++i) theta_new[i] = theta[i] + t * step[i];
      value_new = f(theta_new, g_new, &h_new);
      if (accept(value_new, value, t, slope)) {
        found = true;
        break;
      }
    }
    ++result.iterations;
    if (!found) break;
    theta.swap(theta_new);
    g.swap(g_new);
    h.swap(h_new);
    value = value_new;
  }
  result.value = value;
  return result;
}

}  // namespace tabula::models

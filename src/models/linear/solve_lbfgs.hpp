// Optimisers for smooth convex objectives on small parameter vectors (host memory), used by
// LogisticRegression: limited-memory BFGS and damped Newton, both with an Armijo backtracking
// line search. The expensive part, evaluating the objective over the data, is the callback.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace tabula::models {

struct OptimizeResult {
  std::int64_t iterations = 0;
  bool converged = false;
  double value = 0.0;
  double gradient_max = 0.0;  // max |gradient| at the returned point
};

/// Returns f(θ) and writes ∇f(θ) into `gradient` (same size as θ).
using ValueGradient =
    std::function<double(const std::vector<double>& theta, std::vector<double>& gradient)>;

/// Minimises f from θ (updated in place) until max|∇f| <= tol or max_iter iterations.
OptimizeResult minimize_lbfgs(const ValueGradient& f, std::vector<double>& theta,
                              std::int64_t max_iter, double tol, int memory = 10);

/// Returns f(θ), writes ∇f(θ) and, when `hessian` is non-null, ∇²f(θ) (n x n, column-major).
using ValueGradientHessian = std::function<double(
    const std::vector<double>& theta, std::vector<double>& gradient, std::vector<double>* hessian)>;
/// Solves H Δ = -g (H n x n column-major, g length n), returning Δ.
using NewtonSolve = std::function<std::vector<double>(const std::vector<double>& hessian,
                                                      const std::vector<double>& gradient)>;

/// Newton's method with backtracking: one Hessian per accepted step; trial points that pass
/// the Armijo test already carry the next Hessian.
OptimizeResult minimize_newton(const ValueGradientHessian& f, const NewtonSolve& solve,
                               std::vector<double>& theta, std::int64_t max_iter, double tol);

}  // namespace tabula::models

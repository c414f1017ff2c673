// Scoring for the linear family: x W' + b in float64 on the host, parallel over fixed row blocks
// (the input rows arrive in host memory and the result is needed there).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tabula/core/matrix.hpp"

namespace tabula::models {

/// n x k row-major scores s_it = Σ_j x_ij coef[t*d + j] + intercept[t] for host x (n x d),
/// coef (k x d row-major) and intercept (k).
std::vector<double> affine_scores(MatrixView<const float> x, std::span<const double> coef,
                                  std::span<const double> intercept);

}  // namespace tabula::models

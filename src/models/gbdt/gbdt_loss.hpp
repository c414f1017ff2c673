// The losses of histogram gradient boosting, as scikit-learn's half losses: squared error
// 0.5 (raw - y)^2, absolute error |raw - y|, binomial log(1 + e^raw) - y raw, multinomial
// logsumexp(raw) - raw_y. Raw
// scores are n x k row-major (k = 1, or the number of classes beyond two).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tabula/models/gbdt/gbdt.hpp"

namespace tabula {
class Communicator;
}

namespace tabula::gbdt {

/// The loss, its raw-score width and the targets and weights it scores.
struct LossData {
  GbdtLoss loss = GbdtLoss::kSquaredError;
  std::int64_t k = 1;              // raw scores per row
  std::span<const double> y;       // value, or class index
  std::span<const double> weight;  // empty: unit weights
};

/// The weighted median of `values` (weights empty: unit): the midpoint of the two middle values
/// for unit weights (as numpy's median), else the smallest value whose cumulative weight reaches
/// half the total. 0 for no values or no weight.
double weighted_median(std::vector<double> values, std::span<const double> weights);

/// The constant raw scores that minimise the loss (k entries): the weighted mean (the weighted
/// median for absolute error); the log-odds
/// of the class-1 share; the log class shares less their mean. Shares are clipped to
/// [eps, 1 - eps] as scikit-learn does. The sums are exact (distributed::ExactSum), so over
/// ranks (`comm`: each rank's rows) every rank gets the one-process baseline; absolute error's
/// median is selected exactly over the ranks (unit weights only).
std::vector<double> baseline(const LossData& data, Communicator* comm = nullptr);

/// Gradients and Hessians of the loss in raw scores, multiplied by the sample weights: n x k
/// pairs (gradient, Hessian), row-major, so that a row's pair is one read when the trees gather
/// them in their rows' order. Row by row, in parallel: the result does not depend on the
/// thread count. largest (when given) receives 2k entries, column c's largest |gradient| at 2c
/// and |Hessian| at 2c + 1, taken while each block of rows is in cache: what FitRows::quantise
/// scales by, without a pass of its own over the pairs.
void gradients(const LossData& data, std::span<const double> raw, std::vector<double>& grad_hess,
               std::vector<double>* largest = nullptr);

/// The 2k largest magnitudes of n x k (gradient, Hessian) pairs, as gradients' `largest`.
std::vector<double> largest_magnitudes(std::span<const double> grad_hess, std::int64_t k);

/// The weighted mean loss of raw scores (n x k), from exact sums (distributed::ExactSum): over
/// ranks (`comm`: each rank's rows) every rank gets the one-process value.
double mean_loss(const LossData& data, std::span<const double> raw, Communicator* comm = nullptr);

/// Probabilities from raw scores (n x k) for `classes` classes: the sigmoid as [1 - p, p] when
/// k = 1, else the softmax of each row. n x classes row-major.
std::vector<double> probabilities(std::span<const double> raw, std::int64_t k,
                                  std::int64_t classes);

}  // namespace tabula::gbdt

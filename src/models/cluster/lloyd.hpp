// Lloyd's algorithm as scikit-learn runs it (algorithm="lloyd"): assign every row to its
// nearest centre (distances from the backend's GEMM), move each centre to the weighted mean of
// its rows (float64 sums in a fixed order), refill empty clusters with the rows farthest from
// their centres; stop when the labels repeat or the centres move less than tol.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/cluster/distances.hpp"
#include "tabula/models/cluster/kmeans.hpp"

namespace tabula {
class Communicator;
}

namespace tabula::cluster {

struct LloydResult {
  std::vector<double> centres;  // k x d, row-major
  std::vector<std::int32_t> labels;
  double inertia = 0.0;  // Σ w_i ‖x_i - centre(label_i)‖², exact float64
  std::int64_t n_iter = 0;
};

/// Runs at most max_iter iterations from `centres` (k x d). `tol` is absolute: the bound on
/// the sum of squared centre moves. `weights` is empty (unit) or n values.
///
/// Over ranks (`comm` not null; `points` the rank's rows, `centres` the same on every rank):
/// each iteration all-reduces the clusters' sums and weights, empty clusters are refilled from
/// the farthest rows of every rank (gathered, ties to the lower global row), the labels repeat
/// when they repeat on every rank, and the inertia is summed over the ranks. Every rank ends
/// with the same centres, n_iter and inertia; `labels` are the rank's own rows'.
///
/// kElkan: the same iterations with Hamerly's bounds (on host backends): most rows keep their
/// label without products once the centres settle; the assignments are Lloyd's up to rows
/// within rounding of a tie.
LloydResult run_lloyd(const Points& points, std::span<const double> weights,
                      std::vector<double> centres, std::int64_t k, std::int64_t max_iter,
                      double tol, Communicator* comm = nullptr,
                      KMeansAlgorithm algorithm = KMeansAlgorithm::kLloyd);

/// Σ w_i ‖x_i - centre(label_i)‖² in float64 from the original rows, in a fixed order (over
/// ranks: each rank's sum, added over the ranks).
double inertia(const Points& points, std::span<const double> weights,
               std::span<const double> centres, std::span<const std::int32_t> labels,
               Communicator* comm = nullptr);

}  // namespace tabula::cluster

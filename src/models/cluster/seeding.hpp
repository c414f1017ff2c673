// The initial centres of one k-means run: scikit-learn's greedy k-means++ or k distinct rows
// drawn at random (both weighted by the sample weights, as scikit-learn draws them).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "models/cluster/distances.hpp"

namespace tabula {
class Communicator;
}

namespace tabula::cluster {

/// k-means++ with 2 + floor(log k) local trials per centre: each trial is a row drawn with
/// probability proportional to weight x squared distance to the nearest chosen centre, and the
/// trial that lowers the total potential most is kept. Returns k x d centres (row-major).
/// `weights` is empty (unit) or n values.
///
/// Over ranks (`comm` not null, each rank holding its share of the rows, the same `rng` state on
/// every rank): each rank's running sums start at the earlier ranks' totals added in rank order,
/// a draw goes to the lowest rank whose running sum reaches it, and that rank's row is sent to
/// every rank, so every rank gets the same centres. The draws land on the one-process rows
/// whenever the running sums are exact (unit weights: the first centre); otherwise they can
/// differ where a draw falls within rounding of a row's running sum (docs/distributed.md).
std::vector<double> kmeans_plus_plus(const Points& points, std::span<const double> weights,
                                     std::int64_t k, std::mt19937_64& rng,
                                     Communicator* comm = nullptr);

/// k distinct rows, each drawn with probability proportional to its weight among the rows not
/// drawn yet. Returns k x d centres. Over ranks as kmeans_plus_plus (exact with unit weights).
std::vector<double> random_rows(const Points& points, std::span<const double> weights,
                                std::int64_t k, std::mt19937_64& rng, Communicator* comm = nullptr);

/// A uniform double in [0, 1) from 53 bits of rng.
double uniform01(std::mt19937_64& rng);

}  // namespace tabula::cluster

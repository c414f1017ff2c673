// The initial centres of one k-means run: scikit-learn's greedy k-means++ or k distinct rows
// drawn at random (both weighted by the sample weights, as scikit-learn draws them).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "models/cluster/distances.hpp"

namespace tabula::cluster {

/// k-means++ with 2 + floor(log k) local trials per centre: each trial is a row drawn with
/// probability proportional to weight x squared distance to the nearest chosen centre, and the
/// trial that lowers the total potential most is kept. Returns k x d centres (row-major).
/// `weights` is empty (unit) or n values.
std::vector<double> kmeans_plus_plus(const Points& points, std::span<const double> weights,
                                     std::int64_t k, std::mt19937_64& rng);

/// k distinct rows, each drawn with probability proportional to its weight among the rows not
/// drawn yet. Returns k x d centres.
std::vector<double> random_rows(const Points& points, std::span<const double> weights,
                                std::int64_t k, std::mt19937_64& rng);

/// A uniform double in [0, 1) from 53 bits of rng.
double uniform01(std::mt19937_64& rng);

}  // namespace tabula::cluster

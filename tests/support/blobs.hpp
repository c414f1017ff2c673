// Clustering fixtures: rows drawn around known centres, and the centres' nearest fitted match.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "tabula/core/matrix.hpp"
#include "tabula/models/estimator.hpp"

namespace tabula::testing {

struct Table {
  std::int64_t n = 0, d = 0;
  std::vector<float> x;
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), n, d);
  }
  FitData fit_data(std::uint64_t seed = 0) const {
    FitData data;
    data.x = view();
    data.seed = seed;
    return data;
  }
};

/// `per` points around each of `centres` (k x d), interleaved, normal noise of sd `spread`;
/// seeded.
inline Table blobs(const std::vector<std::vector<double>>& centres, std::int64_t per, double spread,
                   std::uint64_t seed) {
  Table t{static_cast<std::int64_t>(centres.size()) * per,
          static_cast<std::int64_t>(centres[0].size()),
          {}};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, spread);
  for (std::int64_t i = 0; i < per; ++i)
    for (const auto& c : centres)
      for (double v : c) t.x.push_back(static_cast<float>(v + normal(rng)));
  return t;
}

}  // namespace tabula::testing

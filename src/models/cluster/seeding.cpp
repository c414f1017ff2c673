#include "models/cluster/seeding.hpp"

#include <algorithm>
#include <cmath>

#include "tabula/core/thread_pool.hpp"

namespace tabula::cluster {
namespace {

constexpr std::int64_t kHostRows = 4096;

double weight_of(std::span<const double> weights, std::int64_t i) {
  return weights.empty() ? 1.0 : weights[static_cast<std::size_t>(i)];
}

// numpy's searchsorted(side="left") clipped to the last row: the first row whose cumulative
// value reaches `target`.
std::int64_t first_reaching(const std::vector<double>& cumulative, double target) {
  const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), target);
  return std::min<std::int64_t>(it - cumulative.begin(),
                                static_cast<std::int64_t>(cumulative.size()) - 1);
}

void copy_row(MatrixView<const float> x, std::int64_t row, double* out) {
  for (std::int64_t j = 0; j < x.cols; ++j) out[j] = x(row, j);
}

}  // namespace

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// long: one k-means++ step per centre: draw the trials, their distances (one GEMM pass), their
// potentials, keep the best.
std::vector<double> kmeans_plus_plus(const Points& points, std::span<const double> weights,
                                     std::int64_t k, std::mt19937_64& rng) {
  const std::int64_t n = points.rows(), d = points.cols();
  const MatrixView<const float> x = points.host();
  std::vector<double> centres(static_cast<std::size_t>(k * d));
  std::vector<double> cumulative(static_cast<std::size_t>(n));
  double running = 0.0;
  for (std::int64_t i = 0; i < n; ++i) cumulative[i] = running += weight_of(weights, i);
  copy_row(x, first_reaching(cumulative, uniform01(rng) * running), centres.data());

  std::vector<double> closest(static_cast<std::size_t>(n));
  points.for_each_block(std::span<const double>(centres.data(), static_cast<std::size_t>(d)), 1,
                        [&](std::int64_t begin, std::int64_t end, std::span<const double> d2) {
                          std::copy(d2.begin(), d2.end(), closest.begin() + begin);
                          (void)end;
                        });
  double potential =
      ordered_sum(n, [&](std::int64_t i) { return weight_of(weights, i) * closest[i]; });

  const std::int64_t trials = 2 + static_cast<std::int64_t>(std::log(static_cast<double>(k)));
  std::vector<double> trial_centres(static_cast<std::size_t>(trials * d));
  std::vector<std::vector<double>> trial_closest(static_cast<std::size_t>(trials),
                                                 std::vector<double>(static_cast<std::size_t>(n)));
  for (std::int64_t c = 1; c < k; ++c) {
    running = 0.0;
    for (std::int64_t i = 0; i < n; ++i)
      cumulative[i] = running += weight_of(weights, i) * closest[i];
    for (std::int64_t t = 0; t < trials; ++t)
      copy_row(x, first_reaching(cumulative, uniform01(rng) * potential),
               trial_centres.data() + t * d);
    points.for_each_block(
        trial_centres, trials,
        [&](std::int64_t begin, std::int64_t end, std::span<const double> d2) {
          parallel_blocks(end - begin, kHostRows, [&](std::int64_t lo, std::int64_t hi) {
            for (std::int64_t i = lo; i < hi; ++i)
              for (std::int64_t t = 0; t < trials; ++t)
                trial_closest[t][begin + i] = std::min(closest[begin + i], d2[i * trials + t]);
          });
        });
    std::int64_t best = 0;
    double best_potential = 0.0;
    for (std::int64_t t = 0; t < trials; ++t) {
      const std::vector<double>& dist = trial_closest[t];
      const double p =
          ordered_sum(n, [&](std::int64_t i) { return weight_of(weights, i) * dist[i]; });
      if (t == 0 || p < best_potential) best = t, best_potential = p;
    }
    potential = best_potential;
    closest.swap(trial_closest[best]);
    std::copy_n(trial_centres.data() + best * d, d, centres.data() + c * d);
  }
  return centres;
}

std::vector<double> random_rows(const Points& points, std::span<const double> weights,
                                std::int64_t k, std::mt19937_64& rng) {
  const std::int64_t n = points.rows(), d = points.cols();
  std::vector<char> drawn(static_cast<std::size_t>(n), 0);
  std::vector<double> centres(static_cast<std::size_t>(k * d));
  for (std::int64_t c = 0; c < k; ++c) {
    double remaining = 0.0;
    for (std::int64_t i = 0; i < n; ++i)
      if (!drawn[i]) remaining += weight_of(weights, i);
    // Fewer rows of positive weight than clusters: the first rows not drawn yet.
    const double target = remaining > 0.0 ? uniform01(rng) * remaining : -1.0;
    std::int64_t pick = -1;
    double running = 0.0;
    for (std::int64_t i = 0; i < n && pick < 0; ++i) {
      if (drawn[i]) continue;
      running += weight_of(weights, i);
      if (running > target) pick = i;
    }
    if (pick < 0)  // rounding at the top end: the last row not drawn
      for (std::int64_t i = n - 1; i >= 0 && pick < 0; --i)
        if (!drawn[i]) pick = i;
    drawn[pick] = 1;
    copy_row(points.host(), pick, centres.data() + c * d);
  }
  return centres;
}

}  // namespace tabula::cluster

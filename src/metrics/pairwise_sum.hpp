// NumPy's pairwise summation, reproduced exactly so sums and means agree with scikit-learn's to
// the last bit (a constant target's variance is then zero exactly when NumPy's is).
#pragma once

#include <cstdint>
#include <span>

namespace tabula::metrics::detail {

/// The same association order as numpy.add.reduce on a float64 array.
inline double pairwise_sum(std::span<const double> a) {
  constexpr std::size_t kBlock = 128;
  const std::size_t n = a.size();
  if (n < 8) {
    double sum = 0.0;
    for (double v : a) sum += v;
    return sum;
  }
  if (n <= kBlock) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return pairwise_sum(a.first(half)) + pairwise_sum(a.subspan(half));
}

inline double mean(std::span<const double> a) {
  return pairwise_sum(a) / static_cast<double>(a.size());
}

}  // namespace tabula::metrics::detail

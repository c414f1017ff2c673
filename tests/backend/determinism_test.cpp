// The CPU backend's sums over rows do not depend on the thread count: 1, 2 and 4 threads give
// bit-identical Gram matrices, cross products and moments. The data has widely varying
// magnitudes, so a different summation order would change low-order bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "parity_data.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::testing {
namespace {

struct Results {
  std::vector<double> gram, cross, means, variances;
};

template <typename T>
Results run_all(Backend& backend, const HostMatrix<T>& x, const HostMatrix<double>& y,
                const std::vector<double>& weights, const std::vector<std::int64_t>& subset) {
  const auto dx = DeviceMatrix<T>::upload(backend, x);
  const auto dy = DeviceMatrix<double>::upload(backend, y);
  const auto dw = DeviceVector<double>::upload(backend, weights);
  const auto drows = DeviceVector<std::int64_t>::upload(backend, subset);
  const RowSubset rows = subset.empty() ? RowSubset::all() : RowSubset{drows.view()};
  const std::int64_t d = x.cols, k = y.cols;
  Buffer<double> gram(backend, d * d), cross(backend, d * k), means(backend, d),
      variances(backend, d);
  backend.linalg().gram(dx.view(), dw.view(), rows, gram.matrix(d, d, Layout::kColMajor));
  backend.linalg().cross_product(dx.view(), dy.view(), dw.view(), rows,
                                 cross.matrix(d, k, Layout::kRowMajor));
  backend.linalg().column_moments(dx.view(), dw.view(), rows, means.view(), variances.view());
  return {gram.to_host(), cross.to_host(), means.to_host(), variances.to_host()};
}

bool bit_identical(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

template <typename T>
void check_thread_counts(Layout layout, bool weighted, bool with_subset) {
  SCOPED_TRACE(::testing::Message()
               << (std::is_same_v<T, float> ? "float" : "double") << " layout=" << int(layout)
               << " weighted=" << weighted << " subset=" << with_subset);
  std::mt19937_64 rng(4242);
  const std::int64_t n = 60000, d = 9;
  HostMatrix<T> x = HostMatrix<T>::nan_filled(n, d, layout, 1);
  std::normal_distribution<double> normal;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) x(i, j) = static_cast<T>(std::exp(3.0 * normal(rng)));
  const HostMatrix<double> y = random_matrix<double>(n, 2, Layout::kColMajor, 0, rng, 1.0, 5.0);
  const std::vector<double> weights = weighted ? random_weights(n, rng) : std::vector<double>{};
  const std::vector<std::int64_t> subset =
      with_subset ? random_subset(n, 50000, rng) : std::vector<std::int64_t>{};

  Backend& backend = DeviceRegistry::instance().backend(Device::cpu());
  set_thread_count(1);
  const Results one = run_all(backend, x, y, weights, subset);
  for (int threads : {2, 4}) {
    set_thread_count(threads);
    const Results many = run_all(backend, x, y, weights, subset);
    EXPECT_TRUE(bit_identical(one.gram, many.gram)) << threads << " threads: gram";
    EXPECT_TRUE(bit_identical(one.cross, many.cross)) << threads << " threads: cross_product";
    EXPECT_TRUE(bit_identical(one.means, many.means)) << threads << " threads: means";
    EXPECT_TRUE(bit_identical(one.variances, many.variances)) << threads << " threads: variances";
  }
  set_thread_count(0);
  // Guard against a vacuous pass: the results are real numbers.
  for (double v : one.variances) EXPECT_TRUE(std::isfinite(v) && v > 0.0);
}

TEST(CpuDeterminism, ThreadCountDoesNotChangeAnyBit) {
  check_thread_counts<float>(Layout::kRowMajor, true, true);
  check_thread_counts<float>(Layout::kColMajor, false, false);
  check_thread_counts<double>(Layout::kRowMajor, false, false);
  check_thread_counts<double>(Layout::kColMajor, true, true);
}

}  // namespace
}  // namespace tabula::testing

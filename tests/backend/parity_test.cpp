// The backend parity suite: every primitive on every device of the registry (the CPU always,
// each usable CUDA device) against the plain-loop float64 oracle of parity_oracle.hpp.
// Tolerances (relative to the sum of |terms| of each element, see parity_oracle.hpp):
//   float64 statistics (gram, cross_product, moments) 1e-10; gemm/gemv float 1e-5, double 1e-12;
//   cholesky solution 1e-10; eigenvalues and eigenvectors 1e-9 of the spectral radius.
// Without a CUDA device a placeholder GPU case skips and says why, or fails when
// TABULA_REQUIRE_GPU=1 (scripts/gpu-check.sh sets it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "parity_data.hpp"
#include "parity_oracle.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/device_registry.hpp"

namespace tabula::testing {
namespace {

constexpr double kStatsTolerance = 1e-10;
template <typename T>
constexpr double kGemmTolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;
constexpr double kSolveTolerance = 1e-10;
constexpr double kEigenTolerance = 1e-9;

class ParityTest : public ::testing::TestWithParam<DeviceCase> {
 protected:
  void SetUp() override {
    if (!GetParam().available) {
      const std::string reason = DeviceRegistry::instance().cuda_unavailable_reason();
      const char* require = std::getenv("TABULA_REQUIRE_GPU");
      if (require != nullptr && std::string(require) == "1")
        FAIL() << "TABULA_REQUIRE_GPU=1 but no CUDA device is usable: " << reason;
      GTEST_SKIP() << "GPU parity skipped: " << reason;
    }
    backend_ = &DeviceRegistry::instance().backend(GetParam().device);
    ASSERT_EQ(backend_->device(), GetParam().device);
  }
  Backend& backend() { return *backend_; }

 private:
  Backend* backend_ = nullptr;
};

// ---- Sufficient statistics ---------------------------------------------------------------------

struct StatsCase {
  const char* name;
  std::int64_t n, d;
  Layout layout;
  std::int64_t pad;
  bool weighted;
  std::int64_t subset;  // 0: all rows; else this many rows drawn with duplicates
  double offset;
  std::uint64_t seed;
};

constexpr StatsCase kStatsCases[] = {
    {"one_row", 1, 1, Layout::kRowMajor, 0, false, 0, 0.0, 11},
    {"one_row_weighted", 1, 5, Layout::kColMajor, 0, true, 0, 0.0, 12},
    {"one_column", 257, 1, Layout::kRowMajor, 0, false, 0, 0.0, 13},
    {"weights_with_zeros", 1000, 7, Layout::kRowMajor, 0, true, 0, 0.0, 14},
    {"subset_with_duplicates", 1000, 7, Layout::kColMajor, 0, true, 1500, 0.0, 15},
    {"strided_row_major_subset", 3000, 13, Layout::kRowMajor, 3, false, 2000, 0.0, 16},
    {"strided_col_major_weighted", 3000, 13, Layout::kColMajor, 5, true, 0, 0.0, 17},
    {"many_blocks_row_major", 20000, 33, Layout::kRowMajor, 0, true, 25000, 0.0, 18},
    {"many_blocks_col_major", 20000, 33, Layout::kColMajor, 2, false, 0, 0.0, 19},
    {"large_offset", 5000, 4, Layout::kRowMajor, 0, true, 0, 1e4, 20},
};

struct StatsInput {
  std::vector<double> weights;
  std::vector<std::int64_t> subset;
};

StatsInput make_stats_input(const StatsCase& c, std::mt19937_64& rng) {
  StatsInput in;
  if (c.weighted) {
    in.weights = random_weights(c.n, rng);
    if (std::all_of(in.weights.begin(), in.weights.end(), [](double w) { return w == 0.0; }))
      in.weights[0] = 0.75;  // zero total weight has its own test
  }
  if (c.subset > 0) in.subset = random_subset(c.n, c.subset, rng);
  return in;
}

RowSubset subset_view(const DeviceVector<std::int64_t>& rows, const StatsInput& in) {
  return in.subset.empty() ? RowSubset::all() : RowSubset{rows.view()};
}

template <typename T>
void check_gram(Backend& backend, const StatsCase& c) {
  SCOPED_TRACE(std::string(c.name) + (std::is_same_v<T, float> ? " float" : " double"));
  std::mt19937_64 rng(c.seed);
  const HostMatrix<T> x = random_matrix<T>(c.n, c.d, c.layout, c.pad, rng, c.offset);
  const StatsInput in = make_stats_input(c, rng);
  const auto dx = DeviceMatrix<T>::upload(backend, x);
  const auto dw = DeviceVector<double>::upload(backend, in.weights);
  const auto drows = DeviceVector<std::int64_t>::upload(backend, in.subset);
  const Layout out_layout = c.seed % 2 ? Layout::kColMajor : Layout::kRowMajor;
  auto dout = DeviceMatrix<double>::upload(
      backend, HostMatrix<double>::nan_filled(c.d, c.d, out_layout, c.seed % 3));

  backend.linalg().gram(dx.view(), dw.view(), subset_view(drows, in), dout.view());
  const HostMatrix<double> got = dout.download();
  EXPECT_TRUE(matches(got, gram_reference(x, in.weights, in.subset), kStatsTolerance));
  for (std::int64_t i = 0; i < c.d; ++i)
    for (std::int64_t j = 0; j < i; ++j) EXPECT_EQ(got(i, j), got(j, i)) << "not symmetric";
}

template <typename T>
void check_cross_product(Backend& backend, const StatsCase& c) {
  SCOPED_TRACE(std::string(c.name) + (std::is_same_v<T, float> ? " float" : " double"));
  std::mt19937_64 rng(c.seed + 100);
  const HostMatrix<T> x = random_matrix<T>(c.n, c.d, c.layout, c.pad, rng, c.offset);
  const std::int64_t k = c.d == 1 ? 1 : 3;
  const Layout y_layout = c.layout == Layout::kRowMajor ? Layout::kColMajor : Layout::kRowMajor;
  const HostMatrix<double> y = random_matrix<double>(c.n, k, y_layout, c.seed % 3, rng, 0.5, 2.0);
  const StatsInput in = make_stats_input(c, rng);
  const auto dx = DeviceMatrix<T>::upload(backend, x);
  const auto dy = DeviceMatrix<double>::upload(backend, y);
  const auto dw = DeviceVector<double>::upload(backend, in.weights);
  const auto drows = DeviceVector<std::int64_t>::upload(backend, in.subset);
  auto dout = DeviceMatrix<double>::upload(
      backend, HostMatrix<double>::nan_filled(c.d, k, y_layout, c.seed % 2));

  backend.linalg().cross_product(dx.view(), dy.view(), dw.view(), subset_view(drows, in),
                                 dout.view());
  EXPECT_TRUE(
      matches(dout.download(), cross_reference(x, y, in.weights, in.subset), kStatsTolerance));
}

template <typename T>
void check_moments(Backend& backend, const StatsCase& c) {
  SCOPED_TRACE(std::string(c.name) + (std::is_same_v<T, float> ? " float" : " double"));
  std::mt19937_64 rng(c.seed + 200);
  const HostMatrix<T> x = random_matrix<T>(c.n, c.d, c.layout, c.pad, rng, c.offset);
  const StatsInput in = make_stats_input(c, rng);
  const auto dx = DeviceMatrix<T>::upload(backend, x);
  const auto dw = DeviceVector<double>::upload(backend, in.weights);
  const auto drows = DeviceVector<std::int64_t>::upload(backend, in.subset);
  auto dmeans = DeviceVector<double>::upload(backend, std::vector<double>(c.d, -1.0));
  auto dvars = DeviceVector<double>::upload(backend, std::vector<double>(c.d, -1.0));

  backend.linalg().column_moments(dx.view(), dw.view(), subset_view(drows, in), dmeans.view(),
                                  dvars.view());
  const std::vector<double> means = dmeans.buffer.to_host();
  const std::vector<double> vars = dvars.buffer.to_host();
  const MomentsReference ref = moments_reference(x, in.weights, in.subset);
  for (std::int64_t j = 0; j < c.d; ++j) {
    EXPECT_NEAR(means[j], ref.mean[j], kStatsTolerance * ref.mean_scale[j]) << "column " << j;
    // Two passes keep the variance accurate relative to itself even with a large offset; the
    // absolute term covers a variance that is zero up to the rounding of the mean.
    EXPECT_NEAR(vars[j], ref.variance[j],
                kStatsTolerance * ref.variance[j] + 1e-20 * ref.variance_scale[j])
        << "column " << j;
  }
}

TEST_P(ParityTest, Gram) {
  for (const StatsCase& c : kStatsCases) {
    check_gram<float>(backend(), c);
    check_gram<double>(backend(), c);
  }
}

TEST_P(ParityTest, CrossProduct) {
  for (const StatsCase& c : kStatsCases) {
    check_cross_product<float>(backend(), c);
    check_cross_product<double>(backend(), c);
  }
}

TEST_P(ParityTest, ColumnMoments) {
  for (const StatsCase& c : kStatsCases) {
    check_moments<float>(backend(), c);
    check_moments<double>(backend(), c);
  }
}

TEST_P(ParityTest, ZeroTotalWeightGivesZeroGramAndNanMoments) {
  std::mt19937_64 rng(21);
  const HostMatrix<double> x = random_matrix<double>(50, 3, Layout::kRowMajor, 0, rng);
  const auto dx = DeviceMatrix<double>::upload(backend(), x);
  const auto dw = DeviceVector<double>::upload(backend(), std::vector<double>(50, 0.0));
  auto dout = DeviceMatrix<double>::upload(backend(),
                                           HostMatrix<double>::nan_filled(3, 3, Layout::kColMajor));
  auto dmeans = DeviceVector<double>::upload(backend(), std::vector<double>(3, 0.0));
  auto dvars = DeviceVector<double>::upload(backend(), std::vector<double>(3, 0.0));
  backend().linalg().gram(dx.view(), dw.view(), RowSubset::all(), dout.view());
  backend().linalg().column_moments(dx.view(), dw.view(), RowSubset::all(), dmeans.view(),
                                    dvars.view());
  for (double v : dout.download().values) EXPECT_EQ(v, 0.0);
  for (double v : dmeans.buffer.to_host()) EXPECT_TRUE(std::isnan(v));
  for (double v : dvars.buffer.to_host()) EXPECT_TRUE(std::isnan(v));
}

// ---- Dense products ----------------------------------------------------------------------------

struct GemmShape {
  std::int64_t m, n, k;
};

template <typename T>
void check_gemm(Backend& backend, Op op_a, Op op_b, const GemmShape& s, Layout la, Layout lb,
                Layout lc, std::int64_t pad, double beta, std::uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << (std::is_same_v<T, float> ? "float" : "double") << " m=" << s.m << " n=" << s.n
               << " k=" << s.k << " op_a=" << int(op_a) << " op_b=" << int(op_b) << " layouts="
               << int(la) << int(lb) << int(lc) << " pad=" << pad << " beta=" << beta);
  std::mt19937_64 rng(seed);
  const bool ta = op_a == Op::kTranspose, tb = op_b == Op::kTranspose;
  const auto a = random_matrix<T>(ta ? s.k : s.m, ta ? s.m : s.k, la, pad, rng);
  const auto b = random_matrix<T>(tb ? s.n : s.k, tb ? s.k : s.n, lb, pad, rng);
  // With beta == 0, c starts as NaN: it must be overwritten, not read.
  const auto c = beta == 0.0 ? HostMatrix<T>::nan_filled(s.m, s.n, lc, pad)
                             : random_matrix<T>(s.m, s.n, lc, pad, rng);
  const double alpha = 1.5;
  const auto da = DeviceMatrix<T>::upload(backend, a);
  const auto db = DeviceMatrix<T>::upload(backend, b);
  auto dc = DeviceMatrix<T>::upload(backend, c);
  backend.linalg().gemm(op_a, op_b, T(alpha), da.view(), db.view(), T(beta), dc.view());
  EXPECT_TRUE(
      matches(dc.download(), gemm_reference(op_a, op_b, alpha, a, b, beta, c), kGemmTolerance<T>));
}

template <typename T>
void check_gemm_all(Backend& backend) {
  const GemmShape small[] = {{1, 1, 1}, {1, 7, 3}, {5, 1, 4}, {17, 23, 9}, {3, 4, 0}, {33, 29, 70}};
  const Layout layouts[] = {Layout::kRowMajor, Layout::kColMajor};
  const Op ops[] = {Op::kNone, Op::kTranspose};
  std::uint64_t seed = 300;
  for (const GemmShape& s : small)
    for (Op op_a : ops)
      for (Op op_b : ops)
        for (Layout la : layouts)
          for (Layout lb : layouts)
            for (Layout lc : layouts) {
              check_gemm<T>(backend, op_a, op_b, s, la, lb, lc, 0, 0.0, ++seed);
              check_gemm<T>(backend, op_a, op_b, s, la, lb, lc, 3, 0.5, ++seed);
            }
  // Large enough for a backend to split the product: both output shapes, every op.
  for (const GemmShape& s : {GemmShape{200, 180, 300}, GemmShape{260, 70, 280}})
    for (Op op_a : ops)
      for (Op op_b : ops) {
        check_gemm<T>(backend, op_a, op_b, s, Layout::kColMajor, Layout::kRowMajor,
                      Layout::kRowMajor, 1, 0.0, ++seed);
        check_gemm<T>(backend, op_a, op_b, s, Layout::kRowMajor, Layout::kColMajor,
                      Layout::kColMajor, 0, -0.5, ++seed);
      }
}

TEST_P(ParityTest, Gemm) {
  check_gemm_all<float>(backend());
  check_gemm_all<double>(backend());
}

template <typename T>
void check_gemv(Backend& backend, Op op, std::int64_t m, std::int64_t n, Layout layout,
                std::int64_t pad, double beta, std::uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << (std::is_same_v<T, float> ? "float" : "double") << " m=" << m << " n=" << n
               << " op=" << int(op) << " layout=" << int(layout) << " beta=" << beta);
  std::mt19937_64 rng(seed);
  const auto a = random_matrix<T>(m, n, layout, pad, rng);
  const std::int64_t in = op == Op::kNone ? n : m;
  const std::int64_t out = op == Op::kNone ? m : n;
  // Vectors as one-column matrices, so the gemm oracle serves.
  const auto x = random_matrix<T>(in, 1, Layout::kColMajor, 0, rng);
  const auto y = beta == 0.0 ? HostMatrix<T>::nan_filled(out, 1, Layout::kColMajor)
                             : random_matrix<T>(out, 1, Layout::kColMajor, 0, rng);
  const double alpha = -0.75;
  const auto da = DeviceMatrix<T>::upload(backend, a);
  const auto dx = DeviceVector<T>::upload(backend, x.values);
  auto dy = DeviceVector<T>::upload(backend, y.values);
  backend.linalg().gemv(op, T(alpha), da.view(), dx.view(), T(beta), dy.view());
  HostMatrix<T> got = y;
  got.values = dy.buffer.to_host();
  EXPECT_TRUE(matches(got, gemm_reference(op, Op::kNone, alpha, a, x, beta, y), kGemmTolerance<T>));
}

template <typename T>
void check_gemv_all(Backend& backend) {
  const std::int64_t shapes[][2] = {{1, 1}, {1, 9}, {9, 1}, {37, 21}, {700, 450}};
  std::uint64_t seed = 500;
  for (const auto& s : shapes)
    for (Op op : {Op::kNone, Op::kTranspose})
      for (Layout layout : {Layout::kRowMajor, Layout::kColMajor}) {
        check_gemv<T>(backend, op, s[0], s[1], layout, 0, 0.0, ++seed);
        check_gemv<T>(backend, op, s[0], s[1], layout, 2, 0.25, ++seed);
      }
}

TEST_P(ParityTest, Gemv) {
  check_gemv_all<float>(backend());
  check_gemv_all<double>(backend());
}

// ---- Factorisations ----------------------------------------------------------------------------

// A random orthogonal n x n matrix: a product of three Householder reflections.
HostMatrix<double> random_orthogonal(std::int64_t n, std::mt19937_64& rng) {
  HostMatrix<double> q = HostMatrix<double>::nan_filled(n, n, Layout::kColMajor);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) q(i, j) = i == j ? 1.0 : 0.0;
  std::normal_distribution<double> normal;
  for (int reflection = 0; reflection < 3; ++reflection) {
    std::vector<double> v(static_cast<std::size_t>(n));
    double norm2 = 0.0;
    for (double& e : v) norm2 += (e = normal(rng)) * e;
    for (std::int64_t j = 0; j < n; ++j) {  // q <- (I - 2 v vᵀ / vᵀv) q
      double dot = 0.0;
      for (std::int64_t i = 0; i < n; ++i) dot += v[i] * q(i, j);
      for (std::int64_t i = 0; i < n; ++i) q(i, j) -= 2.0 * v[i] * dot / norm2;
    }
  }
  return q;
}

// q diag(lambda) qᵀ, column-major with `pad` rows of padding.
HostMatrix<double> with_spectrum(const HostMatrix<double>& q, const std::vector<double>& lambda,
                                 std::int64_t pad) {
  const std::int64_t n = q.rows;
  HostMatrix<double> a = HostMatrix<double>::nan_filled(n, n, Layout::kColMajor, pad);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (std::int64_t p = 0; p < n; ++p) sum += q(i, p) * lambda[p] * q(j, p);
      a(i, j) = sum;
    }
  return a;
}

TEST_P(ParityTest, CholeskySolve) {
  std::uint64_t seed = 700;
  for (std::int64_t n : {1, 2, 17, 64})
    for (std::int64_t k : {1, 3}) {
      SCOPED_TRACE(::testing::Message() << "n=" << n << " k=" << k);
      std::mt19937_64 rng(++seed);
      const auto m = random_matrix<double>(n, n, Layout::kColMajor, 0, rng);
      // A = MᵀM + n I is well conditioned (condition number about 2.3).
      HostMatrix<double> a = HostMatrix<double>::nan_filled(n, n, Layout::kColMajor, 2);
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          double sum = i == j ? double(n) : 0.0;
          for (std::int64_t p = 0; p < n; ++p) sum += m(p, i) * m(p, j);
          a(i, j) = sum;
        }
      const auto x_true = random_matrix<double>(n, k, Layout::kColMajor, 0, rng);
      HostMatrix<double> b = HostMatrix<double>::nan_filled(n, k, Layout::kColMajor, 1);
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < k; ++j) {
          double sum = 0.0;
          for (std::int64_t p = 0; p < n; ++p) sum += a(i, p) * x_true(p, j);
          b(i, j) = sum;
        }
      auto da = DeviceMatrix<double>::upload(backend(), a);
      auto db = DeviceMatrix<double>::upload(backend(), b);
      ASSERT_TRUE(backend().linalg().cholesky_solve(da.view(), db.view()));
      const HostMatrix<double> x = db.download();
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < k; ++j)
          EXPECT_NEAR(x(i, j), x_true(i, j), kSolveTolerance) << i << "," << j;
      EXPECT_TRUE(x.padding_untouched());
      EXPECT_TRUE(da.download().padding_untouched());
    }
}

TEST_P(ParityTest, CholeskyRejectsMatricesThatAreNotPositiveDefinite) {
  std::mt19937_64 rng(801);
  const auto q = random_orthogonal(6, rng);
  const std::vector<HostMatrix<double>> cases = {
      with_spectrum(q, {3.0, 2.0, 1.0, 0.5, 4.0, -1.0}, 0),  // indefinite
      with_spectrum(q, {3.0, 2.0, 1.0, 0.5, 4.0, 0.0}, 1),   // singular (up to rounding)
      with_spectrum(q, {-3.0, -2.0, -1.0, -0.5, -4.0, -1.0}, 0),
  };
  for (std::size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE(c);
    auto da = DeviceMatrix<double>::upload(backend(), cases[c]);
    auto db = DeviceMatrix<double>::upload(backend(),
                                           random_matrix<double>(6, 2, Layout::kColMajor, 0, rng));
    if (c == 1) {
      // Rounding may leave a tiny positive pivot; what matters is that the indefinite and
      // negative definite cases are refused and this one does not crash.
      (void)backend().linalg().cholesky_solve(da.view(), db.view());
      continue;
    }
    EXPECT_FALSE(backend().linalg().cholesky_solve(da.view(), db.view()));
  }
  HostMatrix<double> zero = HostMatrix<double>::nan_filled(3, 3, Layout::kColMajor);
  std::fill(zero.values.begin(), zero.values.end(), 0.0);
  auto dz = DeviceMatrix<double>::upload(backend(), zero);
  auto db = DeviceMatrix<double>::upload(backend(),
                                         random_matrix<double>(3, 1, Layout::kColMajor, 0, rng));
  EXPECT_FALSE(backend().linalg().cholesky_solve(dz.view(), db.view()));
}

TEST_P(ParityTest, SymmetricEigen) {
  std::uint64_t seed = 900;
  for (std::int64_t n : {1, 2, 5, 40}) {
    SCOPED_TRACE(::testing::Message() << "n=" << n);
    std::mt19937_64 rng(++seed);
    const auto q = random_orthogonal(n, rng);
    // Distinct eigenvalues 0.75 apart, in shuffled order, some negative.
    std::vector<double> lambda(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) lambda[i] = -3.0 + 0.75 * double(i);
    std::vector<std::int64_t> order = selected_rows(n, {});
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<double> shuffled(lambda.size());
    for (std::int64_t i = 0; i < n; ++i) shuffled[i] = lambda[order[i]];
    const HostMatrix<double> a = with_spectrum(q, shuffled, n % 3);
    double radius = 0.0;
    for (double l : lambda) radius = std::max(radius, std::fabs(l));

    auto da = DeviceMatrix<double>::upload(backend(), a);
    auto dvalues = DeviceVector<double>::upload(backend(), std::vector<double>(n, 0.0));
    backend().linalg().symmetric_eigen(da.view(), dvalues.view());
    const std::vector<double> values = dvalues.buffer.to_host();
    const HostMatrix<double> v = da.download();
    EXPECT_TRUE(v.padding_untouched());
    for (std::int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(values[i], lambda[i], kEigenTolerance * radius) << "eigenvalue " << i;
      // Column i is q's column for lambda[i], up to sign.
      const std::int64_t source = std::find(order.begin(), order.end(), i) - order.begin();
      double dot = 0.0;
      for (std::int64_t r = 0; r < n; ++r) dot += v(r, i) * q(r, source);
      EXPECT_NEAR(std::fabs(dot), 1.0, kEigenTolerance) << "eigenvector " << i;
      // A v = lambda v.
      for (std::int64_t r = 0; r < n; ++r) {
        double av = 0.0;
        for (std::int64_t p = 0; p < n; ++p) av += a(r, p) * v(p, i);
        EXPECT_NEAR(av, values[i] * v(r, i), kEigenTolerance * radius) << r << "," << i;
      }
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<DeviceCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Devices, ParityTest, ::testing::ValuesIn(device_cases()), case_name);

}  // namespace
}  // namespace tabula::testing

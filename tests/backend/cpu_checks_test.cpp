// The CPU backend refuses bad input at the boundary with a message naming the primitive:
// wrong shapes, views on another device, bad weights, out-of-range row subsets, wrong layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/blas.hpp"
#include "parity_data.hpp"
#include "tabula/core/error.hpp"

namespace tabula::testing {
namespace {

template <typename E, typename F>
void expect_throw_with(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

class CpuChecks : public ::testing::Test {
 protected:
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  std::mt19937_64 rng{77};
  HostMatrix<double> x_host = random_matrix<double>(10, 3, Layout::kRowMajor, 0, rng);
  DeviceMatrix<double> x = DeviceMatrix<double>::upload(cpu, x_host);
  Buffer<double> out{cpu, 9};
};

TEST_F(CpuChecks, GramRejectsWrongOutputShape) {
  Buffer<double> small(cpu, 4);
  expect_throw_with<Error>(
      [&] {
        cpu.linalg().gram(x.view(), {}, RowSubset::all(), small.matrix(2, 2, Layout::kRowMajor));
      },
      "gram: out");
}

TEST_F(CpuChecks, NegativeOrNanWeightsAreInputErrors) {
  for (double bad :
       {-1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    std::vector<double> w(10, 1.0);
    w[7] = bad;
    const auto dw = DeviceVector<double>::upload(cpu, w);
    expect_throw_with<InputError>(
        [&] {
          cpu.linalg().gram(x.view(), dw.view(), RowSubset::all(),
                            out.matrix(3, 3, Layout::kRowMajor));
        },
        "weight of row 7");
    Buffer<double> m(cpu, 3), v(cpu, 3);
    expect_throw_with<InputError>(
        [&] {
          cpu.linalg().column_moments(x.view(), dw.view(), RowSubset::all(), m.view(), v.view());
        },
        "column_moments: weight of row 7");
  }
}

TEST_F(CpuChecks, WeightsOfTheWrongLengthAreRejected) {
  const auto dw = DeviceVector<double>::upload(cpu, std::vector<double>(9, 1.0));
  expect_throw_with<Error>(
      [&] {
        cpu.linalg().gram(x.view(), dw.view(), RowSubset::all(),
                          out.matrix(3, 3, Layout::kRowMajor));
      },
      "weights have 9 elements");
}

TEST_F(CpuChecks, RowSubsetOutOfRangeIsRejected) {
  const auto rows = DeviceVector<std::int64_t>::upload(cpu, {0, 3, 10});
  expect_throw_with<Error>(
      [&] {
        cpu.linalg().gram(x.view(), {}, RowSubset{rows.view()},
                          out.matrix(3, 3, Layout::kRowMajor));
      },
      "outside [0, 10)");
}

TEST_F(CpuChecks, ViewsOnAnotherDeviceAreRejected) {
  MatrixView<const double> elsewhere = x.view();
  elsewhere.device = Device::cuda(0);
  expect_throw_with<Error>(
      [&] {
        cpu.linalg().gram(elsewhere, {}, RowSubset::all(), out.matrix(3, 3, Layout::kRowMajor));
      },
      "is on cuda:0");
}

TEST_F(CpuChecks, StrideSmallerThanRowIsRejected) {
  MatrixView<const double> bad = x.view();
  bad.stride = 2;
  expect_throw_with<Error>(
      [&] { cpu.linalg().gram(bad, {}, RowSubset::all(), out.matrix(3, 3, Layout::kRowMajor)); },
      "stride smaller");
}

TEST_F(CpuChecks, GemmAndGemvRejectMismatchedShapes) {
  Buffer<double> c(cpu, 10 * 10);
  expect_throw_with<Error>(
      [&] {
        cpu.linalg().gemm(Op::kNone, Op::kNone, 1.0, x.view(), x.view(), 0.0,
                          c.matrix(10, 10, Layout::kRowMajor));
      },
      "gemm");
  Buffer<double> v(cpu, 4), y(cpu, 10);
  expect_throw_with<Error>(
      [&] { cpu.linalg().gemv(Op::kNone, 1.0, x.view(), v.view(), 0.0, y.view()); }, "gemv");
}

TEST_F(CpuChecks, FactorisationsNeedSquareColumnMajorMatrices) {
  Buffer<double> a(cpu, 9), b(cpu, 3), values(cpu, 3);
  expect_throw_with<Error>(
      [&] {
        cpu.linalg().cholesky_solve(a.matrix(3, 3, Layout::kRowMajor),
                                    b.matrix(3, 1, Layout::kColMajor));
      },
      "column-major");
  expect_throw_with<Error>(
      [&] { cpu.linalg().symmetric_eigen(b.matrix(3, 1, Layout::kColMajor), values.view()); },
      "symmetric_eigen");
}

TEST_F(CpuChecks, EigenRejectsNonFiniteInput) {
  std::vector<double> host = {1.0, std::numeric_limits<double>::quiet_NaN(), 0.0, 1.0};
  auto a = Buffer<double>::from_host(cpu, host);
  Buffer<double> values(cpu, 2);
  expect_throw_with<Error>(
      [&] { cpu.linalg().symmetric_eigen(a.matrix(2, 2, Layout::kColMajor), values.view()); },
      "not finite");
}

TEST_F(CpuChecks, AllocationsAreAlignedAndCopiesRoundTrip) {
  std::vector<float> host = {1.5f, -2.0f, 3.25f};
  auto buffer = Buffer<float>::from_host(cpu, host);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer.data()) % 256, 0u);
  Buffer<float> copy(cpu, 3);
  cpu.copy_on_device(copy.data(), buffer.data(), 3 * sizeof(float));
  EXPECT_EQ(copy.to_host(), host);
  auto zeros = Buffer<float>::zeros(cpu, 5);
  EXPECT_EQ(zeros.to_host(), std::vector<float>(5, 0.0f));
}

TEST(CpuBlas, UsesKernelsThisCpuSupports) {
  // Old OpenBLAS releases fall back to SSE3 "Prescott" kernels on CPUs they do not know; the
  // backend must have switched to the AVX2 or AVX-512 ones where the CPU has them.
  const std::string name = cpu::blas_name();
  EXPECT_FALSE(name.empty());
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (name.rfind("OpenBLAS", 0) == 0 && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    EXPECT_EQ(name.find("Prescott"), std::string::npos) << name;
#endif
}

}  // namespace
}  // namespace tabula::testing

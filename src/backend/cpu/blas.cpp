#include "backend/cpu/blas.hpp"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <type_traits>

#ifdef TABULA_WITH_OPENBLAS
#include <cblas.h>
#else
#include <Eigen/Core>
#endif

namespace tabula::cpu {
namespace {

// Zeroes or scales the m x n column-major C; used when beta == 0 (BLAS convention: C is not
// read) and when k == 0 (the product is empty).
template <typename T>
void scale_matrix(std::int64_t m, std::int64_t n, T beta, T* c, std::int64_t ldc) {
  for (std::int64_t j = 0; j < n; ++j) {
    T* col = c + j * ldc;
    if (beta == T(0))
      std::fill(col, col + m, T(0));
    else if (beta != T(1))
      for (std::int64_t i = 0; i < m; ++i) col[i] *= beta;
  }
}

#ifdef TABULA_WITH_OPENBLAS
}  // namespace
}  // namespace tabula::cpu

// Present in DYNAMIC_ARCH builds of OpenBLAS (Debian's); weak, so other builds still link.
extern "C" void gotoblas_dynamic_init(void) __attribute__((weak));
extern "C" void gotoblas_dynamic_quit(void) __attribute__((weak));
// Stops OpenBLAS's server threads (what its own fork handler calls); weak, as above.
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

namespace tabula::cpu {
namespace {

// OpenBLAS picks its kernels by CPU model when it loads. Releases older than the CPU (Debian
// 12 ships 0.3.21) do not know newer Xeons and fall back to "Prescott" SSE3 kernels, about
// ten times slower than the AVX-512 ones the CPU can run. In that case, unless the user chose
// a core with OPENBLAS_CORETYPE, select the newest family the CPU supports, once, before any
// BLAS call.
void select_kernels_for_this_cpu() {
  if (gotoblas_dynamic_init == nullptr || gotoblas_dynamic_quit == nullptr) return;
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string core = openblas_get_corename();
  if (core != "Prescott" && core != "Core2" && core != "Penryn" && core != "Nehalem") return;
  const char* better = nullptr;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    better = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    better = "Haswell";
#endif
  if (better == nullptr) return;
  // OpenBLAS reads the choice from the environment; it is removed again so that programs this
  // process starts detect their own CPU.
  setenv("OPENBLAS_CORETYPE", better, 0);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
}

void ensure_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] {
    select_kernels_for_this_cpu();
    openblas_set_num_threads(1);
    // OpenBLAS starts a server thread per core when it loads, and each spins on sched_yield
    // for a while before it sleeps: on a 2-core machine that takes a core from tabula's pool
    // for the first ~0.1 s of every command. One thread needs no server.
    if (blas_thread_shutdown_ != nullptr) blas_thread_shutdown_();
  });
}
CBLAS_TRANSPOSE to_cblas(Op op) { return op == Op::kNone ? CblasNoTrans : CblasTrans; }
blasint to_int(std::int64_t v) { return static_cast<blasint>(v); }
#else
template <typename T>
using ConstMap =
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<> >;
template <typename T>
using MutMap =
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<> >;

template <typename T>
void eigen_gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
                const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c,
                std::int64_t ldc) {
  const bool ta = op_a == Op::kTranspose;
  const bool tb = op_b == Op::kTranspose;
  ConstMap<T> ma(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  ConstMap<T> mb(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  MutMap<T> mc(c, m, n, Eigen::OuterStride<>(ldc));
  if (!ta && !tb) mc.noalias() += alpha * ma * mb;
  if (!ta && tb) mc.noalias() += alpha * ma * mb.transpose();
  if (ta && !tb) mc.noalias() += alpha * ma.transpose() * mb;
  if (ta && tb) mc.noalias() += alpha * ma.transpose() * mb.transpose();
}
#endif

template <typename T>
void gemm_impl(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
               const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
               std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  // beta == 0 must not read C; k == 0 leaves beta * C. Both handled here, the same on every BLAS.
  if (beta == T(0) || k == 0 || alpha == T(0)) {
    scale_matrix(m, n, beta, c, ldc);
    if (k == 0 || alpha == T(0)) return;
    beta = T(1);
  }
#ifdef TABULA_WITH_OPENBLAS
  ensure_single_threaded();
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasColMajor, to_cblas(op_a), to_cblas(op_b), to_int(m), to_int(n), to_int(k),
                alpha, a, to_int(lda), b, to_int(ldb), beta, c, to_int(ldc));
  else
    cblas_dgemm(CblasColMajor, to_cblas(op_a), to_cblas(op_b), to_int(m), to_int(n), to_int(k),
                alpha, a, to_int(lda), b, to_int(ldb), beta, c, to_int(ldc));
#else
  scale_matrix(m, n, beta, c, ldc);
  eigen_gemm(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, c, ldc);
#endif
}

template <typename T>
void gemv_impl(Op op, std::int64_t m, std::int64_t n, T alpha, const T* a, std::int64_t lda,
               const T* x, T beta, T* y) {
  const std::int64_t out = op == Op::kNone ? m : n;
  const std::int64_t in = op == Op::kNone ? n : m;
  if (out == 0) return;
  if (beta == T(0) || in == 0 || alpha == T(0)) {
    scale_matrix(out, 1, beta, y, out);
    if (in == 0 || alpha == T(0)) return;
    beta = T(1);
  }
#ifdef TABULA_WITH_OPENBLAS
  ensure_single_threaded();
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemv(CblasColMajor, to_cblas(op), to_int(m), to_int(n), alpha, a, to_int(lda), x, 1,
                beta, y, 1);
  else
    cblas_dgemv(CblasColMajor, to_cblas(op), to_int(m), to_int(n), alpha, a, to_int(lda), x, 1,
                beta, y, 1);
#else
  ConstMap<T> ma(a, m, n, Eigen::OuterStride<>(lda));
  Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1> > mx(x, in);
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1> > my(y, out);
  if (beta != T(1)) my *= beta;
  if (op == Op::kNone)
    my.noalias() += alpha * ma * mx;
  else
    my.noalias() += alpha * ma.transpose() * mx;
#endif
}

}  // namespace

void prepare_blas() {
#ifdef TABULA_WITH_OPENBLAS
  ensure_single_threaded();
#endif
}

std::string blas_name() {
#ifdef TABULA_WITH_OPENBLAS
  ensure_single_threaded();
  return std::string("OpenBLAS ") + openblas_get_corename();
#else
  return "Eigen";
#endif
}

void syrk_upper(Op op, std::int64_t n, std::int64_t k, const double* a, std::int64_t lda, double* c,
                std::int64_t ldc) {
  if (n == 0 || k == 0) return;
#ifdef TABULA_WITH_OPENBLAS
  ensure_single_threaded();
  cblas_dsyrk(CblasColMajor, CblasUpper, to_cblas(op), to_int(n), to_int(k), 1.0, a, to_int(lda),
              1.0, c, to_int(ldc));
#else
  MutMap<double> mc(c, n, n, Eigen::OuterStride<>(ldc));
  if (op == Op::kNone)
    mc.selfadjointView<Eigen::Upper>().rankUpdate(
        ConstMap<double>(a, n, k, Eigen::OuterStride<>(lda)));
  else
    mc.selfadjointView<Eigen::Upper>().rankUpdate(
        ConstMap<double>(a, k, n, Eigen::OuterStride<>(lda)).transpose());
#endif
}

void gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  gemm_impl(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
          double* c, std::int64_t ldc) {
  gemm_impl(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemv(Op op, std::int64_t m, std::int64_t n, float alpha, const float* a, std::int64_t lda,
          const float* x, float beta, float* y) {
  gemv_impl(op, m, n, alpha, a, lda, x, beta, y);
}
void gemv(Op op, std::int64_t m, std::int64_t n, double alpha, const double* a, std::int64_t lda,
          const double* x, double beta, double* y) {
  gemv_impl(op, m, n, alpha, a, lda, x, beta, y);
}

}  // namespace tabula::cpu

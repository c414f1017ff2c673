// Typed, single-threaded dense kernels for the CPU backend, all in column-major terms: OpenBLAS
// (cblas) when TABULA_WITH_OPENBLAS is defined, else Eigen's products. tabula's thread pool is
// the only source of parallelism, so OpenBLAS is forced to one thread on first use.
#pragma once

#include <cstdint>
#include <string>

#include "tabula/backend/backend.hpp"

namespace tabula::cpu {

/// Chooses the BLAS kernels and makes OpenBLAS single-threaded, its idle server threads
/// stopped; the CPU backend calls it when created (later calls do nothing).
void prepare_blas();

/// Which library runs the dense products: "OpenBLAS <kernel family>" or "Eigen".
std::string blas_name();

/// C (n x n, upper triangle only, ld ldc) += op(A) op(A)ᵀ, A is n x k after op (ld lda).
/// kNone: A is stored n x k; kTranspose: A is stored k x n.
void syrk_upper(Op op, std::int64_t n, std::int64_t k, const double* a, std::int64_t lda, double* c,
                std::int64_t ldc);

/// C (m x n) = alpha op(A) op(B) + beta C, where op(A) is m x k and op(B) is k x n.
/// beta == 0 overwrites C without reading it (NaNs in C do not propagate).
void gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);
void gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
          double* c, std::int64_t ldc);

/// y = alpha op(A) x + beta y, A stored m x n (ld lda); x and y contiguous.
void gemv(Op op, std::int64_t m, std::int64_t n, float alpha, const float* a, std::int64_t lda,
          const float* x, float beta, float* y);
void gemv(Op op, std::int64_t m, std::int64_t n, double alpha, const double* a, std::int64_t lda,
          const double* x, double beta, double* y);

}  // namespace tabula::cpu

// gemm, gemv, Cholesky solve and symmetric eigendecomposition on the CPU. Views of any layout
// are expressed in column-major terms (a row-major r x c matrix is a column-major c x r one,
// so its op flips) and handed to single-threaded BLAS; large products are split into fixed
// output blocks run on the thread pool.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "backend/cpu/blas.hpp"
#include "backend/cpu/cpu_backend.hpp"
#include "backend/cpu/view_checks.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::cpu {
namespace {

// Below this many flops a product runs as one BLAS call on the calling thread.
constexpr std::int64_t kParallelFlops = std::int64_t{1} << 22;
// Output blocks of a split product: at most this many, and at least this wide.
constexpr std::int64_t kMaxOutputBlocks = 16;
constexpr std::int64_t kMinOutputBlock = 64;
// gemv reads each element of a once: worth splitting from about 2 MiB of float64 on.
constexpr std::int64_t kGemvParallelElements = std::int64_t{1} << 18;

Op flip(Op op) { return op == Op::kNone ? Op::kTranspose : Op::kNone; }

// A matrix as BLAS sees it: column-major storage with leading dimension ld, and the op to apply.
template <typename T>
struct ColMajorOperand {
  const T* data;
  std::int64_t ld;
  Op op;
};
template <typename T>
ColMajorOperand<T> col_major_operand(const MatrixView<const T>& v, Op op) {
  return {v.data, v.stride, v.layout == Layout::kColMajor ? op : flip(op)};
}

std::int64_t output_block(std::int64_t extent) {
  const std::int64_t block = (extent + kMaxOutputBlocks - 1) / kMaxOutputBlocks;
  return std::max(kMinOutputBlock, (block + 15) / 16 * 16);
}

using EigenMap = Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

}  // namespace

template <typename T>
void gemm(Op op_a, Op op_b, T alpha, MatrixView<const T> a, MatrixView<const T> b, T beta,
          MatrixView<T> c) {
  const auto [m, n, k_bound] = check_gemm(op_a, op_b, a, b, c, Device::cpu());
  if (m == 0 || n == 0) return;
  const std::int64_t k = k_bound;  // clang 14 (the fuzz build) cannot capture a binding

  // C row-major is Cᵀ column-major: Cᵀ = op(b)ᵀ op(a)ᵀ, so the operands swap.
  const bool c_col = c.layout == Layout::kColMajor;
  const ColMajorOperand<T> left =
      c_col ? col_major_operand(a, op_a) : col_major_operand(b, flip(op_b));
  const ColMajorOperand<T> right =
      c_col ? col_major_operand(b, op_b) : col_major_operand(a, flip(op_a));
  const std::int64_t rows = c_col ? m : n;  // of C's column-major storage
  const std::int64_t cols = c_col ? n : m;

  if (2 * rows * cols * k < kParallelFlops || k == 0) {
    cpu::gemm(left.op, right.op, rows, cols, k, alpha, left.data, left.ld, right.data, right.ld,
              beta, c.data, c.stride);
    return;
  }
  if (cols >= rows) {
    // Column blocks of C: C[:, j0:j1] = op(L) op(R)[:, j0:j1].
    const std::int64_t block = output_block(cols);
    parallel_blocks(cols, block, [&](std::int64_t j0, std::int64_t j1) {
      const T* r = right.data + (right.op == Op::kNone ? j0 * right.ld : j0);
      cpu::gemm(left.op, right.op, rows, j1 - j0, k, alpha, left.data, left.ld, r, right.ld, beta,
                c.data + j0 * c.stride, c.stride);
    });
  } else {
    // Row blocks of C: C[i0:i1, :] = op(L)[i0:i1, :] op(R).
    const std::int64_t block = output_block(rows);
    parallel_blocks(rows, block, [&](std::int64_t i0, std::int64_t i1) {
      const T* l = left.data + (left.op == Op::kNone ? i0 : i0 * left.ld);
      cpu::gemm(left.op, right.op, i1 - i0, cols, k, alpha, l, left.ld, right.data, right.ld, beta,
                c.data + i0, c.stride);
    });
  }
}

template <typename T>
void gemv(Op op_a, T alpha, MatrixView<const T> a, VectorView<const T> x, T beta, VectorView<T> y) {
  const auto [out, in] = check_gemv(op_a, a, x, y, Device::cpu());
  if (out == 0) return;
  const ColMajorOperand<T> op = col_major_operand(a, op_a);
  // Dimensions of a's column-major storage.
  const std::int64_t m = a.layout == Layout::kColMajor ? a.rows : a.cols;
  const std::int64_t n = a.layout == Layout::kColMajor ? a.cols : a.rows;

  if (out * in < kGemvParallelElements || in == 0) {
    cpu::gemv(op.op, m, n, alpha, op.data, op.ld, x.data, beta, y.data);
    return;
  }
  parallel_blocks(out, output_block(out), [&](std::int64_t i0, std::int64_t i1) {
    if (op.op == Op::kNone)
      cpu::gemv(Op::kNone, i1 - i0, n, alpha, op.data + i0, op.ld, x.data, beta, y.data + i0);
    else
      cpu::gemv(Op::kTranspose, m, i1 - i0, alpha, op.data + i0 * op.ld, op.ld, x.data, beta,
                y.data + i0);
  });
}

bool cholesky_solve(MatrixView<double> a, MatrixView<double> b) {
  check_cholesky_solve(a, b, Device::cpu());
  const std::int64_t n = a.rows;
  if (n == 0) return true;

  EigenMap am(a.data, n, n, Eigen::OuterStride<>(a.stride));
  // In place: the lower triangle of a becomes L.
  Eigen::LLT<Eigen::Ref<Eigen::MatrixXd, 0, Eigen::OuterStride<>>> llt(am);
  if (llt.info() != Eigen::Success) return false;
  for (std::int64_t i = 0; i < n; ++i)
    if (!(am(i, i) > 0.0) || !std::isfinite(am(i, i))) return false;
  if (b.cols > 0) {
    EigenMap bm(b.data, n, b.cols, Eigen::OuterStride<>(b.stride));
    llt.solveInPlace(bm);
  }
  return true;
}

void symmetric_eigen(MatrixView<double> a, VectorView<double> eigenvalues) {
  check_symmetric_eigen(a, eigenvalues, Device::cpu());
  const std::int64_t n = a.rows;
  if (n == 0) return;
  EigenMap am(a.data, n, n, Eigen::OuterStride<>(a.stride));
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = j; i < n; ++i)
      if (!std::isfinite(am(i, j)))
        throw Error("symmetric_eigen: a(" + std::to_string(i) + ", " + std::to_string(j) +
                    ") is not finite");
  // Reads the lower triangle; eigenvalues come out ascending.
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(am, Eigen::ComputeEigenvectors);
  if (solver.info() != Eigen::Success)
    throw Error("symmetric_eigen: the " + std::to_string(n) + " x " + std::to_string(n) +
                " eigensolver did not converge");
  am = solver.eigenvectors();
  Eigen::Map<Eigen::VectorXd>(eigenvalues.data, n) = solver.eigenvalues();
}

template void gemm(Op, Op, float, MatrixView<const float>, MatrixView<const float>, float,
                   MatrixView<float>);
template void gemm(Op, Op, double, MatrixView<const double>, MatrixView<const double>, double,
                   MatrixView<double>);
template void gemv(Op, float, MatrixView<const float>, VectorView<const float>, float,
                   VectorView<float>);
template void gemv(Op, double, MatrixView<const double>, VectorView<const double>, double,
                   VectorView<double>);

}  // namespace tabula::cpu

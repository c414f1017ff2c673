// Boundary checks shared by every backend's primitives: each view must be on the backend's
// device, well formed (stride >= inner dimension, data present when non-empty) and of the shape
// the primitive needs. Failures throw tabula::Error naming the primitive and the shapes, in the
// same words on every device.
#pragma once

#include <cstdint>
#include <string>

#include "tabula/backend/backend.hpp"
#include "tabula/core/device.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula {

/// "100 x 5 row-major (stride 5) on cuda:0".
template <typename T>
std::string describe(const MatrixView<T>& view);

/// Throws unless memory on `actual` is what a backend on `device` works on: "<what> is on cpu,
/// but this backend runs on cuda:0". The one device check of every view check.
void check_device(Device actual, Device device, const char* what);

/// Throws unless `view` lives on `device` and is well formed; `what` names it ("gram: x").
template <typename T>
void check_matrix(const MatrixView<T>& view, Device device, const char* what);
/// Throws unless `view` lives on `device` (any device when empty: it holds no memory) and has
/// data when non-empty.
template <typename T>
void check_vector(const VectorView<T>& view, Device device, const char* what);

/// Throws unless `view` is `rows x cols`.
template <typename T>
void check_shape(const MatrixView<T>& view, std::int64_t rows, std::int64_t cols, const char* what);

/// Throws unless the matrix is column-major (Cholesky and eigendecomposition work in place).
template <typename T>
void check_col_major(const MatrixView<T>& view, const char* what);

/// Checks the optional weights (empty, or length `total_rows`) and the row subset's view; index
/// and weight values are checked where each backend reads them.
void check_weights_and_rows(VectorView<const double> weights, RowSubset rows,
                            std::int64_t total_rows, Device device, const char* primitive);

/// The arguments of the dense primitives, checked as a whole: every view on `device` and well
/// formed, and the shapes fitting together (messages name the primitive and every shape).
struct GemmShape {
  std::int64_t m, n, k;  // c (m x n) = op(a) (m x k) op(b) (k x n)
};
template <typename T>
GemmShape check_gemm(Op op_a, Op op_b, const MatrixView<const T>& a, const MatrixView<const T>& b,
                     const MatrixView<T>& c, Device device);
struct GemvShape {
  std::int64_t out, in;  // y (out) = op(a) (out x in) x (in)
};
template <typename T>
GemvShape check_gemv(Op op_a, const MatrixView<const T>& a, const VectorView<const T>& x,
                     const VectorView<T>& y, Device device);
/// a n x n and b n x k, both column-major.
void check_cholesky_solve(const MatrixView<double>& a, const MatrixView<double>& b, Device device);
/// a n x n column-major, n eigenvalues.
void check_symmetric_eigen(const MatrixView<double>& a, const VectorView<double>& eigenvalues,
                           Device device);

}  // namespace tabula

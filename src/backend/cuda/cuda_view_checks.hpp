// Boundary checks for CUDA backend primitives, with the CPU backend's wording: every view must
// be on this backend's device, well formed and of the shape the primitive needs. Failures throw
// tabula::Error naming the primitive and the shapes.
#pragma once

#include <cstdint>
#include <string>

#include "tabula/device.hpp"
#include "tabula/matrix.hpp"

namespace tabula::cuda {

/// "100 x 5 row-major (stride 5) on cuda:0".
template <typename T>
std::string describe(const MatrixView<T>& view);

/// Throws unless `view` lives on `device` and is well formed; `what` names it ("gram: x").
template <typename T>
void check_matrix(const MatrixView<T>& view, Device device, const char* what);
/// Throws unless `view` lives on `device` (any device when empty) and has data when non-empty.
template <typename T>
void check_vector(const VectorView<T>& view, Device device, const char* what);

/// Throws unless `view` is `rows x cols`.
template <typename T>
void check_shape(const MatrixView<T>& view, std::int64_t rows, std::int64_t cols, const char* what);

/// Throws unless the matrix is column-major (Cholesky and eigendecomposition work in place).
template <typename T>
void check_col_major(const MatrixView<T>& view, const char* what);

/// Checks the optional weights (empty, or length `total_rows`) and the row subset's view.
/// Index values and weight values are checked on the device (CudaBackend::check_rows).
void check_weights_and_rows(VectorView<const double> weights, RowSubset rows,
                            std::int64_t total_rows, Device device, const char* primitive);

/// `value` as an int for cuBLAS/cuSOLVER; throws Error naming `what` when it does not fit.
int to_int(std::int64_t value, const char* what);

}  // namespace tabula::cuda

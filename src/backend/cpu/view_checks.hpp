// Boundary checks for CPU backend primitives: every view must be on the CPU, well formed
// (stride >= inner dimension, data present when non-empty) and of the shape the primitive needs.
// Failures throw tabula::Error naming the primitive and the shapes.
#pragma once

#include <cstdint>
#include <string>

#include "tabula/matrix.hpp"

namespace tabula::cpu {

/// "100 x 5 row-major (stride 5) on cpu".
template <typename T>
std::string describe(const MatrixView<T>& view);

/// Throws unless `view` lives on the CPU and is well formed; `what` names it ("gram: x").
template <typename T>
void check_matrix(const MatrixView<T>& view, const char* what);
template <typename T>
void check_vector(const VectorView<T>& view, const char* what);

/// Throws unless `view` is `rows x cols`.
template <typename T>
void check_shape(const MatrixView<T>& view, std::int64_t rows, std::int64_t cols, const char* what);

/// Throws unless the matrix is column-major (Cholesky and eigendecomposition work in place).
template <typename T>
void check_col_major(const MatrixView<T>& view, const char* what);

/// Checks the optional weights (empty, or length `total_rows`) and the row subset (on the CPU;
/// indices are range-checked where they are read).
void check_weights_and_rows(VectorView<const double> weights, RowSubset rows,
                            std::int64_t total_rows, const char* primitive);

}  // namespace tabula::cpu

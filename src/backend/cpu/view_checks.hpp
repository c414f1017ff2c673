// Boundary checks for CPU backend primitives: the shared view checks
// (src/backend/view_checks.hpp) with the device fixed to the CPU.
#pragma once

#include <cstdint>

#include "backend/view_checks.hpp"

namespace tabula::cpu {

using ::tabula::check_col_major;
using ::tabula::check_shape;
using ::tabula::describe;

template <typename T>
void check_matrix(const MatrixView<T>& view, const char* what) {
  ::tabula::check_matrix(view, Device::cpu(), what);
}
template <typename T>
void check_vector(const VectorView<T>& view, const char* what) {
  ::tabula::check_vector(view, Device::cpu(), what);
}
inline void check_weights_and_rows(VectorView<const double> weights, RowSubset rows,
                                   std::int64_t total_rows, const char* primitive) {
  ::tabula::check_weights_and_rows(weights, rows, total_rows, Device::cpu(), primitive);
}

}  // namespace tabula::cpu

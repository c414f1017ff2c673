#include "backend/view_checks.hpp"

#include "core/check.hpp"

namespace tabula {

template <typename T>
std::string describe(const MatrixView<T>& view) {
  return std::to_string(view.rows) + " x " + std::to_string(view.cols) +
         (view.layout == Layout::kRowMajor ? " row-major" : " column-major") + " (stride " +
         std::to_string(view.stride) + ") on " + view.device.to_string();
}

void check_device(Device actual, Device device, const char* what) {
  TABULA_CHECK(actual == device, "{} is on {}, but this backend runs on {}", what,
               actual.to_string(), device.to_string());
}

template <typename T>
void check_matrix(const MatrixView<T>& view, Device device, const char* what) {
  check_device(view.device, device, what);
  TABULA_CHECK(view.rows >= 0 && view.cols >= 0, "{} has a negative shape: {}", what,
               describe(view));
  const std::int64_t inner = view.layout == Layout::kRowMajor ? view.cols : view.rows;
  TABULA_CHECK(view.empty() || view.stride >= inner,
               "{} has a stride smaller than its inner dimension: {}", what, describe(view));
  TABULA_CHECK(view.empty() || view.data != nullptr, "{} is {} but has no data", what,
               describe(view));
}

template <typename T>
void check_vector(const VectorView<T>& view, Device device, const char* what) {
  // An empty vector (no weights, say) carries no memory, so its device does not matter.
  if (view.size > 0) check_device(view.device, device, what);
  TABULA_CHECK(view.size >= 0, "{} has a negative size", what);
  TABULA_CHECK(view.size <= 0 || view.data != nullptr, "{} has {} elements but no data", what,
               view.size);
}

template <typename T>
void check_shape(const MatrixView<T>& view, std::int64_t rows, std::int64_t cols,
                 const char* what) {
  TABULA_CHECK(view.rows == rows && view.cols == cols, "{} must be {} x {}, got {}", what, rows,
               cols, describe(view));
}

template <typename T>
void check_col_major(const MatrixView<T>& view, const char* what) {
  TABULA_CHECK(view.layout == Layout::kColMajor, "{} must be column-major, got {}", what,
               describe(view));
}

void check_weights_and_rows(VectorView<const double> weights, RowSubset rows,
                            std::int64_t total_rows, Device device, const char* primitive) {
  const std::string name(primitive);
  check_vector(weights, device, (name + ": weights").c_str());
  TABULA_CHECK(weights.size == 0 || weights.size == total_rows,
               "{}: weights have {} elements, expected 0 (unit weights) or {} (one per row of x)",
               name, weights.size, total_rows);
  if (!rows.is_all()) check_vector(rows.indices, device, (name + ": row subset").c_str());
}

namespace {
const char* op_name(Op op) { return op == Op::kNone ? "" : "ᵀ"; }
}  // namespace

template <typename T>
GemmShape check_gemm(Op op_a, Op op_b, const MatrixView<const T>& a, const MatrixView<const T>& b,
                     const MatrixView<T>& c, Device device) {
  check_matrix(a, device, "gemm: a");
  check_matrix(b, device, "gemm: b");
  check_matrix(c, device, "gemm: c");
  const std::int64_t m = op_a == Op::kNone ? a.rows : a.cols;
  const std::int64_t k = op_a == Op::kNone ? a.cols : a.rows;
  const std::int64_t kb = op_b == Op::kNone ? b.rows : b.cols;
  const std::int64_t n = op_b == Op::kNone ? b.cols : b.rows;
  TABULA_CHECK(k == kb && c.rows == m && c.cols == n,
               "gemm: c = a{} b{} does not fit: a is {}, b is {}, c is {}", op_name(op_a),
               op_name(op_b), describe(a), describe(b), describe(c));
  return {m, n, k};
}

template <typename T>
GemvShape check_gemv(Op op_a, const MatrixView<const T>& a, const VectorView<const T>& x,
                     const VectorView<T>& y, Device device) {
  check_matrix(a, device, "gemv: a");
  check_vector(x, device, "gemv: x");
  check_vector(y, device, "gemv: y");
  const std::int64_t out = op_a == Op::kNone ? a.rows : a.cols;
  const std::int64_t in = op_a == Op::kNone ? a.cols : a.rows;
  TABULA_CHECK(x.size == in && y.size == out,
               "gemv: y = a{} x does not fit: a is {}, x has {} elements, y has {}", op_name(op_a),
               describe(a), x.size, y.size);
  return {out, in};
}

void check_cholesky_solve(const MatrixView<double>& a, const MatrixView<double>& b, Device device) {
  check_matrix(a, device, "cholesky_solve: a");
  check_matrix(b, device, "cholesky_solve: b");
  check_col_major(a, "cholesky_solve: a");
  check_col_major(b, "cholesky_solve: b");
  TABULA_CHECK(a.cols == a.rows && b.rows == a.rows,
               "cholesky_solve: a must be n x n and b n x k; a is {}, b is {}", describe(a),
               describe(b));
}

void check_symmetric_eigen(const MatrixView<double>& a, const VectorView<double>& eigenvalues,
                           Device device) {
  check_matrix(a, device, "symmetric_eigen: a");
  check_vector(eigenvalues, device, "symmetric_eigen: eigenvalues");
  check_col_major(a, "symmetric_eigen: a");
  TABULA_CHECK(a.cols == a.rows && eigenvalues.size == a.rows,
               "symmetric_eigen: a must be n x n with n eigenvalues; a is {}, eigenvalues has {} "
               "elements",
               describe(a), eigenvalues.size);
}

#define TABULA_INSTANTIATE(T)                                                               \
  template std::string describe(const MatrixView<T>&);                                      \
  template void check_matrix(const MatrixView<T>&, Device, const char*);                    \
  template void check_vector(const VectorView<T>&, Device, const char*);                    \
  template void check_shape(const MatrixView<T>&, std::int64_t, std::int64_t, const char*); \
  template void check_col_major(const MatrixView<T>&, const char*);
TABULA_INSTANTIATE(float)
TABULA_INSTANTIATE(const float)
TABULA_INSTANTIATE(double)
TABULA_INSTANTIATE(const double)
#undef TABULA_INSTANTIATE
// The forest's integer views (checked by every backend, and by the CPU fallback before it copies).
#define TABULA_INSTANTIATE_INTEGER(T)                                    \
  template void check_matrix(const MatrixView<T>&, Device, const char*); \
  template void check_vector(const VectorView<T>&, Device, const char*);
TABULA_INSTANTIATE_INTEGER(std::uint8_t)
TABULA_INSTANTIATE_INTEGER(const std::uint8_t)
TABULA_INSTANTIATE_INTEGER(std::int32_t)
TABULA_INSTANTIATE_INTEGER(const std::int32_t)
TABULA_INSTANTIATE_INTEGER(std::int64_t)
TABULA_INSTANTIATE_INTEGER(const std::int64_t)
#undef TABULA_INSTANTIATE_INTEGER
template GemmShape check_gemm(Op, Op, const MatrixView<const float>&,
                              const MatrixView<const float>&, const MatrixView<float>&, Device);
template GemmShape check_gemm(Op, Op, const MatrixView<const double>&,
                              const MatrixView<const double>&, const MatrixView<double>&, Device);
template GemvShape check_gemv(Op, const MatrixView<const float>&, const VectorView<const float>&,
                              const VectorView<float>&, Device);
template GemvShape check_gemv(Op, const MatrixView<const double>&, const VectorView<const double>&,
                              const VectorView<double>&, Device);

}  // namespace tabula

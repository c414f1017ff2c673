#include "backend/view_checks.hpp"

#include "tabula/error.hpp"

namespace tabula {

template <typename T>
std::string describe(const MatrixView<T>& view) {
  return std::to_string(view.rows) + " x " + std::to_string(view.cols) +
         (view.layout == Layout::kRowMajor ? " row-major" : " column-major") + " (stride " +
         std::to_string(view.stride) + ") on " + view.device.to_string();
}

template <typename T>
void check_matrix(const MatrixView<T>& view, Device device, const char* what) {
  if (view.device != device)
    throw Error(std::string(what) + " is on " + view.device.to_string() +
                ", but this backend runs on " + device.to_string());
  if (view.rows < 0 || view.cols < 0)
    throw Error(std::string(what) + " has a negative shape: " + describe(view));
  const std::int64_t inner = view.layout == Layout::kRowMajor ? view.cols : view.rows;
  if (!view.empty() && view.stride < inner)
    throw Error(std::string(what) +
                " has a stride smaller than its inner dimension: " + describe(view));
  if (!view.empty() && view.data == nullptr)
    throw Error(std::string(what) + " is " + describe(view) + " but has no data");
}

template <typename T>
void check_vector(const VectorView<T>& view, Device device, const char* what) {
  // An empty vector (no weights, say) carries no memory, so its device does not matter.
  if (view.size > 0 && view.device != device)
    throw Error(std::string(what) + " is on " + view.device.to_string() +
                ", but this backend runs on " + device.to_string());
  if (view.size < 0) throw Error(std::string(what) + " has a negative size");
  if (view.size > 0 && view.data == nullptr)
    throw Error(std::string(what) + " has " + std::to_string(view.size) + " elements but no data");
}

template <typename T>
void check_shape(const MatrixView<T>& view, std::int64_t rows, std::int64_t cols,
                 const char* what) {
  if (view.rows != rows || view.cols != cols)
    throw Error(std::string(what) + " must be " + std::to_string(rows) + " x " +
                std::to_string(cols) + ", got " + describe(view));
}

template <typename T>
void check_col_major(const MatrixView<T>& view, const char* what) {
  if (view.layout != Layout::kColMajor)
    throw Error(std::string(what) + " must be column-major, got " + describe(view));
}

void check_weights_and_rows(VectorView<const double> weights, RowSubset rows,
                            std::int64_t total_rows, Device device, const char* primitive) {
  const std::string name(primitive);
  check_vector(weights, device, (name + ": weights").c_str());
  if (weights.size != 0 && weights.size != total_rows)
    throw Error(name + ": weights have " + std::to_string(weights.size) +
                " elements, expected 0 (unit weights) or " + std::to_string(total_rows) +
                " (one per row of x)");
  if (!rows.is_all()) check_vector(rows.indices, device, (name + ": row subset").c_str());
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
template void check_vector(const VectorView<const std::int64_t>&, Device, const char*);
template void check_vector(const VectorView<std::int64_t>&, Device, const char*);

}  // namespace tabula

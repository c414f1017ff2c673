// Non-owning views of dense matrices and vectors. A view states its shape, stride, layout and
// the device whose memory holds the data; primitives check these at the API boundary
// (src/backend/view_checks.hpp). Kernels take these same types (CUDA sources are C++20).
#pragma once

#include <cstdint>
#include <type_traits>

#include "tabula/core/device.hpp"

/// Marks view members that kernels call: host and device functions under nvcc, nothing in
/// host-only compiles (no CUDA syntax reaches a host compiler).
#if defined(__CUDACC__)
#define TABULA_HOST_DEVICE __host__ __device__
#else
#define TABULA_HOST_DEVICE
#endif

namespace tabula {

enum class Layout { kRowMajor, kColMajor };

/// A rows x cols matrix. Element (i, j) is data[i * stride + j] in row-major layout and
/// data[j * stride + i] in column-major layout; `stride` is the leading dimension
/// (>= cols for row-major, >= rows for column-major). `data` lives in `device` memory.
template <typename T>
struct MatrixView {
  T* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;
  Layout layout = Layout::kRowMajor;
  Device device = Device::cpu();

  static MatrixView row_major(T* data, std::int64_t rows, std::int64_t cols,
                              Device device = Device::cpu()) {
    return {data, rows, cols, cols, Layout::kRowMajor, device};
  }
  static MatrixView col_major(T* data, std::int64_t rows, std::int64_t cols,
                              Device device = Device::cpu()) {
    return {data, rows, cols, rows, Layout::kColMajor, device};
  }

  /// Offset of element (i, j) from `data`.
  TABULA_HOST_DEVICE std::int64_t offset(std::int64_t i, std::int64_t j) const {
    return layout == Layout::kRowMajor ? i * stride + j : j * stride + i;
  }
  /// Element access, where the memory is: host code for the CPU, a kernel for a CUDA device.
  TABULA_HOST_DEVICE T& operator()(std::int64_t i, std::int64_t j) const {
    return data[offset(i, j)];
  }
  TABULA_HOST_DEVICE bool is_row_major() const { return layout == Layout::kRowMajor; }

  TABULA_HOST_DEVICE bool empty() const { return rows == 0 || cols == 0; }
  /// True when the elements are one dense block (stride equals the inner dimension).
  TABULA_HOST_DEVICE bool contiguous() const {
    return stride == (layout == Layout::kRowMajor ? cols : rows);
  }

  /// Every view converts to its read-only counterpart.
  operator MatrixView<const T>() const requires(!std::is_const_v<T>) {
    return {data, rows, cols, stride, layout, device};
  }
};

/// A dense vector of `size` elements in `device` memory.
template <typename T>
struct VectorView {
  T* data = nullptr;
  std::int64_t size = 0;
  Device device = Device::cpu();

  /// Element access, where the memory is (host code for the CPU, a kernel for a CUDA device).
  TABULA_HOST_DEVICE T& operator[](std::int64_t i) const { return data[i]; }

  operator VectorView<const T>() const requires(!std::is_const_v<T>) {
    return {data, size, device};
  }
};

/// A subset of rows, by index (ascending order not required; duplicates allowed, as in a
/// bootstrap sample). An empty subset (`indices.data == nullptr`) means every row.
struct RowSubset {
  VectorView<const std::int64_t> indices;

  static RowSubset all() { return {}; }
  bool is_all() const { return indices.data == nullptr; }
  /// Number of rows selected from a matrix of `total_rows` rows.
  std::int64_t count(std::int64_t total_rows) const { return is_all() ? total_rows : indices.size; }
};

}  // namespace tabula

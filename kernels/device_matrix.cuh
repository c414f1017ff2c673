// The plain description of a strided matrix in device memory that kernel launchers take. No
// CUDA syntax here: host C++ files include it too.
#pragma once

#include <cstdint>

namespace tabula::kernels {

/// rows x cols; element (i, j) is data[i * stride + j] when row_major, else data[j * stride + i].
template <typename T>
struct DeviceMatrix {
  const T* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;
  bool row_major = true;
};

}  // namespace tabula::kernels

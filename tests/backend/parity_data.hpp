// Test data for the backend parity suite: host matrices of any layout and stride (padding
// filled with NaN, so a primitive that reads or writes outside the view is caught), their
// copies on a device, and the list of devices to run on.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula::testing {

/// A rows x cols host matrix with `stride` >= its inner dimension; padding holds NaN.
template <typename T>
struct HostMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;
  Layout layout = Layout::kRowMajor;
  std::vector<T> values;

  static HostMatrix nan_filled(std::int64_t rows, std::int64_t cols, Layout layout,
                               std::int64_t pad = 0) {
    HostMatrix m;
    m.rows = rows;
    m.cols = cols;
    m.layout = layout;
    m.stride = (layout == Layout::kRowMajor ? cols : rows) + pad;
    const std::int64_t outer = layout == Layout::kRowMajor ? rows : cols;
    m.values.assign(static_cast<std::size_t>(outer * m.stride),
                    std::numeric_limits<T>::quiet_NaN());
    return m;
  }
  std::int64_t offset(std::int64_t i, std::int64_t j) const {
    return layout == Layout::kRowMajor ? i * stride + j : j * stride + i;
  }
  T& operator()(std::int64_t i, std::int64_t j) { return values[offset(i, j)]; }
  T operator()(std::int64_t i, std::int64_t j) const { return values[offset(i, j)]; }
  /// Whether every element outside the rows x cols view is still NaN.
  bool padding_untouched() const {
    const std::int64_t inner = layout == Layout::kRowMajor ? cols : rows;
    for (std::size_t p = 0; p < values.size(); ++p)
      if (static_cast<std::int64_t>(p) % stride >= inner && !std::isnan(values[p])) return false;
    return true;
  }
};

/// Uniform values in [offset - scale, offset + scale), rounded to T, from an explicit seed.
template <typename T>
HostMatrix<T> random_matrix(std::int64_t rows, std::int64_t cols, Layout layout, std::int64_t pad,
                            std::mt19937_64& rng, double offset = 0.0, double scale = 1.0) {
  HostMatrix<T> m = HostMatrix<T>::nan_filled(rows, cols, layout, pad);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) m(i, j) = static_cast<T>(offset + scale * uniform(rng));
  return m;
}

/// Weights in [0, 2) with roughly one in four exactly zero.
inline std::vector<double> random_weights(std::int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(0.0, 2.0);
  std::vector<double> w(static_cast<std::size_t>(n));
  for (double& v : w) v = uniform(rng) < 0.5 ? 0.0 : uniform(rng);
  return w;
}

/// `count` row numbers in [0, n), in random order with duplicates (a bootstrap sample).
inline std::vector<std::int64_t> random_subset(std::int64_t n, std::int64_t count,
                                               std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> pick(0, n - 1);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(count));
  for (std::int64_t& r : rows) r = pick(rng);
  return rows;
}

/// A HostMatrix copied to a backend's device, same layout and stride.
template <typename T>
struct DeviceMatrix {
  Buffer<T> buffer;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;
  Layout layout = Layout::kRowMajor;

  static DeviceMatrix upload(Backend& backend, const HostMatrix<T>& host) {
    return {Buffer<T>::from_host(backend, std::span<const T>(host.values)), host.rows, host.cols,
            host.stride, host.layout};
  }
  MatrixView<T> view() { return {buffer.data(), rows, cols, stride, layout, buffer.device()}; }
  MatrixView<const T> view() const {
    return {buffer.data(), rows, cols, stride, layout, buffer.device()};
  }
  HostMatrix<T> download() const {
    HostMatrix<T> host{rows, cols, stride, layout, buffer.to_host()};
    return host;
  }
};

/// A vector on the device; empty input gives an empty view (unit weights, all rows).
template <typename T>
struct DeviceVector {
  Buffer<T> buffer;
  static DeviceVector upload(Backend& backend, const std::vector<T>& host) {
    return {Buffer<T>::from_host(backend, std::span<const T>(host))};
  }
  VectorView<const T> view() const { return buffer.view(); }
  VectorView<T> view() { return buffer.view(); }
};

/// One device of the parity suite. `available` is false for the placeholder GPU case of a
/// machine without a usable CUDA device, which skips (or fails under TABULA_REQUIRE_GPU=1).
struct DeviceCase {
  std::string name;
  Device device;
  bool available = true;
};

/// How gtest prints a case ("cpu", "cuda_unavailable") in failure messages.
inline void PrintTo(const DeviceCase& c, std::ostream* os) { *os << c.name; }

inline std::vector<DeviceCase> device_cases() {
  std::vector<DeviceCase> cases;
  bool has_cuda = false;
  for (const DeviceInfo& info : DeviceRegistry::instance().devices()) {
    has_cuda = has_cuda || info.device.is_cuda();
    std::string name = info.device.to_string();
    for (char& c : name)
      if (c == ':') c = '_';
    cases.push_back({name, info.device, true});
  }
  if (!has_cuda) cases.push_back({"cuda_unavailable", Device::cuda(0), false});
  return cases;
}

}  // namespace tabula::testing

// Where the forest's inputs live: views used in place when they already are in the right
// memory (host data on the CPU backend), copied otherwise. Residency checks, not device-kind
// branches: the same code runs on every backend.
#pragma once

#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula {

/// A read-only host vector seen on `backend`: in place when the backend's memory is the host's,
/// else a copy in a Buffer.
template <typename T>
class DeviceVector {
 public:
  DeviceVector(Backend& backend, std::span<const T> host) {
    if (backend.device() == Device::cpu()) {
      view_ = {host.data(), static_cast<std::int64_t>(host.size()), Device::cpu()};
    } else {
      copy_ = Buffer<T>::from_host(backend, host);
      view_ = std::as_const(copy_).view();
    }
  }
  DeviceVector(Backend& backend, const std::vector<T>& host)
      : DeviceVector(backend, std::span<const T>(host)) {}
  VectorView<const T> view() const { return view_; }

 private:
  Buffer<T> copy_;
  VectorView<const T> view_;
};

/// A matrix seen on `backend`, row-major: in place when it already is there, else copied
/// (dense) from the host.
class DeviceMatrix {
 public:
  DeviceMatrix(Backend& backend, MatrixView<const float> x) {
    if (x.device == backend.device()) {
      view_ = x;
      return;
    }
    TABULA_ASSERT(x.device.is_cpu(), "DeviceMatrix: input must be host or backend memory");
    std::vector<float> dense(static_cast<std::size_t>(x.rows * x.cols));
    for (std::int64_t i = 0; i < x.rows; ++i)
      for (std::int64_t j = 0; j < x.cols; ++j)
        dense[static_cast<std::size_t>(i * x.cols + j)] = x(i, j);
    copy_ = Buffer<float>::from_host(backend, dense);
    view_ = std::as_const(copy_).matrix(x.rows, x.cols, Layout::kRowMajor);
  }
  MatrixView<const float> view() const { return view_; }

 private:
  Buffer<float> copy_;
  MatrixView<const float> view_;
};

/// A matrix seen in host memory: in place when it is there, else copied from `backend`.
class HostMatrix {
 public:
  HostMatrix(Backend& backend, MatrixView<const float> x) {
    if (x.device.is_cpu()) {
      view_ = x;
      return;
    }
    TABULA_ASSERT(x.contiguous(), "HostMatrix: device matrices must be dense");
    copy_.resize(static_cast<std::size_t>(x.rows * x.cols));
    backend.copy_to_host(copy_.data(), x.data, copy_.size() * sizeof(float));
    view_ = {copy_.data(), x.rows,       x.cols, x.layout == Layout::kRowMajor ? x.cols : x.rows,
             x.layout,     Device::cpu()};
  }
  MatrixView<const float> view() const { return view_; }

 private:
  std::vector<float> copy_;
  MatrixView<const float> view_;
};

}  // namespace tabula

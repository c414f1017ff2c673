// Owning device memory. A Buffer belongs to one Backend (which must outlive it) and frees its
// memory when destroyed; it can be moved, not copied.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula {

template <typename T>
class Buffer {
 public:
  Buffer() = default;
  /// `size` uninitialised elements on `backend`'s device.
  Buffer(Backend& backend, std::int64_t size)
      : backend_(&backend),
        data_(size > 0 ? static_cast<T*>(backend.allocate(bytes_for(size))) : nullptr),
        size_(size) {}

  /// A copy of `host` on `backend`'s device.
  static Buffer from_host(Backend& backend, std::span<const T> host) {
    Buffer buffer(backend, static_cast<std::int64_t>(host.size()));
    buffer.copy_from_host(host);
    return buffer;
  }
  /// `size` zeros on `backend`'s device.
  static Buffer zeros(Backend& backend, std::int64_t size) {
    Buffer buffer(backend, size);
    if (size > 0) backend.fill_zero(buffer.data_, bytes_for(size));
    return buffer;
  }

  Buffer(Buffer&& other) noexcept { swap(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    Buffer(std::move(other)).swap(*this);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (data_ != nullptr) backend_->deallocate(data_, bytes_for(size_));
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::int64_t size() const { return size_; }
  Device device() const { return backend_ ? backend_->device() : Device::cpu(); }
  Backend* backend() const { return backend_; }

  VectorView<T> view() { return {data_, size_, device()}; }
  VectorView<const T> view() const { return {data_, size_, device()}; }
  /// The buffer seen as a dense rows x cols matrix (rows * cols must equal size()).
  MatrixView<T> matrix(std::int64_t rows, std::int64_t cols, Layout layout) {
    check_same_size(rows * cols);
    return {data_, rows, cols, layout == Layout::kRowMajor ? cols : rows, layout, device()};
  }
  MatrixView<const T> matrix(std::int64_t rows, std::int64_t cols, Layout layout) const {
    check_same_size(rows * cols);
    return {data_, rows, cols, layout == Layout::kRowMajor ? cols : rows, layout, device()};
  }

  void copy_from_host(std::span<const T> host) {
    check_same_size(static_cast<std::int64_t>(host.size()));
    if (size_ > 0) backend_->copy_from_host(data_, host.data(), bytes_for(size_));
  }
  std::vector<T> to_host() const {
    std::vector<T> host(static_cast<std::size_t>(size_));
    if (size_ > 0) backend_->copy_to_host(host.data(), data_, bytes_for(size_));
    return host;
  }

 private:
  static std::size_t bytes_for(std::int64_t n) { return static_cast<std::size_t>(n) * sizeof(T); }
  void check_same_size(std::int64_t n) const {
    if (n != size_)
      throw Error("Buffer: expected " + std::to_string(size_) + " elements, got " +
                  std::to_string(n));
  }
  void swap(Buffer& other) noexcept {
    std::swap(backend_, other.backend_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  std::int64_t size_ = 0;
};

/// A host matrix made available to a backend for the length of a fit: used in place where the
/// backend works on host memory (the CPU), copied to the device once otherwise, so the CPU
/// path does not pay for a copy of the whole data set. The view is row-major and contiguous;
/// a strided or column-major host matrix is packed first. The host data must outlive this
/// object and stay unchanged while it is used.
template <typename T>
class ResidentMatrix {
 public:
  ResidentMatrix(Backend& backend, MatrixView<const T> host) {
    const bool dense = host.layout == Layout::kRowMajor && host.contiguous();
    if (dense && backend.uses_host_memory()) {
      view_ = host;
      view_.device = backend.device();
      return;
    }
    std::vector<T> packed;
    std::span<const T> values(host.data, static_cast<std::size_t>(host.rows * host.cols));
    if (!dense) {
      packed.resize(static_cast<std::size_t>(host.rows * host.cols));
      for (std::int64_t i = 0; i < host.rows; ++i)
        for (std::int64_t j = 0; j < host.cols; ++j) packed[i * host.cols + j] = host(i, j);
      values = packed;
    }
    owned_ = Buffer<T>::from_host(backend, values);
    view_ = std::as_const(owned_).matrix(host.rows, host.cols, Layout::kRowMajor);
  }

  MatrixView<const T> view() const { return view_; }

 private:
  Buffer<T> owned_;
  MatrixView<const T> view_;
};

}  // namespace tabula

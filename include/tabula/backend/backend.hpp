// The device interface: a small core (the device, memory, copies, synchronisation) and one
// interface per op family (linalg_ops.hpp, logistic_ops.hpp, forest_ops.hpp). Algorithms are
// written once against Backend&; only the ops have a CPU version (the reference, in
// src/backend/cpu) and a CUDA version (src/backend/cuda). No CUDA type appears here.
//
// Conventions for every op:
// - Every pointer and view lives in this backend's device memory (views are checked).
// - Work is ordered on the backend's stream; results are ready for copy_to_host, which
//   synchronizes. Nothing else synchronizes implicitly.
// - Sums over rows accumulate in float64 whatever the input type, in an order that does not
//   depend on the number of threads, so a result is reproducible bit for bit on one device.
// - Shapes that do not fit throw tabula::Error naming the primitive and the shapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "tabula/backend/backend_op.hpp"
#include "tabula/backend/forest_ops.hpp"
#include "tabula/backend/linalg_ops.hpp"
#include "tabula/backend/logistic_ops.hpp"
#include "tabula/core/device.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula {

class OpRouting;

class Backend {
 public:
  virtual ~Backend();
  Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  /// The concrete device this backend runs on (never auto).
  virtual Device device() const = 0;

  // ---- Memory -------------------------------------------------------------------------------
  /// Allocates `bytes` (aligned to at least 256 bytes) of device memory. Throws DeviceError
  /// when out of memory. Prefer Buffer<T>, which owns the allocation.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* ptr, std::size_t bytes) noexcept = 0;
  /// Host -> device, device -> host and device -> device copies of `bytes`.
  /// copy_to_host returns once the data is in host memory.
  virtual void copy_from_host(void* device_dst, const void* host_src, std::size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) = 0;
  virtual void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes) = 0;
  /// Sets `bytes` bytes to zero.
  virtual void fill_zero(void* device_ptr, std::size_t bytes) = 0;
  /// Waits until all queued work is done.
  virtual void synchronize() = 0;
  /// True when this device's memory is host memory (the CPU): host data can then be used in
  /// place rather than copied (see ResidentMatrix).
  virtual bool uses_host_memory() const { return false; }

  // ---- Ops ----------------------------------------------------------------------------------
  /// Whether this backend runs `op` itself. An op it declines runs on the CPU backend instead:
  /// its inputs are copied to the host, its outputs back, and the first such call per op logs
  /// one line. So a new backend can start with a few ops.
  virtual bool supports(BackendOp op) const = 0;

  /// The op families, as this backend runs them (its own ops, the CPU's for the ones it
  /// declines). Thread-safe where the backend's ops are.
  LinalgOps& linalg();
  LogisticOps& logistic();
  ForestOps& forest();

 protected:
  /// This backend's own implementation of each family, or null for a family it has none of
  /// (supports() is then false for all the family's ops).
  virtual LinalgOps* native_linalg() { return nullptr; }
  virtual LogisticOps* native_logistic() { return nullptr; }
  virtual ForestOps* native_forest() { return nullptr; }

 private:
  friend class OpRouting;
  OpRouting& routing();

  std::once_flag routing_once_;
  std::unique_ptr<OpRouting> routing_;
};

}  // namespace tabula

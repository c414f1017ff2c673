// The explicit registry of devices: the CPU always, plus each usable CUDA device in a CUDA
// build. It owns one Backend per device, created on first use.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/device.hpp"

namespace tabula {

/// What `tabula devices` shows about a device.
struct DeviceInfo {
  Device device;
  std::string name;                // CPU model or GPU name
  int cores = 0;                   // CPU: hardware threads; CUDA: streaming multiprocessors
  std::string simd;                // CPU: best vector extension ("AVX-512", "AVX2", "NEON")
  std::uint64_t memory_bytes = 0;  // CPU: physical memory; CUDA: global memory
  int compute_major = 0;           // CUDA compute capability
  int compute_minor = 0;
};

class DeviceRegistry {
 public:
  /// The process-wide registry. The CPU is probed on first call; CUDA devices once, when first
  /// needed (devices(), auto, cuda:N), so a CPU-only run never loads the CUDA plugin.
  static DeviceRegistry& instance();

  /// The CPU first, then CUDA devices by ordinal.
  const std::vector<DeviceInfo>& devices() const;

  /// True when this binary was built with CUDA support.
  bool cuda_built() const;
  /// Why no CUDA device is usable (empty when at least one is).
  const std::string& cuda_unavailable_reason() const;

  /// Maps auto, cpu or cuda:N to a usable concrete device. `auto` picks cuda:0 when usable,
  /// else the CPU, logging the choice once. Asking for an unusable CUDA device throws
  /// DeviceError saying why.
  Device resolve(Device requested) const;
  /// One sentence on what `auto` picks and why.
  std::string auto_choice_reason() const;

  /// The backend of a device (resolved first), created on first use and kept for the process.
  Backend& backend(Device device);

 private:
  DeviceRegistry();
  void probe_cuda_once() const;

  // Filled by probe_cuda_once (devices_ holds the CPU before that).
  mutable std::once_flag cuda_probed_;
  mutable std::vector<DeviceInfo> devices_;
  mutable std::string cuda_reason_;
  std::mutex mutex_;
  std::map<std::pair<int, int>, std::unique_ptr<Backend>> backends_;
};

/// The backend of the default device, set by `--device` (auto unless told otherwise).
Backend& default_backend();
void set_default_device(Device device);
Device default_device();

}  // namespace tabula

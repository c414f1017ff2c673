// How the registry reaches the backends. The CUDA functions are implemented in
// src/backend/cuda (CUDA builds) or src/backend/no_cuda.cpp (CPU-only builds).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/device_registry.hpp"

namespace tabula {

std::unique_ptr<Backend> make_cpu_backend();
/// The CPU row of `tabula devices`.
DeviceInfo probe_cpu();

/// True in a CUDA build.
bool cuda_built();
/// The usable CUDA devices; when there are none, `reason` says why (no driver, no device...).
std::vector<DeviceInfo> probe_cuda_devices(std::string& reason);
/// A backend on CUDA device `ordinal`; throws DeviceError in a CPU-only build.
std::unique_ptr<Backend> make_cuda_backend(int ordinal);

}  // namespace tabula

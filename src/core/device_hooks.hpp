// What the device registry needs from the backends. Declared here, in core, and defined by the
// backend layer (src/backend/cpu for the CPU; src/backend/cuda_loader.cpp, or no_cuda.cpp in a
// CPU-only build, for CUDA): the registry calls down through these hooks and never includes
// backend code, and the link ties the two together.
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
/// The usable CUDA devices; when there are none, `reason` says why (no driver, no device, no
/// plugin...). Never throws. A CUDA build loads its plugin here, unless no driver is installed.
std::vector<DeviceInfo> probe_cuda_devices(std::string& reason);
/// A backend on CUDA device `ordinal`; throws DeviceError when it cannot be made (CPU-only
/// build, plugin missing, device failing).
std::unique_ptr<Backend> make_cuda_backend(int ordinal);

}  // namespace tabula

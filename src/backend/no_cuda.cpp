// CPU-only builds: CUDA devices do not exist, and asking for one says so.
#include "core/device_hooks.hpp"
#include "tabula/core/error.hpp"

namespace tabula {

bool cuda_built() { return false; }

std::vector<DeviceInfo> probe_cuda_devices(std::string& reason) {
  reason = "this tabula was built without CUDA (TABULA_CUDA=OFF)";
  return {};
}

std::unique_ptr<Backend> make_cuda_backend(int ordinal) {
  throw DeviceError("cuda:" + std::to_string(ordinal) +
                    " requested, but this tabula was built without CUDA (TABULA_CUDA=OFF)");
}

}  // namespace tabula

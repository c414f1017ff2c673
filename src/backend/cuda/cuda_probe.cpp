// The CUDA plugin's entry points (src/backend/cuda_plugin_abi.hpp): which CUDA devices are
// usable, and their backends. Nothing here throws across the plugin's boundary: a machine
// without a driver or a GPU gets a sentence saying why, a failed backend an error text.
#include <cuda_runtime_api.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.hpp"
#include "backend/cuda_plugin_abi.hpp"

namespace tabula {
namespace {

// Turing is the oldest architecture the compute_75 PTX in this build runs on.
constexpr int kMinComputeMajor = 7;
constexpr int kMinComputeMinor = 5;

std::string error_text(cudaError_t error) {
  return std::string(cudaGetErrorName(error)) + ": " + cudaGetErrorString(error);
}

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

// Why cudaGetDeviceCount failed, in words a user can act on.
std::string explain_no_devices(cudaError_t error) {
  int driver = 0;
  const cudaError_t driver_error = cudaDriverGetVersion(&driver);
  cudaGetLastError();
  if (driver_error == cudaSuccess && driver == 0)
    return std::string(
               "no NVIDIA driver was found (libcuda.so.1 could not be loaded; CUDA runtime: ") +
           cudaGetErrorName(error) + ")";
  if (error == cudaErrorInsufficientDriver)
    return "the NVIDIA driver supports CUDA " + version_text(driver) + ", older than the CUDA " +
           version_text(CUDART_VERSION) + " runtime of this build (" + error_text(error) + ")";
  if (error == cudaErrorNoDevice) return "no CUDA device was found (" + error_text(error) + ")";
  return "the CUDA runtime could not list devices (" + error_text(error) + ")";
}

std::vector<DeviceInfo> probe_devices(std::string& reason) {
  reason.clear();
  std::vector<DeviceInfo> devices;
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    cudaGetLastError();  // leave no error behind for later checked calls
    reason = explain_no_devices(error);
    return devices;
  }
  if (count == 0) {
    reason = "no CUDA device was found";
    return devices;
  }
  std::string skipped;
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    cudaDeviceProp prop{};
    const cudaError_t prop_error = cudaGetDeviceProperties(&prop, ordinal);
    if (prop_error != cudaSuccess) {
      cudaGetLastError();
      skipped += (skipped.empty() ? "" : "; ") + std::string("cuda:") + std::to_string(ordinal) +
                 " could not be queried (" + error_text(prop_error) + ")";
      continue;
    }
    if (prop.major < kMinComputeMajor ||
        (prop.major == kMinComputeMajor && prop.minor < kMinComputeMinor)) {
      skipped += (skipped.empty() ? "" : "; ") + std::string("cuda:") + std::to_string(ordinal) +
                 " (" + prop.name + ") has compute capability " + std::to_string(prop.major) + "." +
                 std::to_string(prop.minor) + ", below the 7.5 this build needs";
      continue;
    }
    DeviceInfo info;
    info.device = Device::cuda(ordinal);
    info.name = prop.name;
    info.cores = prop.multiProcessorCount;
    info.memory_bytes = prop.totalGlobalMem;
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    devices.push_back(std::move(info));
  }
  // The reason is for "no usable device"; devices skipped next to usable ones are not an error.
  if (devices.empty()) reason = skipped;
  return devices;
}

}  // namespace
}  // namespace tabula

#define TABULA_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

TABULA_PLUGIN_EXPORT const char* tabula_cuda_plugin_abi() {
  static const std::string tag = tabula::cuda_plugin_abi_tag();
  return tag.c_str();
}

TABULA_PLUGIN_EXPORT void tabula_cuda_plugin_probe(std::vector<tabula::DeviceInfo>* devices,
                                                   std::string* reason) {
  try {
    *devices = tabula::probe_devices(*reason);
  } catch (const std::exception& e) {
    devices->clear();
    *reason = std::string("probing CUDA devices failed: ") + e.what();
  }
}

TABULA_PLUGIN_EXPORT tabula::Backend* tabula_cuda_plugin_create(int ordinal, void* logger,
                                                                std::string* error) {
  try {
    // With header-only spdlog the plugin has its own registry: log through the program's.
    if (logger != nullptr)
      spdlog::set_default_logger(*static_cast<std::shared_ptr<spdlog::logger>*>(logger));
    return std::make_unique<tabula::cuda::CudaBackend>(ordinal).release();
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
}

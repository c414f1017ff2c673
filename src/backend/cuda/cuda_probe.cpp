// CUDA builds: which CUDA devices are usable, and their backends. Probing never throws: a
// machine without a driver or a GPU gets the CPU and a sentence saying why.
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

#include "backend/backend_factory.hpp"
#include "backend/cuda/cuda_backend.hpp"

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

}  // namespace

bool cuda_built() { return true; }

std::vector<DeviceInfo> probe_cuda_devices(std::string& reason) {
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

std::unique_ptr<Backend> make_cuda_backend(int ordinal) {
  return std::make_unique<cuda::CudaBackend>(ordinal);
}

}  // namespace tabula

// The C entry points of the CUDA plugin (libtabula_cuda.so, cmake/CudaPlugin.cmake), shared by
// the plugin (src/backend/cuda/cuda_probe.cpp) and its loader (src/backend/cuda_loader.cpp).
// They pass C++ types (the plugin is built from the same sources, with the same compiler and
// standard library as the program), so the loader first compares the plugin's ABI tag with its
// own and refuses a plugin from another build. No CUDA type here.
#pragma once

#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/version.hpp"

namespace tabula {

/// Changes whenever the types below or the Backend interface change incompatibly.
/// 2: Backend split into a core and op families (linalg, logistic, forest).
inline constexpr int kCudaPluginAbi = 2;

/// "tabula <version> cuda plugin abi <n>": what a plugin and its loader must agree on.
inline std::string cuda_plugin_abi_tag() {
  return std::string("tabula ") + kVersion + " cuda plugin abi " + std::to_string(kCudaPluginAbi);
}

}  // namespace tabula

extern "C" {

/// The plugin's ABI tag (cuda_plugin_abi_tag() as the plugin was built), a static string.
using TabulaCudaPluginAbiFn = const char* (*)();
/// Fills `devices` with the usable CUDA devices; when there are none, `reason` says why (no
/// driver, no device, too old...). Never throws.
using TabulaCudaPluginProbeFn = void (*)(std::vector<tabula::DeviceInfo>* devices,
                                         std::string* reason);
/// A new backend on device `ordinal`, owned by the caller (delete it through Backend's virtual
/// destructor); null with `error` set when the device cannot be used. `logger` is the caller's
/// spdlog default logger (std::shared_ptr<spdlog::logger>*), so the plugin's warnings go where
/// the program's go. Never throws.
using TabulaCudaPluginCreateFn = tabula::Backend* (*)(int ordinal, void* logger,
                                                      std::string* error);

}  // extern "C"

namespace tabula {

/// The exported names, as the loader looks them up.
inline constexpr const char* kCudaPluginAbiSymbol = "tabula_cuda_plugin_abi";
inline constexpr const char* kCudaPluginProbeSymbol = "tabula_cuda_plugin_probe";
inline constexpr const char* kCudaPluginCreateSymbol = "tabula_cuda_plugin_create";

}  // namespace tabula

// CUDA builds: the CUDA backend lives in a plugin, libtabula_cuda.so (cmake/CudaPlugin.cmake),
// loaded here on first need, so a run on the CPU never maps cuBLAS and cuSOLVER (~270 MB
// resident). Before loading it, the NVIDIA driver is asked whether there is a device at all:
// without a driver or a device, the plugin stays unloaded. Nothing here throws while probing;
// the registry gets a sentence saying why no CUDA device is usable.
#include <dlfcn.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "backend/cuda_plugin_abi.hpp"
#include "core/device_hooks.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPluginName = "libtabula_cuda.so";

std::string dl_error() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown error";
}

// The driver API's answer, without CUDA headers: cuInit and cuDeviceGetCount return 0 on
// success. Empty when there is a device, else why not.
std::string driver_says_no_device() {
  void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (driver == nullptr)
    return "no NVIDIA driver was found (libcuda.so.1 could not be loaded: " + dl_error() + ")";
  using InitFn = int (*)(unsigned);
  using CountFn = int (*)(int*);
  auto init = reinterpret_cast<InitFn>(dlsym(driver, "cuInit"));
  auto count_fn = reinterpret_cast<CountFn>(dlsym(driver, "cuDeviceGetCount"));
  int count = 0;
  // Any other failure (an old driver, say) is left to the plugin, whose runtime explains it.
  if (init == nullptr || count_fn == nullptr || init(0) != 0 || count_fn(&count) != 0) return {};
  return count == 0 ? "no CUDA device was found" : "";
}

// Where the plugin may be: TABULA_CUDA_PLUGIN alone when set; else beside libtabula itself (a
// CUDA build's libtabula is shared: the Python package keeps both in one folder, and the
// program there is python), next to the program, in ../lib beside it (an installed layout), and
// where this build tree made it.
std::vector<fs::path> plugin_candidates() {
  if (const char* chosen = std::getenv("TABULA_CUDA_PLUGIN"); chosen != nullptr && *chosen)
    return {fs::path(chosen)};
  std::vector<fs::path> paths;
  Dl_info self{};
  if (dladdr(reinterpret_cast<const void*>(&plugin_candidates), &self) != 0 &&
      self.dli_fname != nullptr)
    paths.push_back(fs::path(self.dli_fname).parent_path() / kPluginName);
  std::error_code error;
  const fs::path program = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    paths.push_back(program.parent_path() / kPluginName);
    paths.push_back(program.parent_path().parent_path() / "lib" / kPluginName);
  }
#ifdef TABULA_CUDA_PLUGIN_BUILD_PATH
  paths.emplace_back(TABULA_CUDA_PLUGIN_BUILD_PATH);
#endif
  return paths;
}

struct Plugin {
  TabulaCudaPluginProbeFn probe = nullptr;
  TabulaCudaPluginCreateFn create = nullptr;
  std::string reason;  // why there is no plugin (probe and create are null)
};

// Opens `path` and binds its entry points; on failure, `plugin.reason` says why. The handle is
// never closed: backends made by the plugin live until the process ends.
Plugin open_plugin(const fs::path& path) {
  Plugin plugin;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    plugin.reason = "the CUDA plugin " + path.string() + " could not be loaded: " + dl_error();
    return plugin;
  }
  auto abi = reinterpret_cast<TabulaCudaPluginAbiFn>(dlsym(handle, kCudaPluginAbiSymbol));
  plugin.probe = reinterpret_cast<TabulaCudaPluginProbeFn>(dlsym(handle, kCudaPluginProbeSymbol));
  plugin.create =
      reinterpret_cast<TabulaCudaPluginCreateFn>(dlsym(handle, kCudaPluginCreateSymbol));
  const std::string expected = cuda_plugin_abi_tag();
  if (abi == nullptr || plugin.probe == nullptr || plugin.create == nullptr || abi() != expected) {
    plugin = Plugin{};
    plugin.reason = "the CUDA plugin " + path.string() + " is not from this build (it says '" +
                    (abi != nullptr ? abi() : "no ABI tag") + "', this program needs '" + expected +
                    "')";
  }
  return plugin;
}

Plugin find_plugin() {
  if (std::string no_device = driver_says_no_device(); !no_device.empty())
    return {.reason = no_device};
  std::string looked;
  for (const fs::path& path : plugin_candidates()) {
    std::error_code error;
    if (fs::exists(path, error)) return open_plugin(path);
    looked += (looked.empty() ? "" : ", ") + path.string();
  }
  return {.reason = "the CUDA backend plugin " + std::string(kPluginName) +
                    " was not found (looked at " + looked +
                    "; set TABULA_CUDA_PLUGIN to its path)"};
}

const Plugin& plugin() {
  static std::once_flag once;
  static Plugin loaded;
  std::call_once(once, [] {
    loaded = find_plugin();
    if (loaded.probe != nullptr) spdlog::debug("loaded the CUDA backend plugin");
  });
  return loaded;
}

}  // namespace

bool cuda_built() { return true; }

std::vector<DeviceInfo> probe_cuda_devices(std::string& reason) {
  std::vector<DeviceInfo> devices;
  const Plugin& loaded = plugin();
  if (loaded.probe == nullptr) {
    reason = loaded.reason;
    return devices;
  }
  reason.clear();
  loaded.probe(&devices, &reason);
  return devices;
}

std::unique_ptr<Backend> make_cuda_backend(int ordinal) {
  const Plugin& loaded = plugin();
  const std::string device = "cuda:" + std::to_string(ordinal);
  if (loaded.create == nullptr) throw DeviceError(device + " requested, but " + loaded.reason);
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  std::string error;
  std::unique_ptr<Backend> backend(loaded.create(ordinal, &logger, &error));
  if (backend == nullptr) throw DeviceError(device + ": " + error);
  return backend;
}

}  // namespace tabula

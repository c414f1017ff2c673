// The CPU row of the device registry: model name, hardware threads, SIMD level, memory.
#include <fstream>
#include <string>

#include "backend/backend_factory.hpp"
#include "core/system_memory.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  }
  return "CPU";
}

std::string simd_level() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "AVX-512";
  if (__builtin_cpu_supports("avx2")) return "AVX2";
  if (__builtin_cpu_supports("avx")) return "AVX";
  if (__builtin_cpu_supports("sse4.2")) return "SSE4.2";
  return "SSE2";
#elif defined(__aarch64__)
  return "NEON";
#else
  return "scalar";
#endif
}

}  // namespace

DeviceInfo probe_cpu() {
  DeviceInfo info;
  info.device = Device::cpu();
  info.name = cpu_model_name();
  info.cores = hardware_threads();
  info.simd = simd_level();
  info.memory_bytes = physical_memory_bytes();
  return info;
}

}  // namespace tabula

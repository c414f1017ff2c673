// tabula devices: what this machine offers and what `auto` picks.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.hpp"
#include "tabula/core/device_registry.hpp"

namespace tabula::cli {
namespace {

std::string gib(std::uint64_t bytes) {
  return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
}

void print_devices() {
  const DeviceRegistry& registry = DeviceRegistry::instance();
  fmt::print("{:<8} {:<40} {}\n", "DEVICE", "NAME", "DETAILS");
  for (const DeviceInfo& info : registry.devices()) {
    std::string details =
        info.device.is_cpu()
            ? fmt::format("{} threads, {}, {} memory", info.cores, info.simd,
                          gib(info.memory_bytes))
            : fmt::format("{} SMs, compute capability {}.{}, {} memory", info.cores,
                          info.compute_major, info.compute_minor, gib(info.memory_bytes));
    fmt::print("{:<8} {:<40} {}\n", info.device.to_string(), info.name, details);
  }
  if (!registry.cuda_unavailable_reason().empty())
    fmt::print("\nCUDA: {}\n", registry.cuda_unavailable_reason());
  fmt::print("{}\n", registry.auto_choice_reason());
  std::fflush(stdout);
}

}  // namespace

void add_devices_command(CLI::App& app, Commands& commands) {
  CLI::App* sub = app.add_subcommand("devices", "List the devices and say which one auto picks");
  commands.push_back({sub, print_devices});
}

}  // namespace tabula::cli

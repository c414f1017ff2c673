#include "tabula/core/device_registry.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

#include "core/device_hooks.hpp"
#include "tabula/core/error.hpp"

namespace tabula {

DeviceRegistry& DeviceRegistry::instance() {
  static DeviceRegistry registry;
  return registry;
}

DeviceRegistry::DeviceRegistry() { devices_.push_back(probe_cpu()); }

void DeviceRegistry::probe_cuda_once() const {
  std::call_once(cuda_probed_, [this] {
    for (DeviceInfo& info : probe_cuda_devices(cuda_reason_)) devices_.push_back(std::move(info));
  });
}

const std::vector<DeviceInfo>& DeviceRegistry::devices() const {
  probe_cuda_once();
  return devices_;
}

const std::string& DeviceRegistry::cuda_unavailable_reason() const {
  probe_cuda_once();
  return cuda_reason_;
}

bool DeviceRegistry::cuda_built() const { return tabula::cuda_built(); }

std::string DeviceRegistry::auto_choice_reason() const {
  probe_cuda_once();
  if (devices_.size() > 1)
    return "auto picks " + devices_[1].device.to_string() + " (" + devices_[1].name +
           "), the first usable CUDA device";
  return "auto picks the CPU: " + cuda_reason_;
}

Device DeviceRegistry::resolve(Device requested) const {
  if (requested.kind == DeviceKind::kCpu) return Device::cpu();
  probe_cuda_once();
  if (requested.kind == DeviceKind::kAuto) {
    static std::atomic<bool> logged{false};
    const bool has_cuda = devices_.size() > 1;
    if (!logged.exchange(true)) {
      if (has_cuda)
        spdlog::info("device auto: using {} ({})", devices_[1].device.to_string(),
                     devices_[1].name);
      else
        spdlog::info("device auto: no usable CUDA device ({}); using the CPU", cuda_reason_);
    }
    return has_cuda ? devices_[1].device : Device::cpu();
  }
  for (const DeviceInfo& info : devices_)
    if (info.device == requested) return requested;
  if (devices_.size() == 1)
    throw DeviceError("device " + requested.to_string() + " requested, but " + cuda_reason_);
  throw DeviceError("device " + requested.to_string() + " requested, but only " +
                    std::to_string(devices_.size() - 1) + " CUDA device(s) are usable");
}

Backend& DeviceRegistry::backend(Device device) {
  const Device resolved = resolve(device);
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(static_cast<int>(resolved.kind), resolved.ordinal);
  auto found = backends_.find(key);
  if (found != backends_.end()) return *found->second;
  std::unique_ptr<Backend> created =
      resolved.is_cpu() ? make_cpu_backend() : make_cuda_backend(resolved.ordinal);
  return *backends_.emplace(key, std::move(created)).first->second;
}

namespace {
std::atomic<int> g_default_kind{static_cast<int>(DeviceKind::kAuto)};
std::atomic<int> g_default_ordinal{0};
}  // namespace

void set_default_device(Device device) {
  g_default_kind = static_cast<int>(device.kind);
  g_default_ordinal = device.ordinal;
}

Device default_device() {
  return {static_cast<DeviceKind>(g_default_kind.load()), g_default_ordinal.load()};
}

Backend& default_backend() { return DeviceRegistry::instance().backend(default_device()); }

}  // namespace tabula

// A device is a small value: where data lives and where primitives run.
#pragma once

#include <string>
#include <string_view>

namespace tabula {

enum class DeviceKind { kAuto, kCpu, kCuda };

/// `cpu`, `cuda:N`, or `auto` (resolved by the DeviceRegistry to a concrete device).
struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int ordinal = 0;  // CUDA device number; 0 for cpu and auto

  static constexpr Device cpu() { return {DeviceKind::kCpu, 0}; }
  static constexpr Device cuda(int ordinal) { return {DeviceKind::kCuda, ordinal}; }
  static constexpr Device automatic() { return {DeviceKind::kAuto, 0}; }

  /// Parses "auto", "cpu", "cuda" (= cuda:0) or "cuda:N". Throws InputError otherwise.
  static Device parse(std::string_view text);

  bool is_cpu() const { return kind == DeviceKind::kCpu; }
  bool is_cuda() const { return kind == DeviceKind::kCuda; }

  /// "cpu", "cuda:0", "auto".
  std::string to_string() const;

  friend bool operator==(const Device&, const Device&) = default;
};

}  // namespace tabula

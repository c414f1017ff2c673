// What the gradient boosting tests share: the CPU backend and the text of an error.
#pragma once

#include <exception>
#include <functional>
#include <string>

#include "tabula/core/device_registry.hpp"

namespace tabula::gbdt_test {

inline Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

/// The message of what `fn` throws, or "(no error)".
inline std::string message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace tabula::gbdt_test

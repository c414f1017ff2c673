#include "tabula/core/device.hpp"

#include <charconv>

#include "tabula/core/error.hpp"

namespace tabula {

Device Device::parse(std::string_view text) {
  if (text == "auto") return automatic();
  if (text == "cpu") return cpu();
  if (text == "cuda" || text == "gpu") return cuda(0);
  constexpr std::string_view kPrefix = "cuda:";
  if (text.starts_with(kPrefix)) {
    std::string_view digits = text.substr(kPrefix.size());
    int ordinal = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ordinal);
    if (ec == std::errc() && end == digits.data() + digits.size() && ordinal >= 0 &&
        !digits.empty())
      return cuda(ordinal);
  }
  throw InputError("invalid device '" + std::string(text) +
                   "': expected auto, cpu, cuda or cuda:N");
}

std::string Device::to_string() const {
  switch (kind) {
    case DeviceKind::kAuto:
      return "auto";
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return "cuda:" + std::to_string(ordinal);
  }
  return "unknown";
}

}  // namespace tabula

// The machine's physical memory, for the limits readers put on what they hold whole.
#pragma once

#include <cstdint>

namespace tabula {

/// Physical memory in bytes (sysconf); 0 when the system does not say.
std::uint64_t physical_memory_bytes();

}  // namespace tabula

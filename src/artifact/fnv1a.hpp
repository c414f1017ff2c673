// 64-bit FNV-1a: the artifact checksum and the data fingerprint. Chosen over CRC-32C because a
// reader in any language implements it in four lines.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tabula::detail {

inline constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
inline constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

/// Continues a hash `h` over `size` bytes; start with kFnvOffsetBasis.
inline std::uint64_t fnv1a64(const void* data, std::size_t size,
                             std::uint64_t h = kFnvOffsetBasis) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace tabula::detail

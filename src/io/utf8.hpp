// UTF-8 validation for text cells.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tabula::io {

/// Index of the first byte of the first invalid UTF-8 sequence in [data, data + size)
/// (overlong forms, surrogates and code points above U+10FFFF are invalid), or `size` when the
/// whole range is valid.
inline std::size_t find_invalid_utf8(const char* data, std::size_t size) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(data);
  std::size_t i = 0;
  while (i < size) {
    const std::uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;   // overlong
      if (c == 0xED) high = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;   // overlong
      if (c == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + length > size) return i;
    if (s[i + 1] < low || s[i + 1] > high) return i;
    for (std::size_t k = 2; k < length; ++k)
      if ((s[i + k] & 0xC0) != 0x80) return i;
    i += length;
  }
  return size;
}

}  // namespace tabula::io

// Record boundaries without parsing: a newline ends a record when the quotes before it are
// even in number (quote parity), so a quoted newline never splits one. The whole-file reader
// cuts its chunks this way and the streaming reader counts its records the same way.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace tabula::io::detail {

/// A plain loop the compiler vectorizes: quote-heavy files would make a memchr per quote slow.
inline std::size_t count_quotes(const char* begin, const char* end) {
  std::size_t count = 0;
  for (const char* c = begin; c < end; ++c) count += *c == '"' ? 1 : 0;
  return count;
}

inline std::size_t count_newlines(const char* begin, const char* end) {
  std::size_t count = 0;
  for (const char* c = begin; c < end; ++c) count += *c == '\n' ? 1 : 0;
  return count;
}

/// The end of the first chunk of about `chunk_bytes` starting at record start `begin`.
std::size_t first_chunk_end(std::string_view text, std::size_t begin, std::size_t chunk_bytes);

/// Chunk boundaries [b0, b1), [b1, b2), ... covering [begin, text.size()): each boundary is the
/// first record boundary after begin + k * chunk_bytes.
std::vector<std::size_t> split_chunks(std::string_view text, std::size_t begin,
                                      std::size_t chunk_bytes);

/// The record boundary after a bad record starting at `start`: the byte after the first
/// newline outside quotes, or `end`.
const char* resync_after(const char* start, const char* end);

}  // namespace tabula::io::detail

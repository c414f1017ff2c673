#include "io/csv/boundaries.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "tabula/core/thread_pool.hpp"

namespace tabula::io::detail {
namespace {

// The first record boundary at or after `target`, for a scan that started at record start
// `pos` with `quotes` quotes seen in [pos, target): the byte after the first newline outside
// quotes, judged by quote parity. text.size() when there is none.
std::size_t boundary_after(std::string_view text, std::size_t target, std::size_t quotes) {
  const char* base = text.data();
  const std::size_t size = text.size();
  std::size_t cursor = target;
  while (cursor < size) {
    const void* found = std::memchr(base + cursor, '\n', size - cursor);
    if (found == nullptr) break;
    const std::size_t newline = static_cast<std::size_t>(static_cast<const char*>(found) - base);
    quotes += count_quotes(base + cursor, base + newline);
    if (quotes % 2 == 0) return newline + 1;
    cursor = newline + 1;
  }
  return size;
}

}  // namespace

std::size_t first_chunk_end(std::string_view text, std::size_t begin, std::size_t chunk_bytes) {
  const std::size_t target = begin + std::max<std::size_t>(1, chunk_bytes);
  if (target >= text.size()) return text.size();
  return boundary_after(text, target, count_quotes(text.data() + begin, text.data() + target));
}

// Quote parity decides what is inside a quoted field, so the quotes are counted per segment in
// parallel and summed; then each segment's boundary is found in parallel too. The whole pass is
// otherwise serial over the file.
std::vector<std::size_t> split_chunks(std::string_view text, std::size_t begin,
                                      std::size_t chunk_bytes) {
  const std::size_t size = text.size();
  chunk_bytes = std::max<std::size_t>(1, chunk_bytes);
  const std::size_t segments = begin < size ? (size - begin + chunk_bytes - 1) / chunk_bytes : 1;
  std::vector<std::size_t> quotes(segments, 0);
  parallel_for(static_cast<std::int64_t>(segments), [&](std::int64_t k) {
    const std::size_t from = begin + static_cast<std::size_t>(k) * chunk_bytes;
    const std::size_t to = std::min(size, from + chunk_bytes);
    quotes[static_cast<std::size_t>(k)] = count_quotes(text.data() + from, text.data() + to);
  });
  std::vector<std::size_t> quotes_before(segments, 0);  // quotes in [begin, segment start)
  for (std::size_t k = 1; k < segments; ++k)
    quotes_before[k] = quotes_before[k - 1] + quotes[k - 1];
  std::vector<std::size_t> ends(segments, size);
  parallel_for(static_cast<std::int64_t>(segments) - 1, [&](std::int64_t k) {
    const auto next = static_cast<std::size_t>(k) + 1;
    ends[next] = boundary_after(text, begin + next * chunk_bytes, quotes_before[next]);
  });
  // A record longer than a segment makes neighbouring segments find the same boundary.
  std::vector<std::size_t> bounds{begin};
  for (std::size_t k = 1; k < segments; ++k)
    if (ends[k] > bounds.back() && ends[k] < size) bounds.push_back(ends[k]);
  bounds.push_back(size);
  return bounds;
}

const char* resync_after(const char* start, const char* end) {
  bool quoted = false;
  for (const char* c = start; c < end; ++c) {
    if (*c == '"')
      quoted = !quoted;
    else if (*c == '\n' && !quoted)
      return c + 1;
  }
  return end;
}

}  // namespace tabula::io::detail

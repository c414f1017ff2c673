#include "io/file_fingerprint.hpp"

#include <algorithm>
#include <vector>

#include "artifact/fnv1a.hpp"
#include "io/mapped_file.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::io {

std::uint64_t file_fingerprint(const std::string& path, Communicator* comm) {
  // Pages come in as each chunk is hashed and go once it is: the resident memory stays a few
  // chunks, not the file (train reads files larger than memory in passes).
  const MappedFile file(path, /*populate=*/false);
  const std::string_view bytes = file.text();
  constexpr std::int64_t kChunk = 16 << 20;
  const auto size = static_cast<std::int64_t>(bytes.size());
  const std::int64_t chunks = (size + kChunk - 1) / kChunk;
  const std::int64_t rank = comm ? comm->rank() : 0, ranks = comm ? comm->size() : 1;
  const std::int64_t first = chunks * rank / ranks, last = chunks * (rank + 1) / ranks;
  // Each chunk's hash lands in its own slot; the other ranks' slots stay 0, so the sum over
  // ranks is every chunk's hash.
  std::vector<std::int64_t> hashes(static_cast<std::size_t>(chunks), 0);
  parallel_for(last - first, [&](std::int64_t i) {
    const std::int64_t c = first + i;
    const std::string_view chunk =
        bytes.substr(static_cast<std::size_t>(c * kChunk), static_cast<std::size_t>(kChunk));
    hashes[static_cast<std::size_t>(c)] =
        static_cast<std::int64_t>(detail::fnv1a64(chunk.data(), chunk.size()));
    file.release(static_cast<std::size_t>(c * kChunk), chunk.size());
  });
  if (comm) comm->all_reduce_sum(std::span<std::int64_t>(hashes));
  const std::uint64_t h = detail::fnv1a64(hashes.data(), hashes.size() * sizeof(std::int64_t));
  return detail::fnv1a64(&size, sizeof size, h);
}

}  // namespace tabula::io

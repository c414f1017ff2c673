#include "training/data_fingerprint.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <vector>

#include "artifact/fnv1a.hpp"
#include "distributed/csv_share.hpp"
#include "io/file_fingerprint.hpp"
#include "io/sql/sql_source.hpp"

namespace tabula {

std::uint64_t data_hash(const std::string& path, Communicator* comm) {
  return io::is_sql_url(path) ? io::sql_result_hash(path) : io::file_fingerprint(path, comm);
}

std::string data_fingerprint_text(const std::string& path, std::uint64_t hash) {
  return fmt::format("{}:{:016x}", io::is_sql_url(path) ? "fnv1a64" : "fnv1a64-16MiB", hash);
}

std::string data_fingerprint(const std::string& path, Communicator* comm) {
  if (!io::is_sql_url(path) && std::filesystem::is_directory(path)) {
    std::vector<std::uint64_t> hashes;
    for (const std::string& file : distributed::shard_files(path))
      hashes.push_back(io::file_fingerprint(file, comm));
    return fmt::format("fnv1a64-16MiB-shards:{:016x}",
                       detail::fnv1a64(hashes.data(), hashes.size() * sizeof(std::uint64_t)));
  }
  return data_fingerprint_text(path, data_hash(path, comm));
}

}  // namespace tabula

// The identity of the data a model was trained on, as model files record it
// (`training.data_fingerprint`, docs/artifact-format.md) and tuning journals key on.
#pragma once

#include <cstdint>
#include <string>

namespace tabula {

class Communicator;

/// The data's hash: of a SQL URL, its rendered result's (io::sql_result_hash); of a file,
/// io::file_fingerprint (comm: every rank calls it and hashes its share of the chunks).
/// InputError naming the source when it cannot be read.
std::uint64_t data_hash(const std::string& path, Communicator* comm = nullptr);

/// `hash` (data_hash of `path`) as the text model files hold: "fnv1a64:<hex>" for a SQL result,
/// "fnv1a64-16MiB:<hex>" for a file.
std::string data_fingerprint_text(const std::string& path, std::uint64_t hash);

/// The fingerprint text of `path`: data_fingerprint_text of its data_hash, or for a folder of
/// shard files (distributed training), "fnv1a64-16MiB-shards:<hex>", FNV-1a over its files'
/// hashes in order.
std::string data_fingerprint(const std::string& path, Communicator* comm = nullptr);

}  // namespace tabula

// A data file's identity, recorded in model files and tuning journals: FNV-1a 64 of each 16 MiB
// chunk of the file's bytes, then of those hashes and the size. Chunks hash in parallel, and
// over MPI ranks each rank hashes its own run of chunks, so no process reads the whole file
// for it and the value is the same whatever the threads and ranks.
#pragma once

#include <cstdint>
#include <string>

namespace tabula {

class Communicator;

namespace io {

/// The fingerprint of the file at `path`. comm (null: one process): every rank calls it; each
/// hashes its share of the chunks and the ranks exchange the chunk hashes. InputError naming
/// the file when it cannot be read.
std::uint64_t file_fingerprint(const std::string& path, Communicator* comm = nullptr);

}  // namespace io
}  // namespace tabula

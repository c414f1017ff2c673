// What every communicator shares: the agreement before a collective phase, the one-process
// communicator, and what the launcher's environment says about this process.
#include "tabula/distributed/communicator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tabula {
namespace {

/// A positive integer from the environment variable `name`, or `fallback`.
int environment_count(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0 || value > (1 << 24)) return fallback;
  return static_cast<int>(value);
}

}  // namespace

void Communicator::check_all(const std::string& error, std::string_view phase) {
  const std::vector<std::string> errors = all_gather(error);
  std::string failed;
  for (std::size_t r = 0; r < errors.size(); ++r) {
    if (errors[r].empty()) continue;
    failed +=
        fmt::format("{}rank {} of {}: {}", failed.empty() ? "" : "; ", r, errors.size(), errors[r]);
  }
  if (!failed.empty()) throw DistributedError(fmt::format("{}: {}", phase, failed));
}

void LocalCommunicator::abort(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(exit_code);
}

int launcher_world_size() {
  const int open_mpi = environment_count("OMPI_COMM_WORLD_SIZE", 0);
  return open_mpi > 0 ? open_mpi : std::max(environment_count("PMI_SIZE", 1), 1);
}

int launcher_local_size() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const int size = environment_count(name, 0); size > 0) return size;
  return 1;
}

int launcher_local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const int rank = environment_count(name, -1); rank >= 0) return rank;
  return 0;
}

}  // namespace tabula

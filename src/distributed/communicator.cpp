// What every communicator shares: the agreement before a collective phase, the one-process
// communicator, and what the launcher's environment says about this process.
#include "tabula/distributed/communicator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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

std::int64_t Communicator::scatter_offset(std::size_t send_size,
                                          std::span<const std::int64_t> counts,
                                          std::size_t recv_size) const {
  if (counts.size() != static_cast<std::size_t>(size()))
    throw DistributedError(fmt::format("reduce_scatter_sum on {}: {} counts for {} ranks",
                                       describe(), counts.size(), size()));
  std::int64_t offset = 0, total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] < 0)
      throw DistributedError(
          fmt::format("reduce_scatter_sum on {}: rank {}'s count is {}", describe(), r, counts[r]));
    if (r < static_cast<std::size_t>(rank())) offset += counts[r];
    total += counts[r];
  }
  const std::int64_t mine = counts[static_cast<std::size_t>(rank())];
  if (total != static_cast<std::int64_t>(send_size) || mine != static_cast<std::int64_t>(recv_size))
    throw DistributedError(fmt::format(
        "reduce_scatter_sum on {}: counts add up to {} for {} values sent, {} for {} received",
        describe(), total, send_size, mine, recv_size));
  return offset;
}

void Communicator::all_reduce_sum(std::span<std::int32_t> values) {
  std::vector<std::int64_t> wide(values.begin(), values.end());
  all_reduce_sum(std::span<std::int64_t>(wide));
  std::copy(wide.begin(), wide.end(), values.begin());
}

void Communicator::reduce_scatter_sum(std::span<const std::int64_t> send,
                                      std::span<const std::int64_t> counts,
                                      std::span<std::int64_t> recv) {
  const std::int64_t offset = scatter_offset(send.size(), counts, recv.size());
  std::vector<std::int64_t> sums(send.begin(), send.end());
  all_reduce_sum(std::span<std::int64_t>(sums));
  std::copy_n(sums.begin() + offset, recv.size(), recv.begin());
}

void Communicator::reduce_scatter_sum(std::span<const std::int32_t> send,
                                      std::span<const std::int64_t> counts,
                                      std::span<std::int32_t> recv) {
  const std::vector<std::int64_t> wide(send.begin(), send.end());
  std::vector<std::int64_t> part(recv.size());
  reduce_scatter_sum(std::span<const std::int64_t>(wide), counts, std::span<std::int64_t>(part));
  std::copy(part.begin(), part.end(), recv.begin());
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

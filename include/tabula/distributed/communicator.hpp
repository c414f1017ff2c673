// The ranks of a data-parallel fit or a spread search, behind one small interface: models and
// workflows reduce, broadcast and gather through it and never call MPI themselves. A build
// without MPI (or a run without --distributed) uses the one-process LocalCommunicator.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/core/error.hpp"

namespace tabula {

/// A failure every rank knows about (agreed by Communicator::check_all): each rank ends its run
/// with the same message, so the job stops cleanly, with no rank left waiting.
class DistributedError : public Error {
 public:
  using Error::Error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  /// This process's rank, 0 .. size()-1; rank 0 writes the outputs.
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }

  /// Element-wise sums over every rank, in place; every rank gets the same result. Integer
  /// sums are exact; float64 sums are rounded in an order fixed for a given rank count.
  virtual void all_reduce_sum(std::span<double> values) = 0;
  virtual void all_reduce_sum(std::span<std::int64_t> values) = 0;
  /// int32 sums: exact when every partial sum fits int32, which the caller proves (the default
  /// widens to int64; the MPI communicator sends int32, half the bytes).
  virtual void all_reduce_sum(std::span<std::int32_t> values);
  /// Element-wise sums of every rank's `send` (the same length on every rank), scattered in
  /// rank order: rank r gets in `recv` the counts[r] sums that follow the counts of the ranks
  /// before it. `counts`: one per rank, the same on every rank, adding up to send.size();
  /// recv.size() == counts[rank()]. About half an all-reduce's bytes per rank. The default
  /// all-reduces a copy and keeps this rank's part; DistributedError for inconsistent counts.
  virtual void reduce_scatter_sum(std::span<const std::int64_t> send,
                                  std::span<const std::int64_t> counts,
                                  std::span<std::int64_t> recv);
  virtual void reduce_scatter_sum(std::span<const std::int32_t> send,
                                  std::span<const std::int64_t> counts,
                                  std::span<std::int32_t> recv);
  /// Whether a collective may be called from a thread other than the one that made this
  /// communicator (one call at a time still): then a reduction can run on a second thread
  /// while the first computes. false by default.
  virtual bool calls_from_any_thread() const { return false; }
  /// Root's bytes on every rank (`bytes` is replaced on the others).
  virtual void broadcast(std::string& bytes, int root = 0) = 0;
  /// Every rank's bytes, in rank order, on every rank.
  virtual std::vector<std::string> all_gather(const std::string& bytes) = 0;
  /// Ends every rank's process at once with `exit_code`: for a failure the other ranks cannot
  /// learn about (they may be waiting in a collective). The caller prints the reason first.
  [[noreturn]] virtual void abort(int exit_code) = 0;
  /// A short description for logs: "MPI rank 2 of 4" or "one process".
  virtual std::string describe() const = 0;

  /// The agreement before a collective phase: `error` is this rank's failure (empty: none).
  /// When any rank failed, every rank throws the same DistributedError naming each failed rank
  /// and its reason, prefixed by `phase`.
  void check_all(const std::string& error, std::string_view phase);

 protected:
  /// Where this rank's part of a reduce_scatter_sum starts in `send`; DistributedError unless
  /// the counts are one per rank, add up to `send_size` and this rank's equals `recv_size`.
  std::int64_t scatter_offset(std::size_t send_size, std::span<const std::int64_t> counts,
                              std::size_t recv_size) const;
};

/// One process holding every row: sums and gathers are the identity.
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce_sum(std::span<double>) override {}
  void all_reduce_sum(std::span<std::int64_t>) override {}
  void all_reduce_sum(std::span<std::int32_t>) override {}
  void broadcast(std::string&, int) override {}
  std::vector<std::string> all_gather(const std::string& bytes) override { return {bytes}; }
  [[noreturn]] void abort(int exit_code) override;
  std::string describe() const override { return "one process"; }
};

/// True in a build with MPI (TABULA_MPI): make_world_communicator can join an mpirun job.
bool built_with_mpi();

/// The ranks of the job this process was started in (MPI_COMM_WORLD), MPI initialised on first
/// use and finalised at exit. DistributedError in a build without MPI, saying how to get one.
Communicator& world_communicator();

/// The number of ranks the launcher says this process is one of (Open MPI's OMPI_COMM_WORLD_SIZE,
/// or PMI_SIZE from MPICH's hydra and Slurm's PMI), 1 when not started by a launcher. Read
/// without initialising MPI.
int launcher_world_size();

/// This process's rank among the ranks on its node (OMPI_COMM_WORLD_LOCAL_RANK,
/// MPI_LOCALRANKID, SLURM_LOCALID), 0 when not started by a launcher: picks its GPU.
int launcher_local_rank();

/// The number of ranks on this process's node (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS), 1
/// when not started by a launcher: they share the node's cores.
int launcher_local_size();

}  // namespace tabula

// --distributed on the verbs that run over MPI ranks (train, tune): joining the job, choosing
// this rank's GPU, ending every rank cleanly on a failure, and refusing to run N independent
// copies under mpirun.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "tabula/distributed/communicator.hpp"

namespace tabula::cli {

/// Adds --distributed to `sub`, setting `distributed`.
void add_distributed_flag(CLI::App* sub, bool& distributed);

/// The ranks of this mpirun job (world_communicator(); DistributedError in a build without MPI).
/// With `--device auto` and several GPUs, rank r takes GPU (local rank mod GPUs). Ranks other
/// than 0 prefix their log lines with their rank.
Communicator& join_ranks();

/// Runs `work` on this rank. A failure every rank agreed on (DistributedError) is rethrown, so
/// every rank exits non-zero with the same message; any other failure is printed with this
/// rank's name and ends every rank at once (Communicator::abort), so no rank waits forever in a
/// collective.
void run_on_rank(Communicator& comm, const std::function<void()>& work);

/// InputError when a launcher started this process as one of several ranks (launcher_world_size)
/// but the chosen command does not run over ranks (no --distributed): each copy would run the
/// whole command and write the same files.
void refuse_copies_under_launcher(const CLI::App& app);

}  // namespace tabula::cli

#include "cli/distributed_flag.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "tabula/core/device_registry.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::cli {

void add_distributed_flag(CLI::App* sub, bool& distributed) {
  sub->add_flag("--distributed", distributed,
                "Run over the ranks of an mpirun/srun job: each rank reads its share of the "
                "rows, rank 0 writes (docs/distributed.md)");
}

namespace {

/// Rank r's GPU when the device is auto and several are present: one GPU per rank on a node.
void choose_gpu_by_local_rank() {
  if (default_device().kind != DeviceKind::kAuto) return;
  int gpus = 0;
  for (const DeviceInfo& info : DeviceRegistry::instance().devices()) gpus += info.device.is_cuda();
  if (gpus < 2) return;
  const int ordinal = launcher_local_rank() % gpus;
  set_default_device(Device::cuda(ordinal));
  spdlog::info("local rank {}: cuda:{} of {} GPUs", launcher_local_rank(), ordinal, gpus);
}

/// Ranks on one node share its cores: with the default thread count (every hardware thread),
/// each rank takes its part rather than all of them, which would oversubscribe the node.
void share_cores_among_local_ranks() {
  const int ranks = launcher_local_size();
  const int hardware = hardware_threads();
  if (ranks <= 1 || thread_count() != hardware) return;
  set_thread_count(std::max(1, hardware / ranks));
}

}  // namespace

Communicator& join_ranks() {
  Communicator& comm = world_communicator();
  share_cores_among_local_ranks();
  if (!comm.is_root())
    spdlog::default_logger()->set_pattern("[%^%l%$] [rank " + std::to_string(comm.rank()) + "] %v");
  choose_gpu_by_local_rank();
  return comm;
}

void run_on_rank(Communicator& comm, const std::function<void()>& work) {
  try {
    work();
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    if (comm.size() == 1) throw;
    spdlog::error("{}: {}", comm.describe(), e.what());
    comm.abort(EXIT_FAILURE);
  }
}

void refuse_copies_under_launcher(const CLI::App& app) {
  const int ranks = launcher_world_size();
  if (ranks <= 1) return;
  for (const CLI::App* sub : app.get_subcommands()) {
    const CLI::Option* flag = sub->get_option_no_throw("--distributed");
    if (flag != nullptr && flag->count() > 0) return;
  }
  throw InputError(
      "started as one of " + std::to_string(ranks) +
      " processes by mpirun/srun, but this command does not run over ranks: each copy would "
      "run it whole and write the same files. " +
      (built_with_mpi() ? std::string("Pass --distributed (train, tune) or start one process.")
                        : std::string("This tabula was built without MPI; rebuild with "
                                      "-DTABULA_MPI=ON and pass --distributed, or start one "
                                      "process.")));
}

}  // namespace tabula::cli

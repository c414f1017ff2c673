// The communicator over MPI_COMM_WORLD (built with TABULA_MPI only; the rest of tabula never
// sees an MPI type). MPI is initialised on first use and finalised when the process exits.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "tabula/distributed/communicator.hpp"

namespace tabula {
namespace {

void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw DistributedError(std::string(call) + " failed: " + std::string(text, length));
}

int as_count(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw DistributedError(std::string(what) + ": " + std::to_string(n) +
                           " elements exceed one MPI message (2^31 - 1)");
  return static_cast<int>(n);
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      // One thread at a time talks to MPI: the one that called fit, or the forest's reduction
      // thread while that one builds histograms (calls_from_any_thread); the pool computes.
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
      owns_mpi_ = true;
    }
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    any_thread_ = level >= MPI_THREAD_SERIALIZED;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owns_mpi_ && !finalised) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  bool calls_from_any_thread() const override { return any_thread_; }

  void all_reduce_sum(std::span<double> values) override {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), as_count(values.size(), "all_reduce_sum"),
                        MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void all_reduce_sum(std::span<std::int64_t> values) override {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), as_count(values.size(), "all_reduce_sum"),
                        MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }

  void all_reduce_sum(std::span<std::int32_t> values) override {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), as_count(values.size(), "all_reduce_sum"),
                        MPI_INT32_T, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }

  void reduce_scatter_sum(std::span<const std::int64_t> send, std::span<const std::int64_t> counts,
                          std::span<std::int64_t> recv) override {
    scatter(send.data(), send.size(), counts, recv.data(), recv.size(), MPI_INT64_T);
  }
  void reduce_scatter_sum(std::span<const std::int32_t> send, std::span<const std::int64_t> counts,
                          std::span<std::int32_t> recv) override {
    scatter(send.data(), send.size(), counts, recv.data(), recv.size(), MPI_INT32_T);
  }

  void broadcast(std::string& bytes, int root) override {
    std::uint64_t size = bytes.size();
    check(MPI_Bcast(&size, 1, MPI_UINT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
    bytes.resize(size);
    check(MPI_Bcast(bytes.data(), as_count(size, "broadcast"), MPI_CHAR, root, MPI_COMM_WORLD),
          "MPI_Bcast");
  }

  std::vector<std::string> all_gather(const std::string& bytes) override {
    const int mine = as_count(bytes.size(), "all_gather");
    std::vector<int> sizes(static_cast<std::size_t>(size_)), offsets(sizes.size());
    check(MPI_Allgather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD),
          "MPI_Allgather");
    std::size_t total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      offsets[r] = as_count(total, "all_gather");
      total += static_cast<std::size_t>(sizes[r]);
    }
    std::string joined(total, '\0');
    check(MPI_Allgatherv(bytes.data(), mine, MPI_CHAR, joined.data(), sizes.data(), offsets.data(),
                         MPI_CHAR, MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::string> out;
    for (std::size_t r = 0; r < sizes.size(); ++r)
      out.push_back(
          joined.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(sizes[r])));
    return out;
  }

  void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

  std::string describe() const override {
    return "MPI rank " + std::to_string(rank_) + " of " + std::to_string(size_);
  }

 private:
  void scatter(const void* send, std::size_t send_size, std::span<const std::int64_t> counts,
               void* recv, std::size_t recv_size, MPI_Datatype type) {
    scatter_offset(send_size, counts, recv_size);
    std::vector<int> each(counts.size());
    for (std::size_t r = 0; r < counts.size(); ++r)
      each[r] = as_count(static_cast<std::size_t>(counts[r]), "reduce_scatter_sum");
    as_count(send_size, "reduce_scatter_sum");
    check(MPI_Reduce_scatter(send, recv, each.data(), type, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Reduce_scatter");
  }

  int rank_ = 0;
  int size_ = 1;
  bool owns_mpi_ = false;
  bool any_thread_ = false;
};

}  // namespace

bool built_with_mpi() { return true; }

Communicator& world_communicator() {
  static MpiCommunicator world;
  return world;
}

}  // namespace tabula

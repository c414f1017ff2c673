// Communicators for tests without MPI: ranks as threads of one process, whose collectives meet
// in memory (each rank fits its share on its own thread; sums are added in rank order, as an
// MPI reduction fixes its order), and one rank whose peers' all-gather parts are scripted
// (what a crafted part from another rank does).
#pragma once

#include <gtest/gtest.h>
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "tabula/distributed/communicator.hpp"

namespace tabula::testing {

/// What the ranks of one ThreadCommunicator group share: each rank's contribution to the
/// collective under way, and a reusable barrier.
class RankGroup {
 public:
  explicit RankGroup(int size) : size_(size), parts_(static_cast<std::size_t>(size)) {}
  int size() const { return size_; }

  /// Every rank's `mine`, in rank order, once all have arrived; the pointers stay valid until
  /// every rank has called done().
  std::vector<const void*> exchange(int rank, const void* mine) {
    parts_[static_cast<std::size_t>(rank)] = mine;
    wait();
    return parts_;
  }
  void done() { wait(); }

 private:
  void wait() {
    std::unique_lock lock(mutex_);
    const std::uint64_t generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
      return;
    }
    changed_.wait(lock, [&] { return generation_ != generation; });
  }

  int size_;
  std::vector<const void*> parts_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
};

/// One rank of a RankGroup.
class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(RankGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  void all_reduce_sum(std::span<double> values) override { sum(values); }
  void all_reduce_sum(std::span<std::int64_t> values) override { sum(values); }
  void broadcast(std::string& bytes, int root) override {
    const std::vector<const void*> parts = group_.exchange(rank_, &bytes);
    const std::string theirs = *static_cast<const std::string*>(parts[root]);
    group_.done();
    bytes = theirs;
  }
  std::vector<std::string> all_gather(const std::string& bytes) override {
    std::vector<std::string> out;
    for (const void* part : group_.exchange(rank_, &bytes))
      out.push_back(*static_cast<const std::string*>(part));
    group_.done();
    return out;
  }
  [[noreturn]] void abort(int) override { std::abort(); }
  std::string describe() const override { return "thread rank " + std::to_string(rank_); }
  // One call at a time per rank, from any thread: the forest then overlaps its reductions.
  bool calls_from_any_thread() const override { return true; }

 private:
  template <typename T>
  void sum(std::span<T> values) {
    std::vector<T> total(values.size(), T{0});
    for (const void* part : group_.exchange(rank_, values.data())) {
      const T* theirs = static_cast<const T*>(part);
      for (std::size_t i = 0; i < values.size(); ++i) total[i] += theirs[i];
    }
    group_.done();
    std::copy(total.begin(), total.end(), values.begin());
  }

  RankGroup& group_;
  int rank_;
};

/// Rank `rank` of as many ranks as `others` holds: all_gather answers every rank's part, this
/// rank's being what it was given; the other collectives are not used by these tests.
class ScriptedCommunicator final : public Communicator {
 public:
  ScriptedCommunicator(int rank, std::vector<std::string> parts)
      : rank_(rank), parts_(std::move(parts)) {}
  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(parts_.size()); }
  void all_reduce_sum(std::span<double>) override { ADD_FAILURE() << "not scripted"; }
  void all_reduce_sum(std::span<std::int64_t>) override { ADD_FAILURE() << "not scripted"; }
  void broadcast(std::string&, int) override { ADD_FAILURE() << "not scripted"; }
  std::vector<std::string> all_gather(const std::string& bytes) override {
    std::vector<std::string> out = parts_;
    out[static_cast<std::size_t>(rank_)] = bytes;
    return out;
  }
  [[noreturn]] void abort(int) override { std::abort(); }
  std::string describe() const override { return "scripted rank"; }

 private:
  int rank_;
  std::vector<std::string> parts_;
};

/// Runs `work(comm)` on `ranks` threads, one ThreadCommunicator each, and waits for them all.
/// `work` must not throw past a collective the other ranks wait in (catch inside it).
inline void run_ranks(int ranks, const std::function<void(ThreadCommunicator&)>& work) {
  RankGroup group(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(group, r);
      work(comm);
    });
  for (std::thread& thread : threads) thread.join();
}

}  // namespace tabula::testing

#include "tabula/core/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tabula {
namespace {

// Restores the default thread count when a test ends.
class ThreadPoolTest : public ::testing::Test {
 protected:
  void TearDown() override { set_thread_count(0); }
};

TEST_F(ThreadPoolTest, EveryTaskRunsExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    set_thread_count(threads);
    std::vector<std::atomic<int>> runs(1000);
    parallel_for(1000, [&](std::int64_t task) { runs[task].fetch_add(1); });
    for (std::size_t t = 0; t < runs.size(); ++t)
      ASSERT_EQ(runs[t].load(), 1) << "task " << t << " with " << threads << " threads";
  }
}

TEST_F(ThreadPoolTest, ZeroTasksDoNothing) {
  set_thread_count(2);
  int calls = 0;
  parallel_for(0, [&](std::int64_t) { ++calls; });
  parallel_for(-3, [&](std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST_F(ThreadPoolTest, ExceptionsPropagateAfterTheOtherTasksFinish) {
  for (int threads : {1, 4}) {
    set_thread_count(threads);
    std::atomic<int> finished{0};
    try {
      parallel_for(100, [&](std::int64_t task) {
        if (task == 37) throw std::runtime_error("task 37 failed");
        finished.fetch_add(1);
      });
      ADD_FAILURE() << "no exception with " << threads << " threads";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "task 37 failed");
    }
    // Every other task still runs, serially or on the pool; the pool stays usable afterwards.
    EXPECT_EQ(finished.load(), 99);
    std::atomic<int> after{0};
    parallel_for(10, [&](std::int64_t) { after.fetch_add(1); });
    EXPECT_EQ(after.load(), 10);
  }
}

TEST_F(ThreadPoolTest, NestedParallelForRunsEveryInnerTask) {
  set_thread_count(4);
  std::vector<std::atomic<int>> runs(8 * 50);
  parallel_for(8, [&](std::int64_t outer) {
    parallel_for(50, [&](std::int64_t inner) { runs[outer * 50 + inner].fetch_add(1); });
  });
  for (const auto& r : runs) ASSERT_EQ(r.load(), 1);
}

TEST_F(ThreadPoolTest, ParallelBlocksCoverTheRangeWithoutOverlap) {
  set_thread_count(3);
  std::vector<std::atomic<int>> hits(1003);
  std::atomic<int> blocks{0};
  parallel_blocks(1003, 100, [&](std::int64_t begin, std::int64_t end) {
    EXPECT_LE(end - begin, 100);
    EXPECT_LT(begin, end);
    blocks.fetch_add(1);
    for (std::int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
  });
  EXPECT_EQ(blocks.load(), 11);
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST_F(ThreadPoolTest, ManyShortJobsRunEachTaskOnceInItsOwnJob) {
  // Leaf-wise boosting runs thousands of jobs of a few tasks back to back: a worker that wakes
  // late for a finished job must not claim a task of the next one, nor call its function.
  for (int threads : {2, 3}) {
    set_thread_count(threads);
    for (int job = 0; job < 20000; ++job) {
      const std::int64_t tasks = 1 + job % 3;
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(tasks));
      parallel_for(tasks, [&runs, job](std::int64_t t) {
        if (job % 7 == 0) std::this_thread::yield();
        runs[static_cast<std::size_t>(t)].fetch_add(1);
      });
      for (std::int64_t t = 0; t < tasks; ++t)
        ASSERT_EQ(runs[static_cast<std::size_t>(t)].load(), 1)
            << "job " << job << " task " << t << " with " << threads << " threads";
    }
  }
}

TEST_F(ThreadPoolTest, ThreadCountFollowsTheSetting) {
  set_thread_count(3);
  EXPECT_EQ(thread_count(), 3);
  set_thread_count(0);
  EXPECT_EQ(thread_count(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_F(ThreadPoolTest, UsesMoreThanOneThreadWhenAsked) {
  set_thread_count(2);
  std::mutex mutex;
  std::vector<std::thread::id> ids;
  std::atomic<int> waiting{0};
  // Two tasks that wait for each other can only finish if they run on different threads.
  parallel_for(2, [&](std::int64_t) {
    {
      std::lock_guard lock(mutex);
      ids.push_back(std::this_thread::get_id());
    }
    waiting.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waiting.load() < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  });
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_NE(ids[0], ids[1]);
}

TEST_F(ThreadPoolTest, ThreadCountChangesWhileAnotherThreadRunsAJob) {
  // The Python package sets each call's n_jobs, from threads that released the GIL: a pool
  // still at work must not be destroyed under its job (ASan saw a use after free before).
  set_thread_count(3);
  std::atomic<bool> stop{false};
  std::thread changer([&] {
    for (int i = 0; !stop.load(); ++i) set_thread_count(1 + i % 4);
  });
  std::int64_t total = 0;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::int64_t> out(64, 0);
    parallel_for(64, [&](std::int64_t t) {
      std::this_thread::yield();
      out[static_cast<std::size_t>(t)] = t;
    });
    for (std::int64_t v : out) total += v;
  }
  stop.store(true);
  changer.join();
  EXPECT_EQ(total, 50 * (63 * 64 / 2));
}

}  // namespace
}  // namespace tabula

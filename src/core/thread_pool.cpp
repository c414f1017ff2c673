#include "tabula/core/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tabula {
namespace {

// One job at a time: workers wake on a generation counter, claim task indices from an atomic
// counter, and the caller waits until every task has finished. A task that itself calls
// parallel_for runs its inner loop serially (in_worker), so the pool cannot deadlock.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void run(std::int64_t tasks, const std::function<void(std::int64_t)>& fn) {
    std::lock_guard job_lock(job_mutex_);  // one parallel_for at a time
    {
      std::lock_guard lock(mutex_);
      fn_ = &fn;
      tasks_ = tasks;
      next_.store(0);
      pending_workers_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_tasks();
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return pending_workers_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  static thread_local bool in_worker;

 private:
  void run_tasks() {
    in_worker = true;
    for (std::int64_t task = next_.fetch_add(1); task < tasks_; task = next_.fetch_add(1)) {
      try {
        (*fn_)(task);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    in_worker = false;
  }

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      run_tasks();
      std::lock_guard lock(mutex_);
      if (--pending_workers_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex job_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(std::int64_t)>* fn_ = nullptr;
  std::int64_t tasks_ = 0;
  std::atomic<std::int64_t> next_{0};
  int pending_workers_ = 0;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

thread_local bool ThreadPool::in_worker = false;

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

// The pool is shared: a parallel_for holds it while it runs, so set_thread_count from another
// thread (the Python package sets each call's n_jobs, and its calls release the GIL) swaps in a
// new pool without destroying the one still at work; the last holder destroys it.
std::mutex g_pool_mutex;
std::shared_ptr<ThreadPool> g_pool;
std::atomic<int> g_threads{0};  // 0: hardware threads

std::shared_ptr<ThreadPool> pool() {
  std::lock_guard lock(g_pool_mutex);
  if (!g_pool) {
    const int threads = g_threads.load();
    g_pool = std::make_shared<ThreadPool>(threads > 0 ? threads : hardware_threads());
  }
  return g_pool;
}

}  // namespace

int thread_count() {
  const int threads = g_threads.load();
  return threads > 0 ? threads : hardware_threads();
}

void set_thread_count(int threads) {
  std::lock_guard lock(g_pool_mutex);
  g_threads.store(std::max(0, threads));
  g_pool.reset();
}

bool parallel_available() { return !ThreadPool::in_worker && thread_count() > 1; }

void parallel_for(std::int64_t tasks, const std::function<void(std::int64_t)>& fn) {
  if (tasks <= 0) return;
  if (tasks == 1 || !parallel_available()) {
    // Same contract as the pool: every task runs, then the first exception is rethrown.
    std::exception_ptr error;
    for (std::int64_t task = 0; task < tasks; ++task) {
      try {
        fn(task);
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
  const std::shared_ptr<ThreadPool> held = pool();
  held->run(tasks, fn);
}

void parallel_blocks(std::int64_t n, std::int64_t block,
                     const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (n <= 0) return;
  block = std::max<std::int64_t>(1, block);
  const std::int64_t blocks = (n + block - 1) / block;
  parallel_for(blocks, [&](std::int64_t b) { fn(b * block, std::min(n, (b + 1) * block)); });
}

}  // namespace tabula

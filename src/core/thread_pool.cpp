#include "tabula/core/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tabula {
namespace {

// How long an idle worker, or a caller waiting for the last tasks, polls before it sleeps:
// leaf-wise boosting runs hundreds of short jobs per tree with short serial steps between them,
// and a sleeping worker takes tens of microseconds (and two system calls) to wake, so that it
// arrived after the caller had done the job alone, and the caller then slept until it had.
constexpr auto kSpin = std::chrono::microseconds(100);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls done() for up to kSpin; true when it became true. Between polls the thread yields,
// so that on a machine with more runnable threads than cores the poll does not hold a core
// that another thread (this process's caller, for one) could use.
template <typename Done>
bool spin_until(Done&& done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
}

// One job at a time. A job is published in claim_: (job number << 32) | next task index.
// Threads claim a task by a compare-and-swap that also checks the job number, so a worker that
// wakes late for an old job can never claim (or run the function of) a new one; the caller waits
// for its job's tasks to be done, not for every worker to check in. A job's function and task
// count sit in one of two slots (by the job number's parity): a slot is rewritten two jobs later,
// after every task of its job has finished. A task that itself calls parallel_for runs its inner
// loop serially (in_worker), so the pool cannot deadlock.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    stopping_.store(true);
    {
      std::lock_guard lock(sleep_mutex_);
      wake_.notify_all();
    }
    for (std::thread& worker : workers_) worker.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // tasks < 2^32 (parallel_for cuts larger counts).
  void run(std::int64_t tasks, const std::function<void(std::int64_t)>& fn) {
    std::lock_guard job_lock(job_mutex_);                 // one parallel_for at a time
    const std::uint64_t job = (claim_.load() >> 32) + 1;  // only a caller changes the job
    Job& j = jobs_[job & 1];
    j.fn.store(&fn);
    j.tasks.store(tasks);
    j.done.store(0);
    j.error = nullptr;
    claim_.store((job & kJobMask) << 32);
    if (sleepers_.load() > 0) {
      std::lock_guard lock(sleep_mutex_);
      wake_.notify_all();
    }
    in_worker = true;
    run_tasks(job & kJobMask);
    in_worker = false;
    const auto finished = [&] { return j.done.load() == tasks; };
    if (!spin_until(finished)) {
      std::unique_lock lock(done_mutex_);
      caller_sleeping_.store(true);
      done_cv_.wait(lock, finished);
      caller_sleeping_.store(false);
    }
    if (j.error) std::rethrow_exception(j.error);
  }

  static thread_local bool in_worker;

 private:
  static constexpr std::uint64_t kJobMask = 0xffffffffu;

  struct Job {
    std::atomic<const std::function<void(std::int64_t)>*> fn{nullptr};
    std::atomic<std::int64_t> tasks{0};
    std::atomic<std::int64_t> done{0};
    std::exception_ptr error;  // the first task's exception, under error_mutex_
  };

  // Claims and runs tasks of job `job` until none is left or another job is published.
  void run_tasks(std::uint64_t job) {
    Job& j = jobs_[job & 1];
    std::uint64_t word = claim_.load();
    for (;;) {
      if ((word >> 32) != job) return;
      // Read before the claim, which validates them: the slot is rewritten only after claim_
      // has moved on to a later job.
      const std::function<void(std::int64_t)>* fn = j.fn.load();
      const std::int64_t tasks = j.tasks.load();
      const auto task = static_cast<std::int64_t>(word & kJobMask);
      if (task >= tasks) return;
      if (!claim_.compare_exchange_weak(word, word + 1)) continue;  // word reloaded
      try {
        (*fn)(task);
      } catch (...) {
        std::lock_guard lock(error_mutex_);
        if (!j.error) j.error = std::current_exception();
      }
      if (j.done.fetch_add(1) + 1 == tasks && caller_sleeping_.load()) {
        std::lock_guard lock(done_mutex_);
        done_cv_.notify_one();
      }
      word = claim_.load();
    }
  }

  void work() {
    in_worker = true;
    std::uint64_t seen = 0;  // the last job this worker took part in
    const auto news = [&] { return stopping_.load() || (claim_.load() >> 32) != seen; };
    for (;;) {
      if (!spin_until(news)) {
        std::unique_lock lock(sleep_mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, news);
        sleepers_.fetch_sub(1);
      }
      if (stopping_.load()) return;
      seen = claim_.load() >> 32;
      run_tasks(seen);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex job_mutex_;
  std::atomic<std::uint64_t> claim_{0};
  Job jobs_[2];
  std::mutex error_mutex_;
  std::atomic<bool> stopping_{false};
  // Sleeping workers (woken by a new job or stopping_) and a sleeping caller (woken by the
  // last task of its job).
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  std::atomic<bool> caller_sleeping_{false};
};

thread_local bool ThreadPool::in_worker = false;

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

// Read once: thread_count() is asked before every parallel step (leaf-wise boosting on
// diamonds, 43,152 x 26, 2 threads: 9% of the calling thread's time was in the /sys read).
int hardware_threads() {
  static const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return threads;
}

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
  constexpr std::int64_t kMaxTasks = std::int64_t{1} << 31;  // a job's task index is 32 bits
  for (std::int64_t first = 0; first < tasks; first += kMaxTasks) {
    if (first == 0 && tasks <= kMaxTasks) {
      held->run(tasks, fn);
      break;
    }
    held->run(std::min(kMaxTasks, tasks - first), [&](std::int64_t t) { fn(first + t); });
  }
}

void parallel_blocks(std::int64_t n, std::int64_t block,
                     const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (n <= 0) return;
  block = std::max<std::int64_t>(1, block);
  const std::int64_t blocks = (n + block - 1) / block;
  parallel_for(blocks, [&](std::int64_t b) { fn(b * block, std::min(n, (b + 1) * block)); });
}

}  // namespace tabula

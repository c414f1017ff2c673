// The CPU's parallel loop. A fixed pool of worker threads runs blocks of an index range.
#pragma once

#include <cstdint>
#include <functional>

namespace tabula {

/// Number of threads used by CPU work (default: hardware threads). Set by `--threads`.
int thread_count();
/// Sets the thread count; 0 means the number of hardware threads. Call before heavy work.
void set_thread_count(int threads);
/// The machine's hardware threads (at least 1), read once: glibc's
/// std::thread::hardware_concurrency() opens and parses a /sys file on every call.
int hardware_threads();

/// Runs fn(task) for task in [0, tasks) on the pool and waits for all of them; the calling
/// thread takes part. Tasks must be independent. The first exception thrown by a task is
/// rethrown here after every task has finished. Deterministic results are the caller's job:
/// give each task its own output slot and reduce the slots in task order.
void parallel_for(std::int64_t tasks, const std::function<void(std::int64_t task)>& fn);

/// True when parallel_for called from this thread would run on more than one thread (not from
/// inside a pool task, more than one thread configured): callers cut work finer only then.
bool parallel_available();
/// Splits [0, n) into blocks of `block` items and runs fn(begin, end) per block in parallel.
void parallel_blocks(std::int64_t n, std::int64_t block,
                     const std::function<void(std::int64_t begin, std::int64_t end)>& fn);

}  // namespace tabula

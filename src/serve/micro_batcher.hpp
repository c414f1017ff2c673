// Dynamic micro-batching for one model version: concurrent requests wait in a queue until the
// batch is full (max_batch_rows) or the oldest has waited max_queue_delay_us, then one call
// scores them all and each request gets its own rows back. A lone request waits at most the
// configured delay.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "serve/request_table.hpp"
#include "serve/serve_options.hpp"

namespace tabula::serve {

/// What one request gets back: host arrays, row-major.
struct ScoredRows {
  std::vector<double> predict;    // rows values (class indices for classifiers)
  std::vector<double> proba;      // classifiers: rows x width probabilities
  std::vector<double> transform;  // transforms: rows x width
  std::int64_t width = 0;
  int status = 200;  // not 200: the request failed with this status and `error`
  std::string error;
};

using Clock = std::chrono::steady_clock;

/// One scored batch: its rows, its requests, and the time they spent queued (summed).
struct BatchDone {
  std::int64_t rows = 0;
  std::int64_t requests = 0;
  std::uint64_t queued_ns = 0;
};

/// Scores several requests in one go; returns one ScoredRows per table, in order.
using ScoreFn = std::function<std::vector<ScoredRows>(std::span<const RequestTable* const>)>;

class MicroBatcher {
 public:
  /// `on_batch` is called after each scored batch, `on_queue(delta_rows)` when the queue
  /// grows or shrinks (both for metrics and statistics; may be empty).
  MicroBatcher(BatchingConfig config, ScoreFn score,
               std::function<void(const BatchDone&)> on_batch = {},
               std::function<void(std::int64_t)> on_queue = {});
  /// Scores what is queued, then stops the worker thread.
  ~MicroBatcher();
  MicroBatcher(const MicroBatcher&) = delete;
  MicroBatcher& operator=(const MicroBatcher&) = delete;

  /// Queues one request. HttpError 503 when the queue already holds max_queue_rows rows.
  /// A request still queued at `deadline` is not scored; it gets status 504.
  std::future<ScoredRows> submit(std::shared_ptr<const RequestTable> table,
                                 Clock::time_point deadline = Clock::time_point::max());

  /// Batches scored so far.
  std::int64_t batches() const;

 private:
  struct Pending {
    std::shared_ptr<const RequestTable> table;
    Clock::time_point arrived;
    Clock::time_point deadline;
    std::promise<ScoredRows> promise;
  };

  void run();
  void score(std::vector<Pending>& batch);

  const BatchingConfig config_;
  const ScoreFn score_;
  const std::function<void(const BatchDone&)> on_batch_;
  const std::function<void(std::int64_t)> on_queue_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::int64_t queued_rows_ = 0;
  std::int64_t batches_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace tabula::serve

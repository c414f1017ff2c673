// The micro-batching queue and its worker thread.
#include "serve/micro_batcher.hpp"

#include <exception>

#include "serve/http_error.hpp"

namespace tabula::serve {

MicroBatcher::MicroBatcher(BatchingConfig config, ScoreFn score,
                           std::function<void(const BatchDone&)> on_batch,
                           std::function<void(std::int64_t)> on_queue)
    : config_(config),
      score_(std::move(score)),
      on_batch_(std::move(on_batch)),
      on_queue_(std::move(on_queue)) {
  worker_ = std::thread([this] { run(); });
}

MicroBatcher::~MicroBatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

std::int64_t MicroBatcher::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

std::future<ScoredRows> MicroBatcher::submit(std::shared_ptr<const RequestTable> table,
                                             Clock::time_point deadline) {
  Pending pending{std::move(table), Clock::now(), deadline, {}};
  const std::int64_t rows = pending.table->rows;
  std::future<ScoredRows> result = pending.promise.get_future();
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw HttpError(503, "the server is shutting down");
    if (queued_rows_ > 0 && queued_rows_ + rows > config_.max_queue_rows)
      throw HttpError(503,
                      "too many rows waiting (" + std::to_string(queued_rows_) + "); retry later");
    // The worker only needs waking to open a batch window or to close a full batch.
    notify = queue_.empty() || queued_rows_ + rows >= config_.max_batch_rows;
    queue_.push_back(std::move(pending));
    queued_rows_ += rows;
  }
  if (on_queue_) on_queue_(rows);
  if (notify) wake_.notify_one();
  return result;
}

void MicroBatcher::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    const Clock::time_point close_at =
        queue_.front().arrived + std::chrono::microseconds(config_.max_queue_delay_us);
    while (!stopping_ && queued_rows_ < config_.max_batch_rows && Clock::now() < close_at)
      wake_.wait_until(lock, close_at);
    // Oldest first; a request larger than a batch goes alone.
    std::vector<Pending> batch;
    std::int64_t rows = 0;
    while (!queue_.empty() &&
           (batch.empty() || rows + queue_.front().table->rows <= config_.max_batch_rows)) {
      rows += queue_.front().table->rows;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_rows_ -= rows;
    lock.unlock();
    if (on_queue_) on_queue_(-rows);
    score(batch);
    lock.lock();
  }
}

void MicroBatcher::score(std::vector<Pending>& batch) {
  const Clock::time_point now = Clock::now();
  std::vector<Pending*> live;
  std::vector<const RequestTable*> tables;
  for (Pending& p : batch) {
    if (p.deadline < now) {
      ScoredRows late;
      late.status = 504;
      late.error = "the request deadline passed while it waited for a batch";
      p.promise.set_value(std::move(late));
      continue;
    }
    live.push_back(&p);
    tables.push_back(p.table.get());
  }
  if (live.empty()) return;
  BatchDone done;
  done.requests = static_cast<std::int64_t>(live.size());
  for (const Pending* p : live) {
    done.rows += p->table->rows;
    done.queued_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - p->arrived).count());
  }
  try {
    std::vector<ScoredRows> results = score_(tables);
    TABULA_ASSERT(results.size() == live.size(), "a score function lost requests");
    {
      std::lock_guard lock(mutex_);
      ++batches_;
    }
    if (on_batch_) on_batch_(done);
    for (std::size_t i = 0; i < live.size(); ++i) live[i]->promise.set_value(std::move(results[i]));
  } catch (const std::exception& e) {
    for (Pending* p : live) {
      ScoredRows failed;
      failed.status = 500;
      failed.error = std::string("scoring failed: ") + e.what();
      p->promise.set_value(std::move(failed));
    }
  }
}

}  // namespace tabula::serve

// Micro-batching: coalescing under concurrency, exact per-request answers, bounded waits.
#include "serve/micro_batcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "serve/http_error.hpp"

namespace tabula::serve {
namespace {

std::shared_ptr<RequestTable> table_of(std::vector<double> values) {
  auto t = std::make_shared<RequestTable>();
  t->rows = static_cast<std::int64_t>(values.size());
  t->columns.push_back({"x", ColumnType::kNumeric, std::move(values), {}, {}});
  return t;
}

/// Scores 10 * x + (rows in the batch) * 0: the answer must not depend on the batch, while the
/// batch sizes are recorded.
struct Recorder {
  std::mutex mutex;
  std::vector<std::int64_t> batch_rows;
  ScoreFn fn() {
    return [this](std::span<const RequestTable* const> tables) {
      std::vector<ScoredRows> out;
      std::int64_t rows = 0;
      for (const RequestTable* t : tables) {
        ScoredRows r;
        for (double v : t->columns[0].numeric) r.predict.push_back(10 * v);
        rows += t->rows;
        out.push_back(std::move(r));
      }
      std::lock_guard lock(mutex);
      batch_rows.push_back(rows);
      return out;
    };
  }
};

TEST(MicroBatcherTest, ConcurrentRequestsShareBatchesAndGetTheirOwnRows) {
  Recorder recorder;
  BatchingConfig config;
  config.max_batch_rows = 1000;
  config.max_queue_delay_us = 50000;  // long enough for every thread to arrive
  std::atomic<std::int64_t> queued{0};
  MicroBatcher batcher(config, recorder.fn(), {}, [&](std::int64_t delta) { queued += delta; });
  constexpr int kN = 24;
  std::vector<std::thread> threads;
  std::vector<std::vector<double>> answers(kN);
  for (int i = 0; i < kN; ++i)
    threads.emplace_back([&, i] {
      // Request i holds i % 3 + 1 rows: i, i + 0.5, ...
      std::vector<double> values;
      for (int r = 0; r <= i % 3; ++r) values.push_back(i + 0.5 * r);
      answers[i] = batcher.submit(table_of(values)).get().predict;
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(answers[i].size(), static_cast<std::size_t>(i % 3 + 1)) << i;
    for (int r = 0; r <= i % 3; ++r) EXPECT_DOUBLE_EQ(answers[i][r], 10 * (i + 0.5 * r));
  }
  EXPECT_LT(batcher.batches(), kN);
  std::int64_t total = 0;
  for (std::int64_t rows : recorder.batch_rows) total += rows;
  EXPECT_EQ(total, 48);  // 8 * (1 + 2 + 3)
  EXPECT_EQ(queued.load(), 0);
}

TEST(MicroBatcherTest, BatchesNeverExceedMaxRowsUnlessOneRequestDoes) {
  Recorder recorder;
  BatchingConfig config;
  config.max_batch_rows = 4;
  config.max_queue_delay_us = 20000;
  MicroBatcher batcher(config, recorder.fn());
  std::vector<std::future<ScoredRows>> results;
  for (int i = 0; i < 10; ++i) results.push_back(batcher.submit(table_of({1.0 * i, 2.0})));
  results.push_back(batcher.submit(table_of({1, 2, 3, 4, 5, 6})));
  for (auto& r : results) EXPECT_EQ(r.get().status, 200);
  for (std::int64_t rows : recorder.batch_rows) EXPECT_TRUE(rows <= 4 || rows == 6) << rows;
}

TEST(MicroBatcherTest, ALoneRequestWaitsAboutTheConfiguredDelay) {
  Recorder recorder;
  BatchingConfig config;
  config.max_batch_rows = 64;
  config.max_queue_delay_us = 30000;
  MicroBatcher batcher(config, recorder.fn());
  const auto start = Clock::now();
  const ScoredRows r = batcher.submit(table_of({4})).get();
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_EQ(r.predict, std::vector<double>{40});
  EXPECT_GE(ms, 25);   // it did wait for company...
  EXPECT_LT(ms, 500);  // ...but not much past the delay
}

TEST(MicroBatcherTest, ZeroDelayScoresAtOnce) {
  Recorder recorder;
  BatchingConfig config;
  config.max_queue_delay_us = 0;
  MicroBatcher batcher(config, recorder.fn());
  const auto start = Clock::now();
  EXPECT_EQ(batcher.submit(table_of({1})).get().predict, std::vector<double>{10});
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_LT(ms, 200);
}

TEST(MicroBatcherTest, ExpiredRequestsAreNotScored) {
  Recorder recorder;
  BatchingConfig config;
  config.max_queue_delay_us = 20000;
  MicroBatcher batcher(config, recorder.fn());
  const ScoredRows r =
      batcher.submit(table_of({1}), Clock::now() + std::chrono::milliseconds(1)).get();
  EXPECT_EQ(r.status, 504);
  EXPECT_TRUE(recorder.batch_rows.empty());
}

TEST(MicroBatcherTest, FullQueueRefusesWith503) {
  BatchingConfig config;
  config.max_queue_rows = 3;
  config.max_batch_rows = 100;
  config.max_queue_delay_us = 200000;
  Recorder recorder;
  MicroBatcher batcher(config, recorder.fn());
  auto a = batcher.submit(table_of({1, 2, 3}));
  try {
    batcher.submit(table_of({4}));
    FAIL() << "expected 503";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 503);
  }
  EXPECT_EQ(a.get().predict.size(), 3u);
}

TEST(MicroBatcherTest, AThrowingScoreFailsTheBatchNotTheBatcher) {
  BatchingConfig config;
  config.max_queue_delay_us = 0;
  std::atomic<int> calls{0};
  MicroBatcher batcher(config, [&](std::span<const RequestTable* const> tables) {
    if (calls++ == 0) throw std::runtime_error("boom");
    return std::vector<ScoredRows>(tables.size());
  });
  const ScoredRows first = batcher.submit(table_of({1})).get();
  EXPECT_EQ(first.status, 500);
  EXPECT_NE(first.error.find("boom"), std::string::npos);
  EXPECT_EQ(batcher.submit(table_of({1})).get().status, 200);
}

TEST(MicroBatcherTest, DestructionScoresWhatIsQueued) {
  Recorder recorder;
  BatchingConfig config;
  config.max_queue_delay_us = 10'000'000;  // only shutdown closes this batch
  std::future<ScoredRows> pending;
  {
    MicroBatcher batcher(config, recorder.fn());
    pending = batcher.submit(table_of({7}));
  }
  EXPECT_EQ(pending.get().predict, std::vector<double>{70});
}

}  // namespace
}  // namespace tabula::serve

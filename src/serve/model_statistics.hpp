// Triton's statistics extension for one served model version: how many requests succeeded and
// failed and how long they took, split into time queued for a micro-batch, building the batch's
// features (compute_input), running the estimator (compute_infer) and splitting the results
// back per request (compute_output). Counted since the version was loaded.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tabula::serve {

/// A count and the nanoseconds summed over it.
struct StatDuration {
  std::uint64_t count = 0;
  std::uint64_t ns = 0;

  void add(std::uint64_t n, std::uint64_t total_ns) {
    count += n;
    ns += total_ns;
  }
};

/// The three compute stages of one micro-batch (or of every batch of one size).
struct ComputeDurations {
  StatDuration input, infer, output;
};

/// One version's figures at one moment, as Triton reports them.
struct StatisticsSnapshot {
  std::string name, version;
  std::uint64_t last_inference_ms = 0;  // since the epoch; 0: no inference yet
  std::uint64_t inference_count = 0;    // rows answered successfully
  std::uint64_t execution_count = 0;    // batches run through the pipeline and estimator
  StatDuration success, fail, queue;
  ComputeDurations compute;  // per request: each request counts its batch's stage durations
  std::map<std::uint64_t, ComputeDurations> batches;  // by batch size in rows, once per batch
};

class ModelStatistics {
 public:
  /// A request answered: its rows, and its time from arrival to answer.
  void record_success(std::int64_t rows, std::uint64_t ns);
  /// A request that reached this version and failed (refused input, timeout, queue full).
  void record_fail(std::uint64_t ns);
  /// A batch left the queue: `requests` of them waited `queued_ns` in all.
  void record_queue(std::int64_t requests, std::uint64_t queued_ns);
  /// A batch of `rows` rows from `requests` requests ran its three stages.
  void record_execution(std::int64_t rows, std::int64_t requests, const ComputeDurations& batch);

  StatisticsSnapshot snapshot(const std::string& name, const std::string& version) const;

 private:
  mutable std::mutex mutex_;
  StatisticsSnapshot stats_;
};

/// {"model_stats": [...]} in the shape of Triton's GET /v2/models[/{name}]/stats.
nlohmann::json statistics_json(const std::vector<StatisticsSnapshot>& versions);

}  // namespace tabula::serve

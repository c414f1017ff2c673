// Statistics counters and their JSON form.
#include "serve/model_statistics.hpp"

#include <chrono>

namespace tabula::serve {
namespace {

nlohmann::json duration_json(const StatDuration& d) { return {{"count", d.count}, {"ns", d.ns}}; }

}  // namespace

void ModelStatistics::record_success(std::int64_t rows, std::uint64_t ns) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::lock_guard lock(mutex_);
  stats_.success.add(1, ns);
  stats_.inference_count += static_cast<std::uint64_t>(rows);
  stats_.last_inference_ms = static_cast<std::uint64_t>(now);
}

void ModelStatistics::record_fail(std::uint64_t ns) {
  std::lock_guard lock(mutex_);
  stats_.fail.add(1, ns);
}

void ModelStatistics::record_queue(std::int64_t requests, std::uint64_t queued_ns) {
  std::lock_guard lock(mutex_);
  stats_.queue.add(static_cast<std::uint64_t>(requests), queued_ns);
}

void ModelStatistics::record_execution(std::int64_t rows, std::int64_t requests,
                                       const ComputeDurations& batch) {
  const auto n = static_cast<std::uint64_t>(requests);
  std::lock_guard lock(mutex_);
  ++stats_.execution_count;
  stats_.compute.input.add(n, n * batch.input.ns);
  stats_.compute.infer.add(n, n * batch.infer.ns);
  stats_.compute.output.add(n, n * batch.output.ns);
  ComputeDurations& by_size = stats_.batches[static_cast<std::uint64_t>(rows)];
  by_size.input.add(1, batch.input.ns);
  by_size.infer.add(1, batch.infer.ns);
  by_size.output.add(1, batch.output.ns);
}

StatisticsSnapshot ModelStatistics::snapshot(const std::string& name,
                                             const std::string& version) const {
  std::lock_guard lock(mutex_);
  StatisticsSnapshot out = stats_;
  out.name = name;
  out.version = version;
  return out;
}

nlohmann::json statistics_json(const std::vector<StatisticsSnapshot>& versions) {
  nlohmann::json models = nlohmann::json::array();
  for (const StatisticsSnapshot& s : versions) {
    nlohmann::json batches = nlohmann::json::array();
    for (const auto& [size, d] : s.batches)
      batches.push_back({{"batch_size", size},
                         {"compute_input", duration_json(d.input)},
                         {"compute_infer", duration_json(d.infer)},
                         {"compute_output", duration_json(d.output)}});
    models.push_back({{"name", s.name},
                      {"version", s.version},
                      {"last_inference", s.last_inference_ms},
                      {"inference_count", s.inference_count},
                      {"execution_count", s.execution_count},
                      {"inference_stats",
                       {{"success", duration_json(s.success)},
                        {"fail", duration_json(s.fail)},
                        {"queue", duration_json(s.queue)},
                        {"compute_input", duration_json(s.compute.input)},
                        {"compute_infer", duration_json(s.compute.infer)},
                        {"compute_output", duration_json(s.compute.output)},
                        {"cache_hit", duration_json({})},
                        {"cache_miss", duration_json({})}}},
                      {"batch_stats", std::move(batches)}});
  }
  return {{"model_stats", std::move(models)}};
}

}  // namespace tabula::serve

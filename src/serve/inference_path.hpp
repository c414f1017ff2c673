// The one way a request is scored, whatever protocol brought it (REST v2, MLflow /invocations,
// gRPC): find the model, pick its version (named, or by the traffic split and the sticky key),
// let the protocol read the request against that version, queue the rows on the version's
// micro-batcher (where drift is counted) and wait for them, then let the protocol answer.
// Every outcome is counted in /metrics and in the version's statistics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/metrics.hpp"
#include "serve/model_repository.hpp"
#include "serve/model_statistics.hpp"
#include "serve/request_table.hpp"
#include "serve/serve_options.hpp"
#include "serve/served_model.hpp"

namespace tabula::serve {

class InferencePath {
 public:
  /// `repository` and `metrics` must outlive the path.
  InferencePath(ModelRepository& repository, Metrics& metrics, const ServeOptions& options)
      : repository_(repository), metrics_(metrics), options_(options) {}

  /// What the protocol says about the request before reading its body.
  struct Target {
    std::string model;
    std::string version;                         // empty: the traffic split chooses
    std::optional<std::string_view> sticky_key;  // pins a client to one version of a split
  };
  /// Reads the request for the chosen version: its rows, checked (HttpError otherwise).
  using Parse = std::function<std::shared_ptr<const RequestTable>(const ServedModel&)>;
  /// Writes the answer from the scored rows.
  using Respond = std::function<void(const ServedModel&, const ScoredRows&)>;

  /// Scores one request. HttpError 404 for an unknown model or version, 503 while the
  /// repository is loading or when the version's queue is full, 504 when it is not scored within
  /// --request-timeout-ms, and whatever `parse` throws; the protocol turns them into its answer.
  void infer(const Target& target, const Parse& parse, const Respond& respond);

  /// The model's current entry: HttpError 404 when it is not served, 503 while loading.
  std::shared_ptr<const ModelEntry> entry(const std::string& name) const;

  /// Statistics of one version of `model`, of all its loaded versions (`version` empty), or of
  /// every loaded version of every model (`model` empty). HttpError 404 for an unknown model or
  /// version.
  std::vector<StatisticsSnapshot> statistics(const std::string& model,
                                             const std::string& version) const;

 private:
  ScoredRows await(std::future<ScoredRows>& result, Clock::time_point deadline) const;

  ModelRepository& repository_;
  Metrics& metrics_;
  const ServeOptions& options_;
  std::atomic<std::uint64_t> sequence_{0};  // spreads requests without a sticky key
};

}  // namespace tabula::serve

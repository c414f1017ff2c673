// The server's drift monitoring: per model version, what it received and answered over a
// rolling window of rows, counted into the bins of the training profile its file holds
// (monitoring/drift.hpp). The window is cut into slices; when a slice fills, the oldest leaves
// the window, the gauges in /metrics are updated and a change of verdict is logged. Windows
// live in the repository, not in the loaded model, so a hot reload of the same version keeps
// its window.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "serve/metrics.hpp"
#include "serve/serve_options.hpp"
#include "tabula/monitoring/drift.hpp"

namespace tabula::serve {

class DriftWindow {
 public:
  DriftWindow(std::string model, std::string version, monitoring::DriftProfile profile,
              DriftConfig config, Metrics& metrics);

  const monitoring::DriftProfile& profile() const { return profile_; }
  const DriftConfig& config() const { return config_; }

  /// Adds a scored batch's counts (shaped by profile()). Thread-safe.
  void add(const monitoring::DriftCounts& batch);
  /// Counts rows `rows` of `data` and their `predictions` (monitoring::count_rows) straight into
  /// the window: what the server does per micro-batch, with no counts of its own to allocate.
  /// Thread-safe; InputError when the first batch lacks a profiled column (nothing counted).
  void count(const Dataset& data, std::span<const std::int64_t> rows,
             std::span<const double> predictions);
  /// drift_report over the window, with "model", "version" and "window_rows".
  nlohmann::json report() const;

 private:
  static constexpr int kSlices = 10;
  /// Under mutex_: when the open slice is full, closes it and returns the window's report.
  std::optional<nlohmann::json> close_full_slice();
  /// Logs a change of verdict and sets the gauges; outside mutex_.
  void publish(const nlohmann::json& report);

  const std::string model_, version_;
  const monitoring::DriftProfile profile_;
  const DriftConfig config_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::deque<monitoring::DriftCounts> closed_;  // oldest first
  // The open slice, and the sum of the closed ones: a batch is counted once, into open_; the
  // window is closed_total_ + open_.
  monitoring::DriftCounts open_, closed_total_;
  bool drifted_ = false;          // under mutex_
  bool columns_checked_ = false;  // under mutex_: count() found every profiled column once
};

/// The windows of every served version, by model and version.
class DriftWindows {
 public:
  explicit DriftWindows(Metrics& metrics) : metrics_(metrics) {}
  /// The window of (model, version): the existing one when its profile and settings are equal
  /// (a hot reload of the same version), else a new one. Null when `profile` is absent or the
  /// window is off (window_rows 0).
  std::shared_ptr<DriftWindow> attach(const std::string& model, const std::string& version,
                                      const std::optional<monitoring::DriftProfile>& profile,
                                      const DriftConfig& config);

 private:
  Metrics& metrics_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<DriftWindow>> windows_;
};

}  // namespace tabula::serve

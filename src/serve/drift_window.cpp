// Rolling drift windows: slices of counts, the verdict logged when it changes, gauges published.
#include "serve/drift_window.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tabula::serve {
namespace {

constexpr const char* kPsi = "tabula_drift_psi";
constexpr const char* kKs = "tabula_drift_ks";
constexpr const char* kMissing = "tabula_drift_missing_share";
constexpr const char* kUnseen = "tabula_drift_unseen_share";
constexpr const char* kPredictionPsi = "tabula_prediction_drift_psi";
constexpr const char* kWindowRows = "tabula_drift_window_rows";
constexpr const char* kDetected = "tabula_drift_detected";

std::string drifted_list(const nlohmann::json& report) {
  std::string out;
  for (const auto& c : report.at("drifted_columns"))
    out += (out.empty() ? "" : ", ") + c.get<std::string>();
  return out;
}

}  // namespace

DriftWindow::DriftWindow(std::string model, std::string version, monitoring::DriftProfile profile,
                         DriftConfig config, Metrics& metrics)
    : model_(std::move(model)),
      version_(std::move(version)),
      profile_(std::move(profile)),
      config_(config),
      metrics_(metrics),
      open_(profile_),
      closed_total_(profile_) {}

void DriftWindow::add(const monitoring::DriftCounts& batch) {
  std::optional<nlohmann::json> closed;
  {
    std::lock_guard lock(mutex_);
    open_.add(batch);
    closed = close_full_slice();
  }
  if (closed) publish(*closed);
}

void DriftWindow::count(const Dataset& data, std::span<const std::int64_t> rows,
                        std::span<const double> predictions) {
  std::optional<nlohmann::json> closed;
  {
    std::lock_guard lock(mutex_);
    // Every profiled column is looked up before anything is counted, so a failure counts
    // nothing; once is enough, as every batch has the columns of the model's schema.
    if (!columns_checked_) {
      for (const monitoring::ColumnProfile& c : profile_.features) data.column(c.name);
      columns_checked_ = true;
    }
    monitoring::count_rows(profile_, data, rows, predictions, open_);
    closed = close_full_slice();
  }
  if (closed) publish(*closed);
}

std::optional<nlohmann::json> DriftWindow::close_full_slice() {
  const std::int64_t slice_rows = std::max<std::int64_t>(1, config_.window_rows / kSlices);
  if (open_.rows < slice_rows) return std::nullopt;
  closed_total_.add(open_);
  closed_.push_back(std::exchange(open_, monitoring::DriftCounts(profile_)));
  while (static_cast<int>(closed_.size()) >= kSlices) {
    closed_total_.add(closed_.front(), -1);
    closed_.pop_front();
  }
  // For the gauges and the verdict: the groups' labels (the report's costliest part) unused.
  nlohmann::json report = monitoring::drift_report(
      profile_, closed_total_, {config_.threshold, config_.min_rows, /*groups=*/false});
  const bool drifted = report.at("status") == "drift";
  if (drifted != drifted_) {
    if (drifted)
      spdlog::warn("serve: model '{}' version {}: drift in {} over the last {} rows", model_,
                   version_, drifted_list(report), closed_total_.rows);
    else
      spdlog::info("serve: model '{}' version {}: no drift over the last {} rows", model_, version_,
                   closed_total_.rows);
    drifted_ = drifted;
  }
  return report;
}

nlohmann::json DriftWindow::report() const {
  nlohmann::json out;
  {
    std::lock_guard lock(mutex_);
    monitoring::DriftCounts window = closed_total_;
    window.add(open_);
    out = monitoring::drift_report(profile_, window, {config_.threshold, config_.min_rows});
  }
  out["model"] = model_;
  out["version"] = version_;
  out["window_rows"] = config_.window_rows;
  out["reference"] = profile_.source;
  return out;
}

void DriftWindow::publish(const nlohmann::json& report) {
  const Labels version = {{"model", model_}, {"version", version_}};
  metrics_.set(kWindowRows, version, report.at("rows").get<double>());
  metrics_.set(kDetected, version, report.at("status") == "drift" ? 1 : 0);
  for (const auto& c : report.at("features")) {
    Labels column = version;
    column.emplace_back("column", c.at("name").get<std::string>());
    metrics_.set(kPsi, column, c.at("psi").get<double>());
    metrics_.set(kMissing, column, c.at("missing_current").get<double>());
    if (c.at("ks").is_number()) metrics_.set(kKs, column, c.at("ks").get<double>());
    if (c.at("unseen").is_number()) metrics_.set(kUnseen, column, c.at("unseen").get<double>());
  }
  if (!report.at("prediction").is_null())
    metrics_.set(kPredictionPsi, version, report["prediction"].at("psi").get<double>());
}

std::shared_ptr<DriftWindow> DriftWindows::attach(
    const std::string& model, const std::string& version,
    const std::optional<monitoring::DriftProfile>& profile, const DriftConfig& config) {
  if (!profile || config.window_rows <= 0) return nullptr;
  std::lock_guard lock(mutex_);
  std::shared_ptr<DriftWindow>& window = windows_[{model, version}];
  const bool same = window && window->profile() == *profile &&
                    window->config().window_rows == config.window_rows &&
                    window->config().threshold == config.threshold &&
                    window->config().min_rows == config.min_rows;
  if (!same) window = std::make_shared<DriftWindow>(model, version, *profile, config, metrics_);
  return window;
}

}  // namespace tabula::serve

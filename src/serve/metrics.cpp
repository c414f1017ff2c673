// Prometheus text rendering and the server's metric families.
#include "serve/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tabula/core/error.hpp"

namespace tabula::serve {
namespace {

constexpr const char* kRequests = "tabula_requests_total";
constexpr const char* kLatency = "tabula_request_duration_seconds";
constexpr const char* kBatchRows = "tabula_batch_rows";
constexpr const char* kQueueRows = "tabula_queue_rows";
constexpr const char* kRowsScored = "tabula_rows_scored_total";
constexpr const char* kClasses = "tabula_predicted_class_total";
constexpr const char* kValues = "tabula_predicted_value";
constexpr const char* kReloadFailures = "tabula_reload_failures_total";
constexpr const char* kLoaded = "tabula_model_loaded";

std::string escape(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string with_le(const std::string& labels, const std::string& le) {
  return "{" + labels + (labels.empty() ? "" : ",") + "le=\"" + le + "\"}";
}

std::string braces(const std::string& labels) {
  return labels.empty() ? std::string() : "{" + labels + "}";
}

/// -1e6 ... -1e-3, 0, 1e-3 ... 1e6: predictions of any scale land in a readable bucket.
std::vector<double> signed_decades() {
  std::vector<double> bounds;
  for (int e = 6; e >= -3; --e) bounds.push_back(-std::pow(10.0, e));
  bounds.push_back(0);
  for (int e = -3; e <= 6; ++e) bounds.push_back(std::pow(10.0, e));
  return bounds;
}

}  // namespace

std::string format_labels(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out += name + "=\"" + escape(value) + "\"";
  }
  return out;
}

Metrics::Metrics() {
  declare(kRequests, "counter", "Requests on model endpoints by model, version and status");
  declare(kLatency, "histogram", "Request latency on model endpoints, seconds",
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
           10});
  declare(kBatchRows, "histogram", "Rows per scored micro-batch",
          {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384});
  declare(kQueueRows, "gauge", "Rows waiting to be batched");
  declare(kRowsScored, "counter", "Rows scored");
  declare(kClasses, "counter", "Predicted class labels");
  declare(kValues, "histogram", "Predicted values (regression)", signed_decades());
  declare(kReloadFailures, "counter", "Model versions that failed to load (old version kept)");
  declare(kLoaded, "gauge", "1 while a model version is loaded and serving");
  // Drift (serve/drift_window.cpp): set each time a tenth of a version's window fills.
  declare("tabula_drift_psi", "gauge",
          "Population stability index of an input column over the rolling window");
  declare("tabula_drift_ks", "gauge",
          "Kolmogorov-Smirnov statistic of a numeric input column over the rolling window");
  declare("tabula_drift_missing_share", "gauge",
          "Share of missing values of an input column over the rolling window");
  declare("tabula_drift_unseen_share", "gauge",
          "Share of categories never seen in training, over the rolling window");
  declare("tabula_prediction_drift_psi", "gauge",
          "Population stability index of the model's predictions over the rolling window");
  declare("tabula_drift_window_rows", "gauge", "Rows in the drift window");
  declare("tabula_drift_detected", "gauge",
          "1 while a column or the prediction drifted beyond the model's threshold");
}

void Metrics::declare(const std::string& name, const std::string& type, const std::string& help,
                      std::vector<double> bounds) {
  Family& f = families_[name];
  f.type = type;
  f.help = help;
  f.bounds = std::move(bounds);
}

Metrics::Family& Metrics::family(const std::string& name) {
  const auto it = families_.find(name);
  TABULA_ASSERT(it != families_.end(), "undeclared metric " + name);
  return it->second;
}

void Metrics::inc(const std::string& name, const Labels& labels, double by) {
  const std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  family(name).values[key] += by;
}

void Metrics::set(const std::string& name, const Labels& labels, double value) {
  const std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  family(name).values[key] = value;
}

void Metrics::observe(const std::string& name, const Labels& labels, double value) {
  const std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  Family& f = family(name);
  Histogram& h = f.histograms[key];
  if (h.counts.empty()) h.counts.assign(f.bounds.size() + 1, 0);
  const auto bucket = std::lower_bound(f.bounds.begin(), f.bounds.end(), value) - f.bounds.begin();
  ++h.counts[static_cast<std::size_t>(bucket)];
  h.sum += value;
  ++h.count;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  const std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  const auto f = families_.find(name);
  if (f == families_.end()) return 0;
  if (const auto v = f->second.values.find(key); v != f->second.values.end()) return v->second;
  if (const auto h = f->second.histograms.find(key); h != f->second.histograms.end())
    return static_cast<double>(h->second.count);
  return 0;
}

void Metrics::observe_request(const std::string& model, const std::string& version, int status,
                              double seconds) {
  inc(kRequests, {{"model", model}, {"version", version}, {"status", std::to_string(status)}});
  observe(kLatency, {{"model", model}}, seconds);
}

void Metrics::observe_batch(const std::string& model, const std::string& version,
                            std::int64_t rows) {
  const Labels labels = {{"model", model}, {"version", version}};
  observe(kBatchRows, labels, static_cast<double>(rows));
  inc(kRowsScored, labels, static_cast<double>(rows));
}

void Metrics::add_queue_rows(const std::string& model, const std::string& version,
                             std::int64_t delta) {
  inc(kQueueRows, {{"model", model}, {"version", version}}, static_cast<double>(delta));
}

void Metrics::count_classes(const std::string& model, const std::string& version,
                            std::span<const std::string> labels) {
  std::map<std::string, double> counts;
  for (const std::string& label : labels) counts[label] += 1;
  for (const auto& [label, n] : counts)
    inc(kClasses, {{"model", model}, {"version", version}, {"class", label}}, n);
}

void Metrics::observe_values(const std::string& model, const std::string& version,
                             std::span<const double> values) {
  const Labels labels = {{"model", model}, {"version", version}};
  for (double v : values)
    if (!std::isnan(v)) observe(kValues, labels, v);
}

void Metrics::count_reload_failure(const std::string& model) {
  inc(kReloadFailures, {{"model", model}});
}

void Metrics::set_loaded(const std::string& model, const std::string& version, bool loaded) {
  set(kLoaded, {{"model", model}, {"version", version}}, loaded ? 1 : 0);
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (f.values.empty() && f.histograms.empty()) continue;
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, v] : f.values)
      out += name + braces(labels) + " " + format_number(v) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < h.counts.size(); ++b) {
        cumulative += h.counts[b];
        const std::string le = b < f.bounds.size() ? format_number(f.bounds[b]) : "+Inf";
        out += name + "_bucket" + with_le(labels, le) + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + braces(labels) + " " + format_number(h.sum) + "\n";
      out += name + "_count" + braces(labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace tabula::serve

// Prometheus metrics of the server: counters, gauges and histograms by label set, rendered in
// the text exposition format (version 0.0.4). Thread-safe; one short lock per update.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace tabula::serve {

/// Label pairs in the order given, e.g. {{"model", "iris"}, {"version", "1"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  Metrics();

  /// One finished HTTP request on a model endpoint (`version` empty when none was chosen).
  void observe_request(const std::string& model, const std::string& version, int status,
                       double seconds);
  /// One scored batch of `rows` rows.
  void observe_batch(const std::string& model, const std::string& version, std::int64_t rows);
  /// Rows waiting in a model version's queue (a gauge, moved by delta).
  void add_queue_rows(const std::string& model, const std::string& version, std::int64_t delta);
  /// Classification: one count per predicted class label.
  void count_classes(const std::string& model, const std::string& version,
                     std::span<const std::string> labels);
  /// Regression: predicted values into a signed-decade histogram.
  void observe_values(const std::string& model, const std::string& version,
                      std::span<const double> values);
  void count_reload_failure(const std::string& model);
  void set_loaded(const std::string& model, const std::string& version, bool loaded);

  /// Generic access, for the families above and for tests.
  void inc(const std::string& family, const Labels& labels, double by = 1);
  void set(const std::string& family, const Labels& labels, double value);
  void observe(const std::string& family, const Labels& labels, double value);
  /// Current value of a counter or gauge, or a histogram's count; 0 when never set.
  double value(const std::string& family, const Labels& labels) const;

  /// The text exposition format.
  std::string render() const;

 private:
  struct Histogram {
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative; last is +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    std::string type;  // counter, gauge, histogram
    std::string help;
    std::vector<double> bounds;  // histogram upper bounds, ascending
    std::map<std::string, double> values;
    std::map<std::string, Histogram> histograms;
  };

  void declare(const std::string& name, const std::string& type, const std::string& help,
               std::vector<double> bounds = {});
  Family& family(const std::string& name);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

/// `a="x",b="y"` with label values escaped as the exposition format requires.
std::string format_labels(const Labels& labels);

}  // namespace tabula::serve

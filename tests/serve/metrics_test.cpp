// The Prometheus text the server exposes.
#include "serve/metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace tabula::serve {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

TEST(MetricsTest, CountersCarryLabelsAndTypeLines) {
  Metrics m;
  m.observe_request("iris", "2", 200, 0.003);
  m.observe_request("iris", "2", 200, 0.004);
  m.observe_request("iris", "2", 400, 0.001);
  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, "# TYPE tabula_requests_total counter"));
  EXPECT_TRUE(
      has_line(text, "tabula_requests_total{model=\"iris\",version=\"2\",status=\"200\"} 2"));
  EXPECT_TRUE(
      has_line(text, "tabula_requests_total{model=\"iris\",version=\"2\",status=\"400\"} 1"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndEndAtTheCount) {
  Metrics m;
  for (std::int64_t rows : {1, 3, 3, 200, 100000}) m.observe_batch("m", "1", rows);
  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_bucket{model=\"m\",version=\"1\",le=\"1\"} 1"));
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_bucket{model=\"m\",version=\"1\",le=\"2\"} 1"));
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_bucket{model=\"m\",version=\"1\",le=\"4\"} 3"));
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_bucket{model=\"m\",version=\"1\",le=\"256\"} 4"));
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_bucket{model=\"m\",version=\"1\",le=\"16384\"} 4"));
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_bucket{model=\"m\",version=\"1\",le=\"+Inf\"} 5"));
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_count{model=\"m\",version=\"1\"} 5"));
  EXPECT_TRUE(has_line(text, "tabula_batch_rows_sum{model=\"m\",version=\"1\"} 100207"));
  EXPECT_TRUE(has_line(text, "tabula_rows_scored_total{model=\"m\",version=\"1\"} 100207"));
  EXPECT_EQ(m.value("tabula_batch_rows", {{"model", "m"}, {"version", "1"}}), 5);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m;
  const std::vector<std::string> labels = {"a\"b", "a\"b", "c\\d\n"};
  m.count_classes("m", "1", labels);
  const std::string text = m.render();
  EXPECT_TRUE(
      has_line(text, "tabula_predicted_class_total{model=\"m\",version=\"1\",class=\"a\\\"b\"} 2"));
  EXPECT_TRUE(has_line(
      text, "tabula_predicted_class_total{model=\"m\",version=\"1\",class=\"c\\\\d\\n\"} 1"));
}

TEST(MetricsTest, GaugesMoveBothWaysAndUnusedFamiliesAreSilent) {
  Metrics m;
  m.add_queue_rows("m", "1", 5);
  m.add_queue_rows("m", "1", -3);
  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, "tabula_queue_rows{model=\"m\",version=\"1\"} 2"));
  EXPECT_EQ(text.find("tabula_reload_failures_total"), std::string::npos);
  m.count_reload_failure("m");
  EXPECT_TRUE(has_line(m.render(), "tabula_reload_failures_total{model=\"m\"} 1"));
}

TEST(MetricsTest, PredictedValuesLandInSignedDecades) {
  Metrics m;
  const std::vector<double> values = {-50, 0.5, 0.5, 7, 2e7};
  m.observe_values("m", "1", values);
  const std::string text = m.render();
  EXPECT_TRUE(
      has_line(text, "tabula_predicted_value_bucket{model=\"m\",version=\"1\",le=\"-100\"} 0"));
  EXPECT_TRUE(
      has_line(text, "tabula_predicted_value_bucket{model=\"m\",version=\"1\",le=\"-10\"} 1"));
  EXPECT_TRUE(
      has_line(text, "tabula_predicted_value_bucket{model=\"m\",version=\"1\",le=\"1\"} 3"));
  EXPECT_TRUE(
      has_line(text, "tabula_predicted_value_bucket{model=\"m\",version=\"1\",le=\"10\"} 4"));
  EXPECT_TRUE(
      has_line(text, "tabula_predicted_value_bucket{model=\"m\",version=\"1\",le=\"+Inf\"} 5"));
}

}  // namespace
}  // namespace tabula::serve

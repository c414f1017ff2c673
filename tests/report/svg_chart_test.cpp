// The charts are well-formed XML whatever text they carry, and every text is escaped.
#include "report/svg_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace tabula::report {
namespace {

/// Every tag closed in order, every attribute quoted, no raw '<' or '&' outside markup and
/// entities: enough of XML to catch an unescaped name or a broken writer.
::testing::AssertionResult well_formed(const std::string& xml) {
  std::vector<std::string> open;
  std::size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      const std::size_t semi = xml.find(';', i);
      if (semi == std::string::npos || semi - i > 8)
        return ::testing::AssertionFailure() << "bare '&' at " << i;
      i = semi + 1;
      continue;
    }
    if (xml[i] != '<') {
      if (xml[i] == '>') return ::testing::AssertionFailure() << "bare '>' at " << i;
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    char quote = 0;
    for (; end < xml.size(); ++end) {
      if (quote) {
        if (xml[end] == quote)
          quote = 0;
        else if (xml[end] == '<')
          return ::testing::AssertionFailure() << "'<' in attribute";
      } else if (xml[end] == '\'' || xml[end] == '"') {
        quote = xml[end];
      } else if (xml[end] == '>') {
        break;
      }
    }
    if (end == xml.size()) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    const std::string tag = xml.substr(i + 1, end - i - 1);
    const std::string name =
        tag.substr(tag[0] == '/' ? 1 : 0, tag.find_first_of(" />\n", 1) - (tag[0] == '/' ? 1 : 0));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name)
        return ::testing::AssertionFailure() << "</" << name << "> closes nothing at " << i;
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
    i = end + 1;
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> not closed";
  return ::testing::AssertionSuccess();
}

const std::string kHostile = "<script>alert('x')</script> & \"q\"";

TEST(SvgChart, EscapeCoversMarkupAndQuotes) {
  EXPECT_EQ(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(escape(std::string("x\x01y")), "x\xEF\xBF\xBDy");
  EXPECT_EQ(escape("é"), "é");
}

TEST(SvgChart, CheckerRejectsBrokenXml) {
  EXPECT_FALSE(well_formed("<svg><g></svg>"));
  EXPECT_FALSE(well_formed("<svg>a<b</svg>"));
  EXPECT_FALSE(well_formed("<svg>" + kHostile + "</svg>"));
  EXPECT_TRUE(well_formed("<svg>" + escape(kHostile) + "</svg>"));
}

TEST(SvgChart, LineChartHasOnePolylinePerSeriesAndEscapesNames) {
  LineChart chart{.title = kHostile, .x_label = "fpr", .y_label = kHostile};
  chart.series = {{kHostile, {0, 0.5, 1}, {0, 0.8, 1}}, {"b", {0, 1}, {0, 1}}};
  chart.reference = Reference::kDiagonal;
  chart.unit_square = true;
  const std::string svg = line_chart(chart);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  std::size_t polylines = 0;
  for (std::size_t p = svg.find("<polyline"); p != std::string::npos;
       p = svg.find("<polyline", p + 1))
    ++polylines;
  EXPECT_EQ(polylines, 2u);
  EXPECT_NE(svg.find("class='reference'"), std::string::npos);
}

TEST(SvgChart, ScatterCapsItsPointsAndSkipsNonFinite) {
  ScatterChart chart{.title = "residuals", .x_label = "predicted", .y_label = "residual"};
  for (int i = 0; i < 10000; ++i) {
    chart.x.push_back(i);
    chart.y.push_back(std::sin(i));
  }
  std::string svg = scatter_chart(chart);
  EXPECT_TRUE(well_formed(svg));
  std::size_t circles = 0;
  for (std::size_t p = svg.find("<circle"); p != std::string::npos; p = svg.find("<circle", p + 1))
    ++circles;
  EXPECT_EQ(circles, kMaxScatterPoints);
  EXPECT_NE(svg.find("2000 of 10000 rows shown"), std::string::npos);
  chart.x = {1, 2, NAN};
  chart.y = {1, INFINITY, 3};
  svg = scatter_chart(chart);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(SvgChart, HeatMapWritesEveryCount) {
  const HeatMap chart{"confusion",     "true",          "predicted",
                      {kHostile, "b"}, {kHostile, "b"}, {5, 1, 2, 7}};
  const std::string svg = heat_map(chart);
  EXPECT_TRUE(well_formed(svg));
  for (const char* count : {">5<", ">1<", ">2<", ">7<"})
    EXPECT_NE(svg.find(count), std::string::npos) << count;
  EXPECT_EQ(svg.find("<script"), std::string::npos);
}

TEST(SvgChart, BarChartDrawsErrorBarsAndNegativeValues) {
  const BarChart chart{"importance", "drop", {{kHostile, 0.4, 0.05}, {"noise", -0.01, 0.0}}};
  const std::string svg = bar_chart(chart);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_EQ(svg.find("class='error'"), svg.rfind("class='error'"));  // one error bar only
  EXPECT_NE(svg.find("class='error'"), std::string::npos);
  // A long multi-byte name is cut on a character boundary.
  const BarChart long_name{"t", "x", {{std::string(23, 'a') + "ééé", 1.0, 0.0}}};
  const std::string cut = bar_chart(long_name);
  EXPECT_NE(cut.find(std::string(23, 'a') + "…"), std::string::npos);
}

}  // namespace
}  // namespace tabula::report

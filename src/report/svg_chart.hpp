// Charts as standalone SVG text, written without any library: line charts, scatter plots, a
// heat-map table and horizontal bars. The reports (evaluate, tune) inline them in one HTML file
// that needs no script and no network. Every text put into a chart goes through escape():
// labels, column and class names come from untrusted files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tabula::report {

/// Text made safe for XML/HTML content and quoted attributes (& < > " ').
std::string escape(std::string_view text);

/// A reference line drawn behind the data.
enum class Reference { kNone, kDiagonal, kZero };  // y = x; y = 0

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite points are skipped
};

/// Polylines, one colour per series, with a legend. `unit_square`: both axes span [0, 1]
/// (ROC, precision-recall, calibration); otherwise the data's range.
struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  Reference reference = Reference::kNone;
  bool unit_square = false;
  bool markers = false;  // a dot on every point (calibration bins)
};
std::string line_chart(const LineChart& chart);

/// Points drawn; a larger scatter shows an evenly spaced sample of its rows (every
/// n / kMaxScatterPoints-th), said in the title.
inline constexpr std::size_t kMaxScatterPoints = 2000;
struct ScatterChart {
  std::string title, x_label, y_label;
  std::vector<double> x, y;
  Reference reference = Reference::kNone;
};
std::string scatter_chart(const ScatterChart& chart);

/// A table of counts, rows x cols, shaded by count, the count written in each cell.
struct HeatMap {
  std::string title, row_label, col_label;
  std::vector<std::string> rows, cols;
  std::vector<std::int64_t> counts;  // row-major, rows.size() x cols.size()
};
std::string heat_map(const HeatMap& chart);

/// Horizontal bars from a zero line (negative values to the left), in the given order, with an
/// optional error bar of ± error.
struct Bar {
  std::string label;
  double value = 0.0;
  double error = 0.0;
};
struct BarChart {
  std::string title, x_label;
  std::vector<Bar> bars;
};
std::string bar_chart(const BarChart& chart);

/// Two shares per label (e.g. a reference and a current distribution), drawn as a pair of
/// horizontal bars per label: the first series grey, the second in colour.
struct PairedBarChart {
  std::string title, x_label;
  std::string first_name, second_name;
  std::vector<std::string> labels;
  std::vector<double> first, second;  // one per label
};
std::string paired_bar_chart(const PairedBarChart& chart);

/// The start of a self-contained HTML report page (no script, no network) up to <body>, with
/// the reports' shared style; `title` is escaped.
std::string page_head(std::string_view title);

}  // namespace tabula::report

#include "report/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tabula::report {
namespace {

constexpr double kWidth = 440, kHeight = 320;
constexpr double kLeft = 62, kRight = 16, kTop = 30, kBottom = 46;
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();

  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  /// A usable span: empty or single-valued ranges are widened, others padded by 4%.
  Range padded() const {
    if (!(hi >= lo)) return {0.0, 1.0};
    if (hi == lo) return {lo - 0.5, hi + 0.5};
    const double pad = (hi - lo) * 0.04;
    return {lo - pad, hi + pad};
  }
};

/// The plotting area of a chart: data coordinates to pixels.
struct Frame {
  Range x, y;
  double left = kLeft, right = kWidth - kRight, top = kTop, bottom = kHeight - kBottom;

  double px(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * (right - left); }
  double py(double v) const { return bottom - (v - y.lo) / (y.hi - y.lo) * (bottom - top); }
};

/// About five round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi].
std::vector<double> ticks(Range r) {
  const double raw = (r.hi - r.lo) / 5.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {2.0, 5.0, 10.0})
    if (raw > step) step = power * m;
  const double first = std::ceil(r.lo / step) * step;
  std::vector<double> out;
  // Counted, not accumulated: far from zero, v + step can equal v.
  for (int i = 0; i < 12; ++i) {
    const double v = first + step * i;
    if (v > r.hi + step * 1e-9) break;
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return out;
}

std::string open_svg(const std::string& title, double width = kWidth, double height = kHeight) {
  return fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' class='chart' width='{0}' height='{1}' "
      "viewBox='0 0 {0} {1}' font-family='sans-serif' font-size='11'>\n"
      "<title>{2}</title>\n<text x='{3}' y='18' font-size='13' font-weight='bold'>{2}</text>\n",
      width, height, escape(title), kLeft);
}

/// Axis lines, ticks with values, grid lines and the two axis labels.
/// Vertical grid lines at the x ticks, with their values below the frame.
std::string x_grid(const Frame& f) {
  std::string out;
  for (double v : ticks(f.x))
    out += fmt::format(
        "<line x1='{0:.1f}' y1='{1}' x2='{0:.1f}' y2='{2}' stroke='#eee'/>"
        "<text x='{0:.1f}' y='{3}' text-anchor='middle'>{4:.3g}</text>\n",
        f.px(v), f.top, f.bottom, f.bottom + 14, v);
  return out;
}

std::string axes(const Frame& f, const std::string& x_label, const std::string& y_label) {
  std::string out = fmt::format(
      "<g class='axes' stroke='#333'><line x1='{0}' y1='{1}' x2='{2}' y2='{1}'/>"
      "<line x1='{0}' y1='{3}' x2='{0}' y2='{1}'/></g>\n",
      f.left, f.bottom, f.right, f.top);
  out += x_grid(f);
  for (double v : ticks(f.y))
    out += fmt::format(
        "<line x1='{0}' y1='{1:.1f}' x2='{2}' y2='{1:.1f}' stroke='#eee'/>"
        "<text x='{3}' y='{4:.1f}' text-anchor='end'>{5:.3g}</text>\n",
        f.left, f.py(v), f.right, f.left - 4, f.py(v) + 4, v);
  out += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", (f.left + f.right) / 2,
                     kHeight - 8, escape(x_label));
  out += fmt::format(
      "<text x='14' y='{0}' text-anchor='middle' transform='rotate(-90 14 {0})'>{1}</text>\n",
      (f.top + f.bottom) / 2, escape(y_label));
  return out;
}

std::string reference_line(const Frame& f, Reference reference) {
  const char* style = " stroke='#999' stroke-dasharray='4,4' class='reference'/>\n";
  if (reference == Reference::kDiagonal) {
    const double lo = std::max(f.x.lo, f.y.lo), hi = std::min(f.x.hi, f.y.hi);
    if (!(hi > lo)) return {};
    return fmt::format("<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}'", f.px(lo), f.py(lo),
                       f.px(hi), f.py(hi)) +
           style;
  }
  if (reference == Reference::kZero && f.y.lo < 0 && f.y.hi > 0)
    return fmt::format("<line x1='{}' y1='{:.1f}' x2='{}' y2='{:.1f}'", f.left, f.py(0), f.right,
                       f.py(0)) +
           style;
  return {};
}

std::string legend(const std::vector<Series>& series) {
  if (series.size() < 2 && (series.empty() || series[0].name.empty())) return {};
  std::string out = "<g class='legend'>";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const double y = kTop + 8 + 14 * static_cast<double>(i);
    out += fmt::format(
        "<rect x='{}' y='{}' width='10' height='3' fill='{}'/><text x='{}' y='{}'>{}</text>",
        kWidth - kRight - 120, y - 4, kPalette[i % std::size(kPalette)], kWidth - kRight - 106, y,
        escape(series[i].name));
  }
  return out + "</g>\n";
}

/// At most `bytes` bytes of `text`, never cutting a UTF-8 sequence.
std::string utf8_prefix(const std::string& text, std::size_t bytes) {
  while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) --bytes;
  return text.substr(0, bytes);
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters other than tab and line breaks are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += "\xEF\xBF\xBD";  // U+FFFD
        else
          out += c;
    }
  }
  return out;
}

std::string line_chart(const LineChart& chart) {
  Frame f;
  if (chart.unit_square) {
    f.x = {-0.02, 1.02};
    f.y = {-0.02, 1.02};
  } else {
    Range x, y;
    for (const Series& s : chart.series)
      for (std::size_t i = 0; i < s.x.size(); ++i) x.add(s.x[i]), y.add(s.y[i]);
    f.x = x.padded();
    f.y = y.padded();
  }
  std::string out = open_svg(chart.title) + axes(f, chart.x_label, chart.y_label) +
                    reference_line(f, chart.reference);
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    const char* colour = kPalette[k % std::size(kPalette)];
    std::string points, dots;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      points += fmt::format("{:.1f},{:.1f} ", f.px(s.x[i]), f.py(s.y[i]));
      if (chart.markers)
        dots += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='2.5' fill='{}'/>", f.px(s.x[i]),
                            f.py(s.y[i]), colour);
    }
    out += fmt::format(
        "<polyline class='series' fill='none' stroke='{}' stroke-width='1.6' points='{}'>"
        "<title>{}</title></polyline>{}\n",
        colour, points, escape(s.name), dots);
  }
  return out + legend(chart.series) + "</svg>\n";
}

std::string scatter_chart(const ScatterChart& chart) {
  const std::size_t n = std::min(chart.x.size(), chart.y.size());
  const std::size_t shown = std::min(n, kMaxScatterPoints);
  auto row = [&](std::size_t i) { return n <= kMaxScatterPoints ? i : i * n / shown; };
  Range x, y;
  for (std::size_t i = 0; i < shown; ++i) x.add(chart.x[row(i)]), y.add(chart.y[row(i)]);
  if (chart.reference == Reference::kZero) y.add(0.0);
  Frame f{x.padded(), y.padded()};
  const std::string title =
      n > shown ? fmt::format("{} ({} of {} rows shown)", chart.title, shown, n) : chart.title;
  std::string out = open_svg(title) + axes(f, chart.x_label, chart.y_label) +
                    reference_line(f, chart.reference) + "<g class='points' fill='#1f77b4'>";
  for (std::size_t i = 0; i < shown; ++i) {
    const double xv = chart.x[row(i)], yv = chart.y[row(i)];
    if (std::isfinite(xv) && std::isfinite(yv))
      out += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='2' fill-opacity='0.5'/>", f.px(xv),
                         f.py(yv));
  }
  return out + "</g>\n</svg>\n";
}

std::string heat_map(const HeatMap& chart) {
  constexpr double kCell = 44, kLabelWidth = 110;
  const double k_rows = static_cast<double>(chart.rows.size());
  const double k_cols = static_cast<double>(chart.cols.size());
  const double width = kLabelWidth + kCell * k_cols + 20;
  const double height = kTop + 40 + kCell * k_rows + 30;
  std::int64_t most = 1;
  for (std::int64_t c : chart.counts) most = std::max(most, c);
  std::string out = open_svg(chart.title, std::max(width, 240.0), height);
  const double top = kTop + 40;
  out += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n",
                     kLabelWidth + kCell * k_cols / 2, kTop + 12, escape(chart.col_label));
  for (std::size_t j = 0; j < chart.cols.size(); ++j)
    out += fmt::format("<text x='{:.1f}' y='{}' text-anchor='middle'>{}</text>\n",
                       kLabelWidth + kCell * (static_cast<double>(j) + 0.5), top - 6,
                       escape(chart.cols[j]));
  out += fmt::format("<text x='4' y='{}'>{}</text>\n", top - 6, escape(chart.row_label));
  for (std::size_t i = 0; i < chart.rows.size(); ++i) {
    const double y = top + kCell * static_cast<double>(i);
    out += fmt::format("<text x='{}' y='{:.1f}' text-anchor='end'>{}</text>\n", kLabelWidth - 6,
                       y + kCell / 2 + 4, escape(chart.rows[i]));
    for (std::size_t j = 0; j < chart.cols.size(); ++j) {
      const std::int64_t count = chart.counts[i * chart.cols.size() + j];
      const double shade = static_cast<double>(count) / static_cast<double>(most);
      out += fmt::format(
          "<rect class='cell' x='{:.1f}' y='{:.1f}' width='{}' height='{}' fill='#1f77b4' "
          "fill-opacity='{:.3f}' stroke='#ccc'/><text x='{:.1f}' y='{:.1f}' "
          "text-anchor='middle' fill='{}'>{}</text>\n",
          kLabelWidth + kCell * static_cast<double>(j), y, kCell, kCell, 0.05 + 0.9 * shade,
          kLabelWidth + kCell * (static_cast<double>(j) + 0.5), y + kCell / 2 + 4,
          shade > 0.5 ? "#fff" : "#222", count);
    }
  }
  return out + "</svg>\n";
}

std::string bar_chart(const BarChart& chart) {
  constexpr double kRow = 18, kLabelWidth = 170;
  const double height = kTop + kRow * static_cast<double>(chart.bars.size()) + kBottom;
  Range x;
  x.add(0.0);
  for (const Bar& b : chart.bars) x.add(b.value - b.error), x.add(b.value + b.error);
  Frame f{x.padded(), {0.0, 1.0}};
  f.left = kLabelWidth;
  f.bottom = height - kBottom;
  std::string out = open_svg(chart.title, kWidth, height);
  out += x_grid(f);
  out += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", (f.left + f.right) / 2,
                     height - 8, escape(chart.x_label));
  for (std::size_t i = 0; i < chart.bars.size(); ++i) {
    const Bar& b = chart.bars[i];
    const double y = f.top + kRow * static_cast<double>(i);
    const double x0 = f.px(std::min(0.0, b.value)), x1 = f.px(std::max(0.0, b.value));
    // Long names are cut for the axis; the full name stays in the bar's tooltip.
    const std::string shown = b.label.size() > 26 ? utf8_prefix(b.label, 24) + "…" : b.label;
    out += fmt::format(
        "<text x='{}' y='{:.1f}' text-anchor='end'>{}</text>"
        "<rect class='bar' x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{}' fill='#1f77b4'>"
        "<title>{}: {:.6g} ± {:.3g}</title></rect>\n",
        f.left - 6, y + kRow / 2 + 4, escape(shown), x0, y + 3, std::max(x1 - x0, 0.5), kRow - 6,
        escape(b.label), b.value, b.error);
    if (b.error > 0)
      out += fmt::format(
          "<line class='error' x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' stroke='#222'/>\n",
          f.px(b.value - b.error), y + kRow / 2, f.px(b.value + b.error), y + kRow / 2);
  }
  out += fmt::format("<line x1='{0:.1f}' y1='{1}' x2='{0:.1f}' y2='{2}' stroke='#333'/>\n",
                     f.px(0.0), f.top, f.bottom);
  return out + "</svg>\n";
}

std::string paired_bar_chart(const PairedBarChart& chart) {
  constexpr double kPair = 26, kLabelWidth = 170;
  const double height = kTop + kPair * static_cast<double>(chart.labels.size()) + kBottom + 14;
  Range x;
  x.add(0.0);
  for (double v : chart.first) x.add(v);
  for (double v : chart.second) x.add(v);
  Frame f{x.padded(), {0.0, 1.0}};
  f.left = kLabelWidth;
  f.bottom = height - kBottom - 14;
  std::string out = open_svg(chart.title, kWidth, height);
  out += x_grid(f);
  out += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", (f.left + f.right) / 2,
                     f.bottom + 30, escape(chart.x_label));
  const char* colours[] = {"#aaa", kPalette[0]};
  const std::string* names[] = {&chart.first_name, &chart.second_name};
  for (int s = 0; s < 2; ++s)
    out += fmt::format(
        "<rect x='{:.1f}' y='{:.1f}' width='10' height='10' fill='{}'/>"
        "<text x='{:.1f}' y='{:.1f}'>{}</text>\n",
        f.left + 140.0 * s, height - 18, colours[s], f.left + 140.0 * s + 14, height - 9,
        escape(*names[s]));
  for (std::size_t i = 0; i < chart.labels.size(); ++i) {
    const double y = f.top + kPair * static_cast<double>(i);
    const std::string& label = chart.labels[i];
    const std::string shown = label.size() > 26 ? utf8_prefix(label, 24) + "…" : label;
    out += fmt::format("<text x='{}' y='{:.1f}' text-anchor='end'>{}</text>\n", f.left - 6,
                       y + kPair / 2 + 4, escape(shown));
    const double values[] = {i < chart.first.size() ? chart.first[i] : 0.0,
                             i < chart.second.size() ? chart.second[i] : 0.0};
    for (int s = 0; s < 2; ++s)
      out += fmt::format(
          "<rect class='bar' x='{:.1f}' y='{:.1f}' width='{:.1f}' height='10' fill='{}'>"
          "<title>{} ({}): {:.4g}</title></rect>\n",
          f.px(0.0), y + 2 + 11.0 * s, std::max(f.px(values[s]) - f.px(0.0), 0.5), colours[s],
          escape(label), escape(*names[s]), values[s]);
  }
  return out + "</svg>\n";
}

std::string page_head(std::string_view title) {
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{}</title>\n"
      "<style>body{{font-family:sans-serif;margin:2em;color:#222}}"
      "table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#eee}}"
      ".plots svg{{margin:0 1em 1em 0;border:1px solid #eee;vertical-align:top}}</style>"
      "</head><body>\n",
      escape(title));
}

}  // namespace tabula::report

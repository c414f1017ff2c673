#include "selection/tuning_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "report/svg_chart.hpp"
#include "selection/journal.hpp"
#include "tabula/evaluation/evaluation.hpp"

namespace tabula::selection {
namespace {

std::string cell(double v) { return std::isfinite(v) ? fmt::format("{}", v) : ""; }

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<const TrialResult*> all_rows(const TuneResult& r) {
  std::vector<const TrialResult*> rows;
  for (const TrialResult& t : r.leaderboard) rows.push_back(&t);
  // Earlier halving rounds after the final one, latest round first.
  std::vector<const TrialResult*> earlier;
  for (const TrialResult& t : r.earlier_rounds) earlier.push_back(&t);
  std::stable_sort(earlier.begin(), earlier.end(),
                   [](const TrialResult* a, const TrialResult* b) { return a->round > b->round; });
  rows.insert(rows.end(), earlier.begin(), earlier.end());
  return rows;
}

bool parse_number(const std::string& s, double* v) {
  try {
    std::size_t used = 0;
    *v = std::stod(s, &used);
    return used == s.size() && std::isfinite(*v);
  } catch (const std::exception&) {
    return false;
  }
}

/// Score against one parameter: mean ± std per trial, fold scores as dots, baseline dashed.
// long: one SVG written top to bottom (scale, axes, baseline, points); its pieces share every
// coordinate, so split they would pass a dozen values to each other.
std::string param_plot(const TuneResult& r, const std::string& name, double baseline) {
  struct Point {
    std::string label;
    double x = 0.0, mean = 0.0, sd = 0.0;
    std::vector<double> folds;
  };
  std::vector<Point> points;
  bool numeric = true;
  for (const TrialResult& t : r.leaderboard) {
    auto it = t.params.find(name);
    if (it == t.params.end() || !std::isfinite(t.mean(0))) continue;
    Point p;
    p.label = it->second;
    numeric &= parse_number(p.label, &p.x);
    p.mean = t.mean(0);
    p.sd = t.stdev(0);
    p.folds = t.scores[0];
    points.push_back(std::move(p));
  }
  if (points.empty()) return {};
  std::vector<std::string> categories;
  if (!numeric) {
    std::set<std::string> seen;
    for (const Point& p : points)
      if (seen.insert(p.label).second) categories.push_back(p.label);
    for (Point& p : points)
      p.x = static_cast<double>(std::find(categories.begin(), categories.end(), p.label) -
                                categories.begin());
  }
  double x_lo = points[0].x, x_hi = points[0].x;
  for (const Point& p : points) x_lo = std::min(x_lo, p.x), x_hi = std::max(x_hi, p.x);
  const bool log_x = numeric && x_lo > 0 && x_hi / x_lo >= 100;
  auto xt = [&](double v) { return log_x ? std::log10(v) : v; };
  double a = xt(x_lo), b = xt(x_hi);
  if (!numeric) a -= 0.5, b += 0.5;
  if (a == b) a -= 1, b += 1;
  double y_lo = std::numeric_limits<double>::infinity(), y_hi = -y_lo;
  for (const Point& p : points)
    for (double v : p.folds)
      if (std::isfinite(v)) y_lo = std::min(y_lo, v), y_hi = std::max(y_hi, v);
  if (std::isfinite(baseline)) y_lo = std::min(y_lo, baseline), y_hi = std::max(y_hi, baseline);
  if (!(y_hi > y_lo)) y_lo -= 0.5, y_hi += 0.5;
  const double pad = (y_hi - y_lo) * 0.05;
  y_lo -= pad, y_hi += pad;
  constexpr double kW = 520, kH = 280, kL = 60, kR = 15, kT = 25, kB = 40;
  auto px = [&](double v) { return kL + (xt(v) - a) / (b - a) * (kW - kL - kR); };
  auto pxc = [&](double v) { return kL + (v - a) / (b - a) * (kW - kL - kR); };
  auto py = [&](double v) { return kT + (y_hi - v) / (y_hi - y_lo) * (kH - kT - kB); };
  auto X = [&](double v) { return numeric ? px(v) : pxc(v); };
  std::string svg = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-size='11'>\n"
      "<text x='{}' y='15' font-weight='bold'>{} vs {}{}</text>\n"
      "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#333'/>\n"
      "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#333'/>\n",
      kW, kH, kL, report::escape(r.metric_names[0]), report::escape(name),
      log_x ? " (log scale)" : "", kL, kH - kB, kW - kR, kH - kB, kL, kT, kL, kH - kB);
  for (int i = 0; i <= 4; ++i) {
    const double v = y_lo + (y_hi - y_lo) * i / 4.0;
    svg +=
        fmt::format("<text x='{}' y='{}' text-anchor='end'>{:.4g}</text>\n", kL - 4, py(v) + 4, v);
  }
  if (numeric) {
    for (int i = 0; i <= 4; ++i) {
      const double t = a + (b - a) * i / 4.0;
      const double v = log_x ? std::pow(10.0, t) : t;
      svg += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{:.3g}</text>\n",
                         kL + (t - a) / (b - a) * (kW - kL - kR), kH - kB + 15, v);
    }
  } else {
    for (std::size_t c = 0; c < categories.size(); ++c)
      svg += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n",
                         pxc(static_cast<double>(c)), kH - kB + 15, report::escape(categories[c]));
  }
  svg += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", (kL + kW - kR) / 2,
                     kH - 5, report::escape(name));
  if (std::isfinite(baseline))
    svg += fmt::format(
        "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#c33' stroke-dasharray='5,4'/>"
        "<text x='{}' y='{}' fill='#c33' text-anchor='end'>baseline (dummy) {:.4g}</text>\n",
        kL, py(baseline), kW - kR, py(baseline), kW - kR, py(baseline) - 4, baseline);
  for (const Point& p : points) {
    const double cx = X(p.x);
    for (double v : p.folds)
      if (std::isfinite(v))
        svg += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='1.8' fill='#9ab'/>", cx, py(v));
    svg += fmt::format(
        "<line x1='{0:.1f}' y1='{1:.1f}' x2='{0:.1f}' y2='{2:.1f}' stroke='#246'/>"
        "<circle cx='{0:.1f}' cy='{3:.1f}' r='3.5' fill='#246'><title>{4}={5}: {6:.5g} ± "
        "{7:.3g}</title></circle>\n",
        cx, py(p.mean - p.sd), py(p.mean + p.sd), py(p.mean), report::escape(name),
        report::escape(p.label), p.mean, p.sd);
  }
  return svg + "</svg>\n";
}

}  // namespace

std::vector<std::string> param_names(const TuneResult& result) {
  std::vector<std::string> names;
  for (const TrialResult* t : all_rows(result))
    for (const auto& [k, v] : t->params)
      if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
  return names;
}

std::string leaderboard_csv(const TuneResult& result) {
  const std::vector<std::string> names = param_names(result);
  std::string out = "rank,round,trial,resource";
  for (const std::string& n : names) out += ",param_" + csv_quote(n);
  for (const std::string& m : result.metric_names) out += ",mean_" + m + ",std_" + m;
  out += ",mean_fit_time,mean_score_time,path\n";
  std::int64_t rank = 0;
  for (const TrialResult* t : all_rows(result)) {
    out += fmt::format("{},{},{},{}", ++rank, t->round, t->trial, t->resource);
    for (const std::string& n : names) {
      auto it = t->params.find(n);
      out += "," + (it == t->params.end() ? std::string() : csv_quote(it->second));
    }
    for (std::size_t m = 0; m < result.metric_names.size(); ++m)
      out += "," + cell(t->mean(m)) + "," + cell(t->stdev(m));
    out += fmt::format(",{:.6f},{:.6f},{}\n", t->fit_seconds, t->score_seconds, t->path);
  }
  return out;
}

nlohmann::json leaderboard_json(const TuneResult& result, const nlohmann::json& info) {
  nlohmann::json doc = info;
  nlohmann::json rows = nlohmann::json::array();
  std::int64_t rank = 0;
  for (const TrialResult* t : all_rows(result)) {
    nlohmann::json row = trial_to_json(*t);
    row["rank"] = ++rank;
    nlohmann::json summary = nlohmann::json::object();
    for (std::size_t m = 0; m < result.metric_names.size(); ++m) {
      const double mean = t->mean(m), sd = t->stdev(m);
      summary[result.metric_names[m]] = {
          {"mean", std::isfinite(mean) ? nlohmann::json(mean) : nlohmann::json()},
          {"std", std::isfinite(sd) ? nlohmann::json(sd) : nlohmann::json()}};
    }
    row["metrics"] = summary;
    row["resumed"] = t->resumed;
    rows.push_back(row);
  }
  doc["leaderboard"] = rows;
  return doc;
}

namespace {

// The refitted best model's top features by name (search_report's `best_features`), a table
// per attribute; empty when the model has none (baselines, PCA).
std::string best_features_html(const nlohmann::json& info) {
  const nlohmann::json ranked = info.value("best_features", nlohmann::json::object());
  std::string out;
  for (const auto& [key, list] : ranked.items()) {
    out += fmt::format(
        "<h2>Best model: {} by feature (top {} of {})</h2>\n<table>"
        "<tr><th>feature</th><th>value</th></tr>\n",
        report::escape(key), list.at("top").size(), list.at("n_features").dump());
    for (const auto& entry : list.at("top"))
      out += fmt::format("<tr><td style='text-align:left'>{}</td><td>{:.6g}</td></tr>\n",
                         report::escape(entry.at("feature").get<std::string>()),
                         entry.at("value").get<double>());
    out += "</table>\n";
  }
  return out;
}

// The refitted best model on the test rows: the charts of `tabula evaluate`.
std::string test_evaluation_html(const nlohmann::json& info) {
  if (!info.contains("test_evaluation")) return {};
  const nlohmann::json& e = info["test_evaluation"];
  if (e.contains("error"))
    return fmt::format("<h2>Best model on the test set</h2>\n<p>not drawn: {}</p>\n",
                       report::escape(e["error"].get<std::string>()));
  return fmt::format("<h1>Best model on the test set ({} rows)</h1>\n", e.at("rows").dump()) +
         evaluation::report_sections(e);
}

}  // namespace

std::string report_html(const TuneResult& result, const nlohmann::json& info) {
  std::string out = report::page_head("tabula tune report");
  out += fmt::format("<h1>Search: {} ({})</h1>\n", report::escape(info.value("model", "")),
                     report::escape(info.value("task", "")));
  out += "<ul>";
  out += fmt::format("<li>metric: <b>{}</b> (greater is better)</li>",
                     report::escape(result.metric_names[0]));
  out += fmt::format("<li>search: {}, {} candidate(s), scheme: {}</li>",
                     report::escape(info.value("search", "")), result.candidates,
                     report::escape(info["scheme"].value("kind", "")));
  out += fmt::format("<li>path: {}</li>", report::escape(info.value("path", "")));
  if (!result.leaderboard.empty()) {
    const TrialResult& best = result.leaderboard.front();
    std::string params;
    for (const auto& [k, v] : best.params) params += (params.empty() ? "" : ", ") + k + "=" + v;
    out += fmt::format("<li>best: {} — CV {:.6g} ± {:.3g}</li>", report::escape(params),
                       best.mean(0), best.stdev(0));
  }
  if (result.test_score)
    out += fmt::format("<li>test score of the refitted best: {:.6g}</li>", *result.test_score);
  out += fmt::format("<li>baseline (dummy) CV: {:.6g}</li>", result.baseline.mean(0));
  if (result.stopped_by_budget) out += "<li><b>stopped by the time budget</b></li>";
  for (const std::string& note : result.notes)
    out += fmt::format("<li>{}</li>", report::escape(note));
  out +=
      "</ul>\n<h2>Score against each parameter</h2>\n<p>Dark dots: mean over folds with ±1 "
      "std bars; light dots: each fold; dashed: the dummy baseline.</p>\n<div class='plots'>\n";
  for (const auto& [k, v] : result.leaderboard.empty() ? ParamMap{} : result.leaderboard[0].params)
    out += param_plot(result, k, result.baseline.mean(0));
  out += "</div>\n" + best_features_html(info) + test_evaluation_html(info);
  out += "<h2>Leaderboard</h2>\n<table><tr><th>rank</th><th>round</th><th>trial</th>";
  const std::vector<std::string> names = param_names(result);
  for (const std::string& n : names) out += fmt::format("<th>{}</th>", report::escape(n));
  for (const std::string& m : result.metric_names)
    out += fmt::format("<th>{}</th>", report::escape(m));
  out += "<th>fit s</th></tr>\n";
  std::int64_t rank = 0;
  for (const TrialResult* t : all_rows(result)) {
    if (++rank > 200) break;
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td>", rank, t->round, t->trial);
    for (const std::string& n : names) {
      auto it = t->params.find(n);
      out += fmt::format("<td>{}</td>", report::escape(it == t->params.end() ? "" : it->second));
    }
    for (std::size_t m = 0; m < result.metric_names.size(); ++m)
      out += fmt::format("<td>{:.5g} ± {:.2g}</td>", t->mean(m), t->stdev(m));
    out += fmt::format("<td>{:.3g}</td></tr>\n", t->fit_seconds);
  }
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace tabula::selection

// A drift report drawn: the HTML page (report/svg_chart) and the terminal summary.
#include <fmt/format.h>

#include <algorithm>

#include "report/svg_chart.hpp"
#include "tabula/monitoring/monitor.hpp"

namespace tabula::monitoring {
namespace {

using report::escape;

constexpr std::size_t kOverlaysWhenNoDrift = 4;

std::string number_or_dash(const nlohmann::json& v) {
  return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : "-";
}

std::string percent_or_dash(const nlohmann::json& v) {
  return v.is_number() ? fmt::format("{:.2f}%", 100 * v.get<double>()) : "-";
}

/// The report's columns, the prediction last, by falling PSI.
std::vector<const nlohmann::json*> by_psi(const nlohmann::json& report) {
  std::vector<const nlohmann::json*> columns;
  for (const auto& c : report.at("features")) columns.push_back(&c);
  if (!report.at("prediction").is_null()) columns.push_back(&report["prediction"]);
  std::stable_sort(columns.begin(), columns.end(), [](const auto* a, const auto* b) {
    return a->at("psi").template get<double>() > b->at("psi").template get<double>();
  });
  return columns;
}

/// "drifted" for a drifted column; dates are never judged (their values move with time).
std::string drifted_cell(const nlohmann::json& column) {
  if (!column.value("judged", true)) return "date: not judged";
  return column.at("drifted").get<bool>() ? "drifted" : "";
}

std::string verdict_text(const nlohmann::json& report) {
  const std::string status = report.at("status").get<std::string>();
  if (status == "insufficient_data")
    return fmt::format("not enough rows for a verdict ({} counted, {} needed)",
                       report.at("rows").get<std::int64_t>(),
                       report.at("min_rows").get<std::int64_t>());
  if (status == "ok")
    return fmt::format("no drift: every PSI is at most {}", report.at("threshold").dump());
  return fmt::format("DRIFT in {} column(s): PSI above {}", report.at("drifted_columns").size(),
                     report.at("threshold").dump());
}

std::string overlay(const nlohmann::json& column) {
  report::PairedBarChart chart;
  chart.title = fmt::format("{} (PSI {:.3f})", column.at("name").get<std::string>(),
                            column.at("psi").get<double>());
  chart.x_label = "share of rows";
  chart.first_name = "training";
  chart.second_name = "current";
  for (const auto& g : column.at("groups")) {
    chart.labels.push_back(g.at("label").get<std::string>());
    chart.first.push_back(g.at("reference").get<double>());
    chart.second.push_back(g.at("current").get<double>());
  }
  return report::paired_bar_chart(chart);
}

}  // namespace

std::string monitor_page(const nlohmann::json& report) {
  std::string out = report::page_head("tabula monitor");
  out += fmt::format(
      "<h1>Drift report</h1>\n<p class='verdict'><b>{}</b></p>\n"
      "<p>model {} ({}) against {}: {} rows ({} refused); reference: {}</p>\n",
      escape(verdict_text(report)), escape(report.value("model_file", "")),
      escape(report.value("model", "")), escape(report.value("data_file", "")),
      report.at("rows").dump(), report.value("rows_refused", 0),
      escape(report.value("reference", "")));
  const std::vector<const nlohmann::json*> columns = by_psi(report);
  out +=
      "<h2>Columns</h2>\n<table class='drift'><tr><th>column</th><th>type</th><th>PSI</th>"
      "<th>KS</th><th>missing (training)</th><th>missing (now)</th><th>unseen</th>"
      "<th>drifted</th></tr>\n";
  for (const nlohmann::json* c : columns)
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        escape(c->at("name").get<std::string>()), escape(c->at("type").get<std::string>()),
        number_or_dash(c->at("psi")), number_or_dash(c->at("ks")),
        percent_or_dash(c->at("missing_reference")), percent_or_dash(c->at("missing_current")),
        percent_or_dash(c->at("unseen")), drifted_cell(*c));
  out += "</table>\n<h2>Distributions</h2>\n<div class='plots'>\n";
  std::size_t drawn = 0;
  for (const nlohmann::json* c : columns) {
    const bool drifted = c->at("drifted").get<bool>();
    if (!drifted && drawn >= kOverlaysWhenNoDrift) break;
    out += overlay(*c);
    ++drawn;
  }
  return out + "</div>\n</body></html>\n";
}

std::string monitor_summary(const nlohmann::json& report) {
  std::string out = verdict_text(report) + "\n";
  out +=
      fmt::format("{:<28} {:>8} {:>8} {:>9} {:>8}\n", "column", "psi", "ks", "missing", "unseen");
  std::size_t shown = 0;
  for (const nlohmann::json* c : by_psi(report)) {
    if (++shown > 15) break;
    std::string line =
        fmt::format("{:<28} {:>8} {:>8} {:>9} {:>8}  {}", c->at("name").get<std::string>(),
                    number_or_dash(c->at("psi")), number_or_dash(c->at("ks")),
                    percent_or_dash(c->at("missing_current")), percent_or_dash(c->at("unseen")),
                    drifted_cell(*c));
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  if (report.value("rows_refused", 0) > 0)
    out += fmt::format("{} row(s) refused by the pipeline (first: {})\n",
                       report.at("rows_refused").get<std::int64_t>(),
                       report.value("first_refusal", ""));
  return out;
}

}  // namespace tabula::monitoring

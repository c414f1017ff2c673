// An evaluation drawn: the HTML sections (charts from report/svg_chart), the page, the text.
#include <fmt/format.h>

#include <cmath>

#include "report/svg_chart.hpp"
#include "tabula/evaluation/compare.hpp"
#include "tabula/evaluation/evaluation.hpp"

namespace tabula::evaluation {
namespace {

using report::escape;

std::vector<double> numbers(const nlohmann::json& values) {
  std::vector<double> out;
  for (const auto& v : values) out.push_back(v.is_number() ? v.get<double>() : NAN);
  return out;
}

std::string metrics_table(const nlohmann::json& e) {
  std::string out = "<table class='metrics'><tr><th>metric</th><th>value</th></tr>\n";
  for (const auto& [name, value] : e.at("metrics").items())
    out += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", escape(name),
                       value.is_number() ? fmt::format("{:.4f}", value.get<double>()) : "-");
  return out + "</table>\n";
}

/// One line chart with a series per class from the curves in e[key].
std::string curve_chart(const nlohmann::json& e, const char* key, const char* x, const char* y,
                        report::LineChart chart) {
  for (const auto& curve : e.at(key)) {
    std::string name = curve.at("class").get<std::string>();
    if (curve.contains("auc")) name += fmt::format(" (AUC {:.3f})", curve.at("auc").get<double>());
    chart.series.push_back({name, numbers(curve.at(x)), numbers(curve.at(y))});
  }
  return chart.series.empty() ? std::string() : report::line_chart(chart);
}

std::string classification_charts(const nlohmann::json& e) {
  const auto classes = e.at("classes").get<std::vector<std::string>>();
  std::vector<std::int64_t> counts;
  for (const auto& row : e.at("confusion_matrix"))
    for (const auto& c : row) counts.push_back(c.get<std::int64_t>());
  std::string out = report::heat_map(
      {"Confusion matrix", "true \\ predicted", "predicted", classes, classes, counts});
  out += curve_chart(e, "roc", "fpr", "tpr",
                     {.title = "ROC curve",
                      .x_label = "false positive rate",
                      .y_label = "true positive rate",
                      .reference = report::Reference::kDiagonal,
                      .unit_square = true});
  out += curve_chart(e, "precision_recall", "recall", "precision",
                     {.title = "Precision-recall curve",
                      .x_label = "recall",
                      .y_label = "precision",
                      .unit_square = true});
  out += curve_chart(e, "calibration", "prob_pred", "prob_true",
                     {.title = "Calibration curve (10 bins)",
                      .x_label = "mean predicted probability",
                      .y_label = "fraction of positives",
                      .reference = report::Reference::kDiagonal,
                      .unit_square = true,
                      .markers = true});
  return out;
}

std::string regression_charts(const nlohmann::json& e) {
  const std::vector<double> actual = numbers(e.at("points").at("actual"));
  const std::vector<double> predicted = numbers(e.at("points").at("predicted"));
  std::vector<double> residual(actual.size());
  for (std::size_t i = 0; i < actual.size(); ++i) residual[i] = actual[i] - predicted[i];
  const std::string target = e.value("target", "target");
  std::string out = report::scatter_chart({"Predicted vs actual", "actual " + target, "predicted",
                                           actual, predicted, report::Reference::kDiagonal});
  out += report::scatter_chart({"Residuals vs predicted", "predicted", "actual - predicted",
                                predicted, residual, report::Reference::kZero});
  return out;
}

std::string importance_charts(const nlohmann::json& e) {
  std::string out;
  for (const auto& [key, list] : e.at("feature_importances").items()) {
    report::BarChart chart{fmt::format("Model {} (top {} of {})", key, list.at("top").size(),
                                       list.at("n_features").dump()),
                           key == "coef_" ? "coefficient" : "importance",
                           {}};
    for (const auto& entry : list.at("top"))
      chart.bars.push_back(
          {entry.at("feature").get<std::string>(), entry.at("value").get<double>()});
    out += report::bar_chart(chart);
  }
  const nlohmann::json& p = e.at("permutation_importance");
  report::BarChart chart{fmt::format("Permutation importance ({} repeats, {} rows)",
                                     p.at("n_repeats").dump(), p.at("rows").dump()),
                         "drop in " + p.at("metric").get<std::string>() + " when shuffled",
                         {}};
  for (const auto& c : p.at("columns"))
    chart.bars.push_back(
        {c.at("column").get<std::string>(), c.at("mean").get<double>(), c.at("std").get<double>()});
  return out + report::bar_chart(chart);
}

}  // namespace

namespace {

std::string notes_list(const nlohmann::json& notes) {
  if (notes.empty()) return "";
  std::string out = "<ul class='notes'>";
  for (const auto& note : notes) out += fmt::format("<li>{}</li>", escape(note.get<std::string>()));
  return out + "</ul>\n";
}

}  // namespace

std::string report_sections(const nlohmann::json& e) {
  std::string out = "<h2>Metrics</h2>\n" + metrics_table(e) + notes_list(e.at("notes"));
  out += "<h2>Predictions</h2>\n<div class='plots'>\n";
  out += e.at("task") == "classification" ? classification_charts(e) : regression_charts(e);
  out += "</div>\n<h2>Importance</h2>\n<div class='plots'>\n" + importance_charts(e) + "</div>\n";
  return out;
}

std::string report_page(const nlohmann::json& e) {
  std::string out = report::page_head("tabula evaluation");
  out +=
      fmt::format("<h1>Evaluation: {} ({})</h1>\n<p>model {} on {}: {} rows, target {}</p>\n",
                  escape(e.at("model").get<std::string>()), escape(e.at("task").get<std::string>()),
                  escape(e.value("model_file", "")), escape(e.value("data_file", "")),
                  e.at("rows").dump(), escape(e.value("target", "")));
  return out + report_sections(e) + "</body></html>\n";
}

std::string summary_text(const nlohmann::json& e) {
  std::string out =
      fmt::format("{} rows, target '{}'\n", e.at("rows").dump(), e.value("target", ""));
  for (const auto& [name, value] : e.at("metrics").items())
    out += fmt::format("{:<20} {:>10}\n", name,
                       value.is_number() ? fmt::format("{:.4f}", value.get<double>()) : "-");
  const nlohmann::json& p = e.at("permutation_importance");
  out += fmt::format("permutation importance (drop in {}):\n", p.at("metric").get<std::string>());
  std::size_t shown = 0;
  for (const auto& c : p.at("columns")) {
    if (++shown > 10) break;
    out += fmt::format("  {:<28} {:>9.4f} ± {:.4f}\n", c.at("column").get<std::string>(),
                       c.at("mean").get<double>(), c.at("std").get<double>());
  }
  for (const auto& note : e.at("notes")) out += "note: " + note.get<std::string>() + "\n";
  return out;
}

std::string compare_report_page(const nlohmann::json& c) {
  const std::string a = c.at("a").at("file"), b = c.at("b").at("file");
  std::string out = report::page_head("tabula compare");
  out += fmt::format(
      "<h1>Compare: a {} against b {}</h1>\n<p>a: {} ({}); b: {} ({}); {} rows of {}, target {}; "
      "{} paired bootstrap resamples (seed {}), {:g}% intervals of b &minus; a</p>\n",
      escape(a), escape(b), escape(c["a"]["model"].get<std::string>()), escape(a),
      escape(c["b"]["model"].get<std::string>()), escape(b), c.at("rows").dump(),
      escape(c.value("data_file", "")), escape(c.value("target", "")), c.at("n_bootstrap").dump(),
      c.at("seed").dump(), 100.0 * c.at("confidence").get<double>());
  out += fmt::format("<p><b>Overall: {}</b></p>\n",
                     escape(c["overall"]["summary"].get<std::string>()));
  auto cell = [](const nlohmann::json& v) {
    return v.is_number() ? fmt::format("{:.6g}", v.get<double>()) : std::string("-");
  };
  out +=
      "<table><tr><th>metric</th><th>a</th><th>b</th><th>b &minus; a</th><th>interval</th>"
      "<th>verdict</th></tr>\n";
  std::string charts;
  for (const nlohmann::json& m : c.at("metrics")) {
    const std::string name = m.at("metric");
    out += fmt::format(
        "<tr><td style='text-align:left'>{}</td><td>{}</td><td>{}</td><td>{}</td><td>[{}, {}]</td>"
        "<td style='text-align:left'>{}</td></tr>\n",
        escape(name), cell(m["a"]), cell(m["b"]), cell(m["difference"]), cell(m["ci"][0]),
        cell(m["ci"][1]), escape(m.at("summary").get<std::string>()));
    if (!m["a"].is_number() || !m["b"].is_number()) continue;
    report::BarChart chart{name + (m.at("greater_is_better").get<bool>() ? " (higher is better)"
                                                                         : " (lower is better)"),
                           name,
                           {{"a", m["a"].get<double>(), 0.0}, {"b", m["b"].get<double>(), 0.0}}};
    charts += report::bar_chart(chart);
  }
  out += "</table>\n" + notes_list(c.at("notes"));
  return out + "<h2>Both models</h2>\n<div class='plots'>\n" + charts + "</div>\n</body></html>\n";
}

}  // namespace tabula::evaluation

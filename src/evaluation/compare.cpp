// Champion against challenger: both models' predictions computed once on the same rows, the
// metrics from the registry's scorers, and the paired bootstrap over row counts.
#include "tabula/evaluation/compare.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "evaluation/labelled_rows.hpp"
#include "evaluation/paired_bootstrap.hpp"
#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula::evaluation {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

/// One side of the comparison: the model file, and its predictions on the rows.
struct Side {
  std::string path;
  LoadedModel model;
  TestPredictions predictions;
};

/// The registry's scorers compared for a task. Scorers follow sklearn's sign (greater is
/// better, losses negated: neg_log_loss); they are shown under the loss's own name and sign.
std::vector<std::string> scorer_names(Task task, std::size_t classes, bool probabilities) {
  if (task == Task::kRegression)
    return {"r2", "neg_mean_squared_error", "neg_root_mean_squared_error",
            "neg_mean_absolute_error"};
  std::vector<std::string> names{"accuracy", "balanced_accuracy", classes == 2 ? "f1" : "f1_macro"};
  if (probabilities) {
    names.push_back("roc_auc");
    names.push_back("neg_log_loss");
  }
  return names;
}

bool greater_is_better(const std::string& scorer) { return !scorer.starts_with("neg_"); }

std::string shown_name(const std::string& scorer) {
  return greater_is_better(scorer) ? scorer : scorer.substr(4);
}

std::string label_list(const ModelSchema& schema) {
  std::string out;
  for (std::size_t c = 0; c < schema.class_labels.size() && c < 20; ++c)
    out += (c ? ", " : "") + schema.class_labels[c];
  return schema.class_labels.size() > 20 ? out + ", ..." : out;
}

/// Both models must answer the same question: same task, same classes (1 and 1.0 are one class
/// of a numeric target).
void check_comparable(const Side& a, const Side& b) {
  const Task ta = a.model.estimator->task(), tb = b.model.estimator->task();
  if (ta != tb)
    throw InputError(fmt::format(
        "compare: {} is a {} model but {} is a {} model; compare needs two models of one task",
        a.path, to_string(ta), b.path, to_string(tb)));
  if (ta != Task::kClassification) return;
  const ModelSchema &sa = a.model.schema, &sb = b.model.schema;
  bool same =
      sa.class_labels.size() == sb.class_labels.size() && sa.numeric_labels == sb.numeric_labels;
  for (std::size_t c = 0; same && c < sa.class_labels.size(); ++c)
    same = sa.label_json(c) == sb.label_json(c);
  if (!same)
    throw InputError(fmt::format(
        "compare: {}'s classes ({}) differ from {}'s ({}); compare needs two classifiers of the "
        "same classes",
        a.path, label_list(sa), b.path, label_list(sb)));
}

Side load_side(const std::string& path) {
  Side side{path, load_model(path), {}};
  require_supervised(*side.model.estimator, path + ": ", "compare");
  return side;
}

void predict_side(Backend& backend, const Dataset& data, Side& side, const char* which,
                  std::vector<std::string>& notes) {
  std::vector<std::string> own;
  try {
    const Predictor predictor(backend, *side.model.estimator, side.model.pipeline.get());
    side.predictions = predict_rows(predictor, data, &own);
  } catch (const InputError& e) {
    throw InputError(side.path + ": " + e.what());
  }
  for (const std::string& note : own)
    notes.push_back(fmt::format("{} ({}): {}", which, side.path, note));
}

double point_score(const std::string& scorer, std::span<const double> y, const Side& side,
                   std::int64_t k, std::vector<std::string>& notes) {
  try {
    return metrics::score(scorer, y, side.predictions.pred, side.predictions.proba, k);
  } catch (const InputError& e) {
    notes.push_back(shown_name(scorer) + " not defined on these rows: " + e.what());
    return kNaN;
  }
}

/// "b", "a" or "none" from the interval of b - a in the scorer's sign.
std::string verdict_of(double low, double high) {
  if (!std::isfinite(low) || !std::isfinite(high)) return "undefined";
  return low > 0.0 ? "b" : high < 0.0 ? "a" : "none";
}

std::string sentence(const nlohmann::json& m) {
  const std::string verdict = m.at("verdict");
  if (verdict == "undefined") return m.at("metric").get<std::string>() + ": not compared";
  const std::string numbers =
      fmt::format("{:+.4g} [{:+.4g}, {:+.4g}]", m.at("difference").get<double>(),
                  m.at("ci")[0].get<double>(), m.at("ci")[1].get<double>());
  if (verdict == "none")
    return fmt::format("no significant difference on {}: {}", m.at("metric").get<std::string>(),
                       numbers);
  return fmt::format("{} is better on {}: {}", verdict, m.at("metric").get<std::string>(), numbers);
}

/// One metric's entry: both values, b - a and its interval under the shown name and sign.
nlohmann::json metric_entry(const std::string& scorer, double a, double b,
                            const std::vector<double>& differences, double confidence) {
  const double sign = greater_is_better(scorer) ? 1.0 : -1.0;
  const double tail = (1.0 - confidence) / 2.0;
  const double low = quantile(differences, tail), high = quantile(differences, 1.0 - tail);
  std::size_t undefined = 0;
  for (double d : differences) undefined += std::isfinite(d) ? 0 : 1;
  nlohmann::json m = {{"metric", shown_name(scorer)},
                      {"scorer", scorer},
                      {"greater_is_better", greater_is_better(scorer)},
                      {"a", number(sign * a)},
                      {"b", number(sign * b)},
                      {"difference", number(sign * (b - a))},
                      {"ci", {number(sign > 0 ? low : -high), number(sign > 0 ? high : -low)}},
                      {"undefined_resamples", undefined}};
  m["verdict"] = std::isfinite(a) && std::isfinite(b) ? verdict_of(low, high) : "undefined";
  m["summary"] = sentence(m);
  return m;
}

/// Overall: a side is better when it wins at least one metric and loses none.
nlohmann::json overall(const nlohmann::json& entries) {
  std::vector<std::string> a_wins, b_wins;
  for (const nlohmann::json& m : entries) {
    if (m["verdict"] == "a") a_wins.push_back(m["metric"].get<std::string>());
    if (m["verdict"] == "b") b_wins.push_back(m["metric"].get<std::string>());
  }
  const std::string verdict = !a_wins.empty() && !b_wins.empty() ? "mixed"
                              : !b_wins.empty()                  ? "b"
                              : !a_wins.empty()                  ? "a"
                                                                 : "none";
  auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  std::string text =
      verdict == "mixed"
          ? "mixed: a is better on " + list(a_wins) + ", b is better on " + list(b_wins)
      : verdict == "none"
          ? "no significant difference"
          : verdict + " is better (on " + list(verdict == "a" ? a_wins : b_wins) + ")";
  return {
      {"verdict", verdict}, {"summary", text}, {"a_better_on", a_wins}, {"b_better_on", b_wins}};
}

nlohmann::json side_json(const Side& side) {
  return {{"file", side.path},
          {"model", side.model.estimator->name()},
          {"task", std::string(to_string(side.model.estimator->task()))}};
}

void check_options(const CompareOptions& options) {
  if (options.n_bootstrap < 1)
    throw InputError("compare: --n-bootstrap must be at least 1, got " +
                     std::to_string(options.n_bootstrap));
  if (!(options.confidence > 0.0 && options.confidence < 1.0))
    throw InputError("compare: --confidence must lie in (0, 1), got " +
                     std::to_string(options.confidence));
}

}  // namespace

nlohmann::json compare_files(Backend& backend, const CompareOptions& options) {
  check_options(options);
  Side a = load_side(options.model_a), b = load_side(options.model_b);
  check_comparable(a, b);
  const LabelledRows rows =
      read_labelled_rows(a.model, options.data_path, options.target, options.csv, "compare");
  std::vector<std::string> notes;
  predict_side(backend, rows.data, a, "a", notes);
  predict_side(backend, rows.data, b, "b", notes);
  const Task task = a.model.estimator->task();
  const std::size_t classes = a.model.schema.class_labels.size();
  const auto k = static_cast<std::int64_t>(classes);
  const bool probabilities = !a.predictions.proba.empty() && !b.predictions.proba.empty();
  if (task == Task::kClassification && !probabilities)
    notes.push_back("roc_auc and log_loss left out: both models must give probabilities");
  const std::vector<std::string> scorers = scorer_names(task, classes, probabilities);

  std::vector<double> score_a, score_b;
  std::vector<CountedScorer> counted_a, counted_b;
  for (const std::string& s : scorers) {
    score_a.push_back(point_score(s, rows.y, a, k, notes));
    score_b.push_back(point_score(s, rows.y, b, k, notes));
    if (!std::isfinite(score_a.back()) || !std::isfinite(score_b.back())) continue;
    const auto scored = [&](const Side& side) {
      return ScoredRows{rows.y, side.predictions.pred, side.predictions.proba,
                        task == Task::kClassification ? k : 0};
    };
    counted_a.emplace_back(s, scored(a));
    counted_b.emplace_back(s, scored(b));
  }
  const BootstrapOptions bootstrap{options.n_bootstrap, options.confidence, options.seed};
  const std::vector<std::vector<double>> differences =
      paired_differences(counted_a, counted_b, rows.data.rows(), bootstrap);

  nlohmann::json entries = nlohmann::json::array();
  for (std::size_t m = 0, d = 0; m < scorers.size(); ++m) {
    const bool bootstrapped = std::isfinite(score_a[m]) && std::isfinite(score_b[m]);
    entries.push_back(metric_entry(scorers[m], score_a[m], score_b[m],
                                   bootstrapped ? differences[d++] : std::vector<double>{},
                                   options.confidence));
  }
  nlohmann::json out = {{"a", side_json(a)},
                        {"b", side_json(b)},
                        {"task", std::string(to_string(task))},
                        {"data_file", options.data_path},
                        {"target", rows.target},
                        {"rows", rows.data.rows()},
                        {"n_bootstrap", options.n_bootstrap},
                        {"confidence", options.confidence},
                        {"seed", options.seed},
                        {"metrics", entries},
                        {"overall", overall(entries)},
                        {"notes", notes}};
  if (task == Task::kClassification) out["classes"] = a.model.schema.class_labels;
  return out;
}

std::string compare_summary(const nlohmann::json& c) {
  std::string out = fmt::format(
      "a: {} ({}) {}\nb: {} ({}) {}\n{} rows of {}, target '{}'; {} paired bootstrap resamples, "
      "{:g}% intervals of b - a\n",
      c["a"]["model"].get<std::string>(), c["a"]["task"].get<std::string>(),
      c["a"]["file"].get<std::string>(), c["b"]["model"].get<std::string>(),
      c["b"]["task"].get<std::string>(), c["b"]["file"].get<std::string>(),
      c["rows"].get<std::int64_t>(), c["data_file"].get<std::string>(),
      c["target"].get<std::string>(), c["n_bootstrap"].get<int>(),
      100.0 * c["confidence"].get<double>());
  auto shown = [](const nlohmann::json& v) {
    return v.is_null() ? std::string("-") : fmt::format("{:.6g}", v.get<double>());
  };
  out += fmt::format("{:<24} {:>12} {:>12}  verdict\n", "metric", "a", "b");
  for (const nlohmann::json& m : c["metrics"])
    out += fmt::format("{:<24} {:>12} {:>12}  {}\n", m["metric"].get<std::string>(), shown(m["a"]),
                       shown(m["b"]), m["summary"].get<std::string>());
  for (const nlohmann::json& note : c["notes"]) out += "note: " + note.get<std::string>() + "\n";
  return out + "overall: " + c["overall"]["summary"].get<std::string>() + "\n";
}

}  // namespace tabula::evaluation

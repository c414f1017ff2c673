// The numbers of an evaluation: metrics, curves, confusion matrix, importances (as JSON).
#include "tabula/evaluation/evaluation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "evaluation/labelled_rows.hpp"
#include "evaluation/permutation_importance.hpp"
#include "report/svg_chart.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/scoring/predictor.hpp"
#include "tabula/training/training.hpp"

namespace tabula::evaluation {
namespace {

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

/// Evenly spaced rows, at most `limit` of `n` (all when n <= limit), as the scatter charts
/// sample theirs.
std::vector<std::int64_t> spread_rows(std::int64_t n, std::int64_t limit) {
  const std::int64_t shown = std::min(n, limit);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(shown));
  for (std::int64_t i = 0; i < shown; ++i) rows[static_cast<std::size_t>(i)] = i * n / shown;
  return rows;
}

/// ROC, precision-recall and calibration curves of one class against the rest.
void add_class_curves(const std::string& label, std::span<const double> is_class,
                      std::span<const double> score, nlohmann::json& out) {
  const metrics::RocCurve roc = metrics::roc_curve(is_class, score);
  nlohmann::json thresholds = nlohmann::json::array();
  for (double t : roc.thresholds) thresholds.push_back(number(t));  // +inf first: null
  out["roc"].push_back({{"class", label},
                        {"fpr", roc.fpr},
                        {"tpr", roc.tpr},
                        {"thresholds", thresholds},
                        {"auc", metrics::auc(roc.fpr, roc.tpr)}});
  const metrics::PrecisionRecallCurve pr = metrics::precision_recall_curve(is_class, score);
  out["precision_recall"].push_back({{"class", label},
                                     {"precision", pr.precision},
                                     {"recall", pr.recall},
                                     {"thresholds", pr.thresholds}});
  const metrics::CalibrationCurve cal = metrics::calibration_curve(is_class, score);
  out["calibration"].push_back({{"class", label},
                                {"prob_true", cal.prob_true},
                                {"prob_pred", cal.prob_pred},
                                {"count", cal.count}});
}

/// Confusion matrix over every class, and the per-class curves: the positive class of a binary
/// model, else one-vs-rest for the first options.max_classes classes.
void add_classification(std::span<const double> y, const TestPredictions& p,
                        const ModelSchema& schema, const EvaluationOptions& options,
                        nlohmann::json& out) {
  const std::size_t k = schema.class_labels.size();
  std::vector<double> labels(k);
  for (std::size_t c = 0; c < k; ++c) labels[c] = static_cast<double>(c);
  const metrics::ConfusionMatrix cm = metrics::confusion_matrix(y, p.pred, labels);
  nlohmann::json counts = nlohmann::json::array();
  for (std::size_t i = 0; i < k; ++i)
    counts.push_back(
        std::vector<std::int64_t>(cm.counts.begin() + i * k, cm.counts.begin() + (i + 1) * k));
  out["classes"] = schema.class_labels;
  out["confusion_matrix"] = counts;
  out["roc"] = out["precision_recall"] = out["calibration"] = nlohmann::json::array();
  if (p.proba.empty()) return;  // predict_test_rows noted why
  const std::size_t first = k == 2 ? 1 : 0;
  const std::size_t last = k == 2 ? 2 : std::min(k, options.max_classes);
  if (last < k)
    out["notes"].push_back(
        fmt::format("curves drawn for the first {} of {} classes (one vs rest)", last, k));
  std::vector<double> is_class(y.size()), score(y.size());
  for (std::size_t c = first; c < last; ++c) {
    for (std::size_t i = 0; i < y.size(); ++i) {
      is_class[i] = y[i] == static_cast<double>(c) ? 1.0 : 0.0;
      score[i] = p.proba[i * k + c];
    }
    try {
      add_class_curves(schema.class_labels[c], is_class, score, out);
    } catch (const InputError& e) {
      out["notes"].push_back("class '" + schema.class_labels[c] + "': no curves: " + e.what());
    }
  }
}

/// Actual and predicted values of (a sample of) the rows, for the two regression charts.
void add_regression(std::span<const double> y, const TestPredictions& p, nlohmann::json& out) {
  nlohmann::json actual = nlohmann::json::array(), predicted = nlohmann::json::array();
  for (std::int64_t r : spread_rows(static_cast<std::int64_t>(y.size()),
                                    static_cast<std::int64_t>(report::kMaxScatterPoints))) {
    actual.push_back(y[static_cast<std::size_t>(r)]);
    predicted.push_back(number(p.pred[static_cast<std::size_t>(r)]));
  }
  out["points"] = {{"rows", y.size()}, {"actual", actual}, {"predicted", predicted}};
}

/// Permutation importance of the model's input columns, scored by its first test metric
/// (accuracy or r2), on at most options.max_importance_rows rows.
nlohmann::json importance_json(const Predictor& predictor, const FittedModel& model,
                               const Dataset& data, std::span<const double> y,
                               const EvaluationOptions& options) {
  const Task task = model.estimator.task();
  const std::string metric = task == Task::kClassification ? "accuracy" : "r2";
  const std::vector<std::int64_t> rows = spread_rows(data.rows(), options.max_importance_rows);
  const Dataset sample = data.take_rows(rows);
  std::vector<double> y_sample(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) y_sample[i] = y[static_cast<std::size_t>(rows[i])];
  const std::int64_t d = predictor.n_features();
  auto score = [&](const Dataset& table) {
    const std::vector<float> x = predictor.features(table);
    const auto view =
        MatrixView<const float>::row_major(x.data(), static_cast<std::int64_t>(rows.size()), d);
    return metrics::score(metric, y_sample, predictor.predict(view));
  };
  const double baseline = score(sample);
  std::vector<std::string> columns;
  for (const auto& [name, type] : model.pipeline.input_columns()) columns.push_back(name);
  std::vector<ColumnImportance> found =
      permutation_importance(sample, columns, score, baseline, options.n_repeats, options.seed);
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.mean > b.mean; });
  nlohmann::json list = nlohmann::json::array();
  for (const ColumnImportance& c : found)
    list.push_back({{"column", c.column}, {"mean", c.mean}, {"std", c.std}, {"drops", c.drops}});
  return {{"metric", metric},     {"baseline_score", baseline},
          {"rows", rows.size()},  {"n_repeats", options.n_repeats},
          {"seed", options.seed}, {"columns", list}};
}

}  // namespace

nlohmann::json evaluate(Backend& backend, const FittedModel& model, const Dataset& data,
                        std::span<const double> y, const EvaluationOptions& options) {
  const Task task = model.estimator.task();
  require_supervised(model.estimator, "", "evaluate");
  if (static_cast<std::int64_t>(y.size()) != data.rows())
    throw InputError(
        fmt::format("{}: {} rows but {} target values", data.source, data.rows(), y.size()));
  const Predictor predictor(backend, model.estimator, &model.pipeline);
  std::vector<std::string> notes;
  const TestPredictions p = predict_rows(predictor, data, &notes);
  const int n_classes = static_cast<int>(model.schema.class_labels.size());
  nlohmann::json out = {{"model", model.estimator.name()},
                        {"task", std::string(to_string(task))},
                        {"target", model.schema.target},
                        {"rows", data.rows()}};
  out["metrics"] = nlohmann::json::object();
  for (const auto& [name, value] : test_metrics(task, y, p, n_classes, &notes))
    out["metrics"][name] = number(value);
  out["notes"] = notes;
  if (task == Task::kClassification)
    add_classification(y, p, model.schema, options, out);
  else
    add_regression(y, p, out);
  out["feature_importances"] =
      ranked_feature_values(model.estimator.summary(), model.pipeline.output_names(), kTopFeatures);
  out["permutation_importance"] = importance_json(predictor, model, data, y, options);
  return out;
}

nlohmann::json evaluate_file(Backend& backend, const EvaluateFileOptions& options) {
  const LoadedModel loaded = load_model(options.model_path);
  require_supervised(*loaded.estimator, options.model_path + ": ", "evaluate");
  const LabelledRows rows =
      read_labelled_rows(loaded, options.data_path, options.target, options.csv, "evaluate");
  nlohmann::json out = evaluate(backend, {*loaded.estimator, *loaded.pipeline, loaded.schema},
                                rows.data, rows.y, options.evaluation);
  out["model_file"] = options.model_path;
  out["data_file"] = options.data_path;
  out["target"] = rows.target;
  return out;
}

}  // namespace tabula::evaluation

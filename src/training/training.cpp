// The train workflow: read, check, encode, split, fit model and baseline, score, save.
#include "tabula/training/training.hpp"

#include <fast_float/fast_float.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <limits>
#include <numeric>
#include <set>

#include "distributed/csv_share.hpp"
#include "distributed/table_agreement.hpp"
#include "selection/utc_now.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/io/csv_stream.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/models/registry.hpp"
#include "tabula/scoring/predictor.hpp"
#include "tabula/selection/model_selection.hpp"
#include "tabula/version.hpp"
#include "training/data_fingerprint.hpp"
#include "training/labelled_table.hpp"
#include "training/streamed_file.hpp"

namespace tabula {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A target cell's number, accepted exactly as the CSV reader accepts a numeric cell (fast_float
// on the trimmed text, a leading '+' allowed), so a cell's text and the value read from it
// always meet.
std::optional<double> parse_number(std::string_view text) {
  text = trimmed(text);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+')
    text.remove_prefix(1);
  double v = 0;
  const auto [ptr, ec] = fast_float::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<double> gather(const std::vector<double>& y, const std::vector<std::int64_t>& rows) {
  std::vector<double> out(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) out[r] = y[static_cast<std::size_t>(rows[r])];
  return out;
}

/// Test metrics of one fitted estimator; metrics that are undefined on this test set are NaN
/// and explained in `notes` (once, for the model).
std::vector<std::pair<std::string, double>> evaluate(Backend& backend, const Estimator& model,
                                                     MatrixView<const float> x,
                                                     const std::vector<double>& y, int n_classes,
                                                     std::vector<std::string>* notes) {
  const Predictor predictor(backend, model);
  return test_metrics(model.task(), y, predict_test_rows(predictor, x, notes), n_classes, notes);
}

nlohmann::json metric_json(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

}  // namespace

io::CsvOptions training_csv_options(const std::string& target, const io::CsvSettings& csv) {
  io::CsvOptions options = csv.options();
  if (!target.empty()) options.target = target;
  return options;
}

void spell_labels_as_written(const std::string& path, const io::CsvSettings& csv,
                             ModelSchema& schema) {
  if (!schema.numeric_labels || schema.class_labels.empty()) return;
  std::vector<double> values;
  for (const std::string& label : schema.class_labels) values.push_back(*parse_number(label));
  std::vector<bool> spelt(values.size(), false);
  std::size_t left = values.size();
  // Only the target column is parsed, as text, and only until every class has been seen: a
  // classification target has few values, so this usually ends in the first chunk.
  io::CsvStream stream(path, io::stream_options(csv));
  stream.select({{schema.target, io::StreamColumnKind::kCategorical}});
  io::CsvChunk chunk;
  while (left > 0 && stream.next(chunk)) {
    const Column& column = chunk.data.columns.at(0);
    std::vector<std::int64_t> class_of(column.categories.size(), -1);
    for (std::size_t k = 0; k < class_of.size(); ++k) {
      const std::optional<double> v = parse_number(column.categories[k]);
      const auto it = v ? std::lower_bound(values.begin(), values.end(), *v) : values.end();
      if (it != values.end() && *it == *v) class_of[k] = it - values.begin();
    }
    for (std::int32_t code : column.codes) {
      const std::int64_t c = code < 0 ? -1 : class_of[static_cast<std::size_t>(code)];
      if (c < 0 || spelt[static_cast<std::size_t>(c)]) continue;
      schema.class_labels[static_cast<std::size_t>(c)] =
          std::string(trimmed(column.categories[static_cast<std::size_t>(code)]));
      spelt[static_cast<std::size_t>(c)] = true;
      --left;
    }
  }
}

std::optional<std::vector<double>> target_numbers(const Column& target) {
  if (target.type == ColumnType::kNumeric) return target.numeric;
  std::vector<double> of_category(target.categories.size());
  for (std::size_t c = 0; c < of_category.size(); ++c) {
    const std::optional<double> v = parse_number(target.categories[c]);
    if (!v) return std::nullopt;
    of_category[c] = *v;
  }
  std::vector<double> out(target.codes.size(), kNaN);
  for (std::size_t i = 0; i < out.size(); ++i)
    if (target.codes[i] >= 0) out[i] = of_category[static_cast<std::size_t>(target.codes[i])];
  return out;
}

TestPredictions predict_test_rows(const Predictor& predictor, MatrixView<const float> x,
                                  std::vector<std::string>* notes) {
  TestPredictions out;
  out.pred = predictor.predict(x);
  if (predictor.task() != Task::kClassification) return out;
  try {
    out.proba = predictor.predict_proba(x);
  } catch (const Error& e) {
    if (notes) notes->push_back(std::string(e.what()) + ": roc_auc and log_loss not computed");
  }
  return out;
}

std::vector<std::pair<std::string, double>> test_metrics(Task task, std::span<const double> y,
                                                         const TestPredictions& p, int n_classes,
                                                         std::vector<std::string>* notes) {
  std::vector<std::pair<std::string, double>> out;
  if (task == Task::kRegression) {
    out.emplace_back("r2", metrics::r2(y, p.pred));
    out.emplace_back("rmse", metrics::root_mean_squared_error(y, p.pred));
    out.emplace_back("mae", metrics::mean_absolute_error(y, p.pred));
    return out;
  }
  out.emplace_back("accuracy", metrics::accuracy(y, p.pred));
  out.emplace_back("balanced_accuracy", metrics::balanced_accuracy(y, p.pred));
  if (n_classes == 2)
    out.emplace_back("f1", metrics::f1(y, p.pred, metrics::Average::kBinary));
  else
    out.emplace_back("f1_macro", metrics::f1(y, p.pred, metrics::Average::kMacro));
  auto guarded = [&](const char* name, auto compute) {
    if (p.proba.empty()) {  // predict_test_rows said why
      out.emplace_back(name, kNaN);
      return;
    }
    try {
      out.emplace_back(name, compute());
    } catch (const InputError& e) {
      if (notes) notes->push_back(std::string(name) + " not defined on this test set: " + e.what());
      out.emplace_back(name, kNaN);
    }
  };
  guarded("roc_auc", [&] { return metrics::roc_auc_ovr(y, p.proba, n_classes); });
  guarded("log_loss", [&] { return metrics::log_loss(y, p.proba, n_classes); });
  return out;
}

namespace {

/// The class index of every row of a target column, as a fitted model's labels number them; a
/// value the model never saw is an InputError naming the row.
std::vector<double> class_indices(const Column& target, const ModelSchema& schema,
                                  std::string_view source) {
  const std::vector<std::string>& labels = schema.class_labels;
  std::string known;
  for (std::size_t c = 0; c < labels.size() && c < 20; ++c) known += (c ? ", " : "") + labels[c];
  if (labels.size() > 20) known += ", ...";
  auto unseen = [&](std::size_t row, const std::string& value) {
    return InputError(describe_location(
        source, 0, 0, target.name,
        fmt::format("data row {}: class '{}' was never seen by the model (its classes: {})",
                    row + 1, value, known)));
  };
  const std::size_t n = static_cast<std::size_t>(target.size());
  std::vector<double> y(n);
  if (schema.numeric_labels) {
    std::vector<double> values;
    for (const std::string& label : labels) values.push_back(parse_number(label).value_or(kNaN));
    const std::optional<std::vector<double>> numbers = target_numbers(target);
    for (std::size_t i = 0; i < n; ++i) {
      const double v = numbers ? (*numbers)[i] : kNaN;
      const auto it = std::find(values.begin(), values.end(), v);
      if (it == values.end())
        throw unseen(i, target.type == ColumnType::kNumeric
                            ? fmt::format("{}", v)
                            : target.categories[static_cast<std::size_t>(target.codes[i])]);
      y[i] = static_cast<double>(it - values.begin());
    }
    return y;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::string text =
        target.type == ColumnType::kNumeric
            ? fmt::format("{}", target.numeric[i])
            : target.categories[static_cast<std::size_t>(target.codes[i])];  // as encode_target
    const auto it = std::find(labels.begin(), labels.end(), text);
    if (it == labels.end()) throw unseen(i, text);
    y[i] = static_cast<double>(it - labels.begin());
  }
  return y;
}

}  // namespace

std::vector<double> encode_target_as(const Column& target, const ModelSchema& schema, Task task,
                                     std::string_view source) {
  for (std::int64_t row = 0; row < target.size(); ++row)
    if (target.is_missing(row))
      throw InputError(describe_location(
          source, 0, 0, target.name,
          fmt::format("the target has {} missing value(s), the first at data row {}; drop or "
                      "fill those rows",
                      target.missing_count(), row + 1)));
  if (task == Task::kClassification) return class_indices(target, schema, source);
  const std::optional<std::vector<double>> numbers = target_numbers(target);
  if (!numbers)
    throw InputError(describe_location(source, 0, 0, target.name,
                                       "the target holds text; the model is a regressor"));
  return *numbers;
}

TaskChoice infer_task(const Column& target) {
  const std::optional<std::vector<double>> values = target_numbers(target);
  const std::string what = "target '" + target.name + "'";
  if (!values) return {Task::kClassification, what + " holds text labels: classification"};
  std::set<double> distinct;
  for (double v : *values) {
    if (std::isnan(v)) continue;
    if (std::isinf(v)) throw InputError(what + " holds an infinite value");
    if (v != std::floor(v))
      return {Task::kRegression,
              fmt::format("{} holds non-integer numbers (e.g. {}): continuous, so regression", what,
                          v)};
    distinct.insert(v);
  }
  return {Task::kClassification,
          fmt::format("{} holds {} distinct whole numbers: {}, so classification", what,
                      distinct.size(), distinct.size() <= 2 ? "binary" : "multiclass")};
}

TaskChoice choose_task(const std::string& model, const Column* target,
                       std::optional<Task> requested) {
  const std::vector<Task> tasks = estimator_tasks(model);
  std::string does;
  for (Task t : tasks) does += (does.empty() ? "" : " or ") + std::string(to_string(t));
  const std::string prefix = "model '" + model + "' does " + does;
  if (requested) {
    if (std::find(tasks.begin(), tasks.end(), *requested) == tasks.end())
      throw InputError(prefix + ", not " + std::string(to_string(*requested)) + " (--task)");
    return {*requested, "asked for with --task"};
  }
  if (tasks.size() == 1 && is_unsupervised(tasks.front())) return {tasks.front(), prefix + " only"};
  if (!target) throw InputError("model '" + model + "' needs a target column: pass --target");
  // As scikit-learn's type_of_target; "whole numbers" suit a regressor too.
  const TaskChoice inferred = infer_task(*target);
  if (tasks.size() > 1) return inferred;
  const bool text = target->type == ColumnType::kCategorical && !target_numbers(*target);
  if ((tasks.front() == Task::kRegression && text) ||
      (tasks.front() == Task::kClassification && inferred.task == Task::kRegression))
    throw InputError(prefix + " only, but " + inferred.reason);
  return {tasks.front(), prefix + " only"};
}

std::vector<double> encode_target(const Column& target, Task task, ModelSchema& schema) {
  const std::optional<std::vector<double>> numbers = target_numbers(target);
  schema.target = target.name;
  schema.target_type = numbers ? ColumnType::kNumeric : ColumnType::kCategorical;
  if (task != Task::kClassification) {
    if (!numbers)
      throw InputError("target column '" + target.name +
                       "' holds text; a regression model needs a numeric target");
    return *numbers;
  }
  const std::size_t n = static_cast<std::size_t>(target.size());
  std::vector<double> y(n);
  if (!numbers) {
    // Categories are already sorted by bytes; keep only those that occur.
    std::vector<std::int32_t> used(target.categories.size(), -1);
    for (std::int32_t code : target.codes) used[static_cast<std::size_t>(code)] = 0;
    std::int32_t next = 0;
    for (std::size_t c = 0; c < used.size(); ++c)
      if (used[c] == 0) {
        used[c] = next++;
        schema.class_labels.push_back(target.categories[c]);
      }
    for (std::size_t i = 0; i < n; ++i) y[i] = used[static_cast<std::size_t>(target.codes[i])];
    schema.numeric_labels = false;
    return y;
  }
  const std::set<double> distinct(numbers->begin(), numbers->end());
  for (double v : distinct)
    if (v != std::floor(v) || std::abs(v) > 9e15)
      throw InputError("target column '" + target.name + "' holds continuous values (e.g. " +
                       fmt::format("{}", v) +
                       "); a classifier needs class labels (use a regression model or "
                       "--task regression)");
  const std::vector<double> labels(distinct.begin(), distinct.end());
  // Each label is spelt as in the first row holding it ("1.0" stays "1.0"); a column that
  // arrived as numbers has no spelling: whole numbers are written as integers.
  schema.class_labels.assign(labels.size(), "");
  schema.numeric_labels = true;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = static_cast<std::size_t>(
        std::lower_bound(labels.begin(), labels.end(), (*numbers)[i]) - labels.begin());
    y[i] = static_cast<double>(c);
    if (!schema.class_labels[c].empty()) continue;
    schema.class_labels[c] =
        target.type == ColumnType::kCategorical
            ? std::string(trimmed(target.categories[static_cast<std::size_t>(target.codes[i])]))
            : fmt::format("{}", static_cast<std::int64_t>(labels[c]));
  }
  return y;
}

namespace {

/// The metadata every model file of `train` carries, before the fit adds its part.
nlohmann::json training_metadata(Backend& backend, const TrainOptions& options,
                                 const LabelledTable& table, std::int64_t rows) {
  nlohmann::json training = {
      {"data_file", options.data_path},
      {"data_fingerprint", data_fingerprint(options.data_path, options.comm)},
      {"rows", rows},
      {"seed", options.seed},
      {"task_reason", table.choice.reason},
      {"library_version", kVersion},
      {"trained_at", utc_now()},
      {"device", backend.device().to_string()}};
  if (!options.sample_weight.empty()) training["sample_weight"] = options.sample_weight;
  return training;
}

/// A clustering's metrics on the rows it was fitted on (no labels to test against): inertia,
/// silhouette (sampled above metrics::kSilhouetteMaxRows rows) and Davies-Bouldin; over ranks
/// (x: the rank's share) of every rank's rows.
void record_cluster_metrics(Backend& backend, const Estimator& model, MatrixView<const float> x,
                            Communicator* comm, TrainReport& report, nlohmann::json& training) {
  const std::vector<double> labels = Predictor(backend, model).predict(x);
  const metrics::Rows rows{
      std::span<const float>(x.data, static_cast<std::size_t>(x.rows * x.cols)), x.cols};
  nlohmann::json m = nlohmann::json::object();
  const std::pair<const char*, std::function<double()>> computed[] = {
      {"inertia", [&] { return metrics::inertia(rows, labels, comm); }},
      {"silhouette",
       [&] { return metrics::silhouette(rows, labels, metrics::kSilhouetteMaxRows, 0, comm); }},
      {"davies_bouldin", [&] { return metrics::davies_bouldin(rows, labels, comm); }}};
  for (const auto& [name, compute] : computed) {
    double v = kNaN;
    try {
      v = compute();
    } catch (const InputError& e) {
      report.notes.push_back(std::string(name) + " not defined on the training rows: " + e.what());
    }
    report.metrics.push_back({name, v, kNaN});
    m[name] = metric_json(v);
  }
  training["metrics"] = {{"training_rows", m}};
}

/// A transform or a clustering: nothing to score it against, so it is fitted on every row
/// (returned as the training rows).
///
/// With `streamed` (a model that fits in passes over a file too large to read whole), `table`
/// holds the file's sample: the pipeline is fitted on it and the model reads every row of the
/// file in passes; the metrics and the drift profile come from the sample.
TrainTestSplit fit_on_every_row(Backend& backend, const TrainOptions& options,
                                const LabelledTable& table, Pipeline& pipeline, Estimator& model,
                                TrainReport& report, nlohmann::json& training,
                                const SampledFile* streamed) {
  const std::int64_t n = table.data.rows();
  pipeline.fit(backend, table.data, {}, options.comm);
  std::vector<float> x = pipeline.transform(backend, table.data);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), n, pipeline.n_outputs());
  fit.sample_weight = table.sample_weight;
  fit.seed = options.seed;
  fit.comm = options.comm;
  if (streamed) {
    FilePasses passes(backend, *streamed, pipeline, x,
                      std::vector<double>(table.sample_weight.begin(), table.sample_weight.end()),
                      options.sample_weight);
    model.fit_passes(backend, passes, options.seed);
    training["sampled_rows"] = n;
    if (n < streamed->rows) report.rows_sampled = n;
    report.notes.push_back(
        n == streamed->rows
            ? "read in passes (the sample holds every row: the model is the one fitted in memory)"
            : fmt::format("read in passes; the pipeline, the metrics and the drift profile come "
                          "from a uniform sample of {} of the {} rows",
                          n, streamed->rows));
  } else {
    model.fit(backend, fit);
  }
  report.rows_train = report.rows_total;
  report.notes.push_back(
      std::string(model.task() == Task::kClustering ? "clusterings" : "transforms") +
      " are fitted on every row; no test set is held out");
  if (model.task() == Task::kClustering)
    record_cluster_metrics(backend, model, fit.x, options.comm, report, training);
  training["rows_train"] = report.rows_train;
  TrainTestSplit split;
  split.train.resize(static_cast<std::size_t>(n));
  std::iota(split.train.begin(), split.train.end(), std::int64_t{0});
  return split;
}

/// The test rows encoded with what the pipeline learnt from the training rows.
std::vector<float> encode_test_rows(Backend& backend, const Pipeline& pipeline, const Dataset& data,
                                    const std::vector<std::int64_t>& rows) {
  if (rows.empty()) return {};
  try {
    return pipeline.transform(backend, data, rows);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (in the test rows; the pipeline was fitted on the training rows: "
                     "use --handle-unknown ignore or infrequent_if_exist)");
  }
}

/// The model's and the baseline's test metrics, side by side in the report and the metadata.
void record_test_metrics(const std::vector<std::pair<std::string, double>>& model_metrics,
                         const std::vector<std::pair<std::string, double>>& baseline_metrics,
                         TrainReport& report, nlohmann::json& training) {
  nlohmann::json m = nlohmann::json::object(), b = nlohmann::json::object();
  for (std::size_t i = 0; i < model_metrics.size(); ++i) {
    report.metrics.push_back(
        {model_metrics[i].first, model_metrics[i].second, baseline_metrics[i].second});
    m[model_metrics[i].first] = metric_json(model_metrics[i].second);
    b[model_metrics[i].first] = metric_json(baseline_metrics[i].second);
  }
  training["metrics"] = {{"model", m}, {"baseline", b}};
}

/// A predictor: fitted on the training rows with its baseline, both scored on the test rows.
/// --test-size 0 trains on every row (for comparisons with other libraries and for final fits);
/// nothing is held out and no test metrics are reported.
TrainTestSplit fit_and_test(Backend& backend, const TrainOptions& options,
                            const LabelledTable& table, Pipeline& pipeline, Estimator& model,
                            TrainReport& report, nlohmann::json& training) {
  if (!(options.test_size >= 0.0 && options.test_size < 1.0))
    throw InputError("--test-size must be in [0, 1), got " + std::to_string(options.test_size));
  const bool hold_out = options.test_size > 0.0;
  const Task task = table.choice.task;
  const TrainTestSplit split = hold_out_test_rows(table, options.test_size, options.seed);
  // The pipeline sees the training rows only; the test rows are encoded with what it learnt.
  pipeline.fit(backend, table.data, split.train, options.comm);
  const std::int64_t d = pipeline.n_outputs();
  const std::vector<float> x_train = pipeline.transform(backend, table.data, split.train);
  const std::vector<float> x_test = encode_test_rows(backend, pipeline, table.data, split.test);
  const std::vector<double> y_train = gather(table.y, split.train);
  const std::vector<double> w_train = table.sample_weight.empty()
                                          ? std::vector<double>{}
                                          : gather(table.sample_weight, split.train);
  const std::vector<double> y_test = gather(table.y, split.test);
  const auto test_view = MatrixView<const float>::row_major(
      x_test.data(), static_cast<std::int64_t>(split.test.size()), d);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x_train.data(),
                                             static_cast<std::int64_t>(split.train.size()), d);
  fit.y = y_train;
  fit.sample_weight = w_train;
  fit.n_classes = table.n_classes;
  fit.seed = options.seed;
  const std::vector<std::uint8_t> categorical = pipeline.categorical_outputs();
  fit.feature_names = pipeline.output_names();
  fit.categorical = categorical;
  fit.comm = options.comm;
  model.fit(backend, fit);
  // The baseline serves the test metrics only, and a fit over ranks has no test rows: local.
  fit.comm = nullptr;

  const std::unique_ptr<Estimator> baseline = make_estimator("dummy", {}, task);
  baseline->fit(backend, fit);
  report.baseline = "dummy (" + baseline->params().at("strategy").get<std::string>() + ")";

  std::vector<std::pair<std::string, double>> model_metrics, baseline_metrics;
  if (hold_out) {
    model_metrics = evaluate(backend, model, test_view, y_test, table.n_classes, &report.notes);
    baseline_metrics = evaluate(backend, *baseline, test_view, y_test, table.n_classes, nullptr);
  } else {
    report.notes.push_back("--test-size 0: trained on every row; no test metrics");
  }
  record_test_metrics(model_metrics, baseline_metrics, report, training);
  report.rows_train = hold_out ? static_cast<std::int64_t>(split.train.size()) : report.rows_total;
  report.rows_test = static_cast<std::int64_t>(split.test.size());
  training["rows_train"] = report.rows_train;
  training["rows_test"] = report.rows_test;
  training["test_size"] = options.test_size;
  training["split"] = task == Task::kClassification ? "stratified" : "shuffled";
  training["baseline"] = report.baseline;
  return split;
}

/// The models whose every task has a data-parallel fit (Estimator::fits_distributed), asked of
/// the registry by name: no data is needed, so a fit over ranks is refused before any rank
/// reads its share.
bool fits_distributed(const std::string& name, const ParamMap& params) {
  for (Task task : estimator_tasks(name)) {
    std::unique_ptr<Estimator> model;
    try {
      model = make_estimator(name, params, task);
    } catch (const InputError&) {
      continue;  // parameters of another task: the fit itself says what is wrong with them
    }
    if (!model->fits_distributed()) return false;
  }
  return true;
}

/// What a data-parallel fit cannot do, refused on every rank alike before any rank reads its
/// share (the options and the registry alone decide).
void check_distributable(const TrainOptions& options) {
  if (!fits_distributed(options.model, options.params)) {
    std::string able;
    for (const std::string& name : estimator_names())
      if (fits_distributed(name, {})) able += (able.empty() ? "" : ", ") + name;
    throw InputError("--distributed: model '" + options.model + "' has no data-parallel fit yet (" +
                     able + " have)");
  }
  if (options.test_size != 0.0 && !is_unsupervised(estimator_tasks(options.model).front()))
    throw InputError(
        "--distributed trains on every row: pass --test-size 0 (score a held-out file with "
        "`tabula evaluate`)");
}

/// Whether train reads the data in passes: a model that fits that way (every task of it) on a
/// text file, in one process.
bool reads_in_passes(const TrainOptions& options) {
  if (options.comm || !streams_as_text(options.data_path)) return false;
  bool any = false;
  for (Task task : estimator_tasks(options.model)) {
    std::unique_ptr<Estimator> model;
    try {
      model = make_estimator(options.model, options.params, task);
    } catch (const InputError&) {
      continue;  // parameters of another task: the fit itself says what is wrong with them
    }
    if (!model->fits_in_passes()) return false;
    any = true;
  }
  return any;
}

}  // namespace

TrainReport train_model(Backend& backend, const TrainOptions& options,
                        const std::string& out_path) {
  if (options.comm) check_distributable(options);
  std::optional<SampledFile> streamed;
  if (reads_in_passes(options))
    streamed = sample_file(options.data_path, training_csv_options(options.target, options.csv),
                           options.seed);
  LabelledTable table = prepare_labelled_table({.data_path = options.data_path,
                                                .target = options.target,
                                                .model = options.model,
                                                .task = options.task,
                                                .drop_columns = options.drop_columns,
                                                .id_column = options.id_column,
                                                .sample_weight = options.sample_weight,
                                                .group_column = {},  // train splits at random
                                                .time_column = {},
                                                .csv = options.csv,
                                                .comm = options.comm,
                                                .read = streamed ? &streamed->sample : nullptr});
  std::unique_ptr<Estimator> model =
      make_estimator(options.model, options.params, table.choice.task);
  const Task task = model->task();
  TABULA_ASSERT(task == table.choice.task, "the registry gave a model of another task");

  const PipelineSpec spec = apply_overrides(
      options.pipeline.value_or(PipelineSpec::defaults(options.model, options.params)),
      options.pipeline_overrides);
  Pipeline pipeline(spec);
  TrainReport report;
  report.model = options.model;
  report.task = task;
  report.task_reason = table.choice.reason;
  report.rows_total = streamed ? streamed->rows
                      : options.comm
                          ? distributed::total_over_ranks(table.data.rows(), *options.comm)
                          : table.data.rows();
  nlohmann::json training = training_metadata(backend, options, table, report.rows_total);
  const TrainTestSplit split =
      is_unsupervised(task)
          ? fit_on_every_row(backend, options, table, pipeline, *model, report, training,
                             streamed ? &*streamed : nullptr)
          : fit_and_test(backend, options, table, pipeline, *model, report, training);
  ModelSchema& schema = table.schema;
  for (const auto& [name, type] : pipeline.input_columns()) schema.features.push_back({name, type});
  for (const std::string& note : pipeline.notes()) report.notes.push_back(note);
  training["n_features_out"] = pipeline.n_outputs();
  report.training = training;
  if (options.comm) {
    const monitoring::DriftProfile profile = monitoring::reference_profile_over_ranks(
        *options.comm, backend, pipeline, *model, schema, table.data);
    // Every rank has fitted; only then does rank 0 write, so a failed rank leaves no file.
    options.comm->check_all("", "fitting");
    if (options.comm->is_root()) save_model(out_path, *model, pipeline, schema, training, &profile);
    report.notes.push_back(fmt::format("fitted over {} rank(s)", options.comm->size()));
    return report;
  }
  const monitoring::DriftProfile profile = monitoring::reference_profile(
      backend, pipeline, *model, schema, table.data, split.train, split.test);
  save_model(out_path, *model, pipeline, schema, training, &profile);
  return report;
}

std::string TrainReport::format_table() const {
  if (metrics.empty()) return {};
  const bool clustering = task == Task::kClustering;
  std::string out =
      clustering && rows_sampled > 0
          ? fmt::format(
                "metrics on a uniform sample of {} of the {} training rows (clusterings "
                "hold no test set)\n",
                rows_sampled, rows_train)
      : clustering ? fmt::format("metrics on the {} training rows (clusterings hold no test set)\n",
                                 rows_train)
                   : fmt::format("test set: {} of {} rows (trained on {})\n", rows_test, rows_total,
                                 rows_train);
  const std::string model_header = model;
  out += fmt::format("{:<20} {:>14} {:>16}\n", "metric", model_header,
                     clustering ? "(no baseline)" : baseline);
  for (const MetricRow& row : metrics) {
    auto cell = [](double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v) : "-"; };
    out += fmt::format("{:<20} {:>14} {:>16}\n", row.name, cell(row.model), cell(row.baseline));
  }
  return out;
}

}  // namespace tabula

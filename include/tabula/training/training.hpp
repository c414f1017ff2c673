// `tabula train` as a library call: read a CSV, hold out a test set, fit a model and its
// baseline on the rest, score both on the test set, and store the model with its metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/artifact/model_file.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/scoring/predictor.hpp"

namespace tabula {

class Communicator;

struct TrainOptions {
  std::string data_path;
  std::string target;  // required unless the model is a transform (pca)
  std::string model;   // registry name
  ParamMap params;
  /// Column of non-negative row weights used by the fits (not a feature; test metrics are
  /// unweighted, as scikit-learn's scorers by default). Empty: unit weights.
  std::string sample_weight;
  double test_size = 0.2;
  std::uint64_t seed = 0;
  /// Overrides the task inferred from the target (see choose_task); must be one the model
  /// does.
  std::optional<Task> task;
  /// The preprocessing pipeline; PipelineSpec::defaults(model) when not given. The overrides
  /// (from `tabula train` flags) apply on top of either.
  std::optional<PipelineSpec> pipeline;
  PipelineOverrides pipeline_overrides;
  /// Columns removed before the pipeline sees the table (InputError for a name not in it).
  std::vector<std::string> drop_columns;
  std::string id_column;  // --id: never a feature; the model names it so predict copies it
  /// How the CSV file is read: delimiter, extra missing values, forced column types.
  io::CsvSettings csv;
  /// A data-parallel fit (`--distributed`, docs/distributed.md): every rank runs train_model
  /// with its communicator, reads its share of the rows, and rank 0 writes the model, the one a
  /// single process fits on the whole file. Null: one process.
  Communicator* comm = nullptr;
};

/// One test metric of the model and of its baseline (NaN when not defined on the test set).
struct MetricRow {
  std::string name;
  double model = 0.0;
  double baseline = 0.0;
};

struct TrainReport {
  std::string model;  // registry name
  Task task = Task::kRegression;
  std::string task_reason;  // why this task (TaskChoice::reason)
  std::string baseline;     // "dummy (prior)" or "dummy (mean)"; empty for transforms
  std::int64_t rows_total = 0, rows_train = 0, rows_test = 0;
  /// Read in passes (a file larger than its sample): the sampled rows the metrics are computed
  /// on; 0 when the metrics cover every training row.
  std::int64_t rows_sampled = 0;
  std::vector<MetricRow> metrics;
  std::vector<std::string> notes;  // things the user should know (skipped metrics, ...)
  nlohmann::json training;         // the metadata stored in the artifact

  /// The metrics as a small aligned table, one metric a line.
  std::string format_table() const;
};

/// The CSV options train and tune read their table with (the target split off when named).
io::CsvOptions training_csv_options(const std::string& target, const io::CsvSettings& csv = {});

/// Gives numeric class labels (schema.class_labels, as encode_target made them from the values)
/// the spelling of the first cell of the target column holding each value in the CSV file at
/// `path`, read as `csv` says ("1.0" stays "1.0"). Reads only the target column, and only until
/// every class has been seen. Does nothing for text labels.
void spell_labels_as_written(const std::string& path, const io::CsvSettings& csv,
                             ModelSchema& schema);

/// The target's value on every row (NaN where missing): the column itself when numeric; for a
/// column of text (categorical), the number each cell spells (parsed as the CSV reader parses
/// numbers), or nullopt when some cell is not a number (text labels).
std::optional<std::vector<double>> target_numbers(const Column& target);

/// A task and the one-line reason it was chosen (printed on stderr, stored in the artifact).
struct TaskChoice {
  Task task = Task::kRegression;
  std::string reason;
};

/// The task a target implies, as scikit-learn's type_of_target: text labels are classes;
/// numbers that are all whole (also when written 1.0) are classes, binary or multiclass
/// however many there are; any non-integer number makes the target continuous: regression.
/// Missing values are skipped. InputError for an infinite value.
TaskChoice infer_task(const Column& target);

/// The task train and tune use for `model` (a registry name) and `target` (null when none
/// was named): `requested` (--task) when given, else the model's only task, else infer_task.
/// InputError when the model cannot do the requested task, when a fixed-task model cannot
/// learn this target (text labels for a regressor, continuous values for a classifier), or
/// when a predictor has no target.
TaskChoice choose_task(const std::string& model, const Column* target,
                       std::optional<Task> requested);

/// The target as fit() takes it: the value for regression; for classification the index into
/// the sorted class labels, which are recorded in `schema` with the target's name and type
/// (class_labels spelt as in the file, numeric_labels). InputError for a text target of a
/// regressor or continuous values for a classifier.
std::vector<double> encode_target(const Column& target, Task task, ModelSchema& schema);

/// A fitted model's predictions on test rows: labels or values, and for a classifier the
/// class probabilities (n x classes; empty when the model gives none).
struct TestPredictions {
  std::vector<double> pred, proba;
};

/// Predicts rows `x`; a classifier without probabilities gets a note saying so.
TestPredictions predict_test_rows(const Predictor& predictor, MatrixView<const float> x,
                                  std::vector<std::string>* notes);

/// The test metrics train reports, by name, in order: regression r2, rmse, mae; classification
/// accuracy, balanced_accuracy, f1 (binary) or f1_macro, roc_auc, log_loss. A metric undefined
/// on these rows (one class present for roc_auc, no probabilities) is NaN, explained in `notes`.
std::vector<std::pair<std::string, double>> test_metrics(Task task, std::span<const double> y,
                                                         const TestPredictions& predictions,
                                                         int n_classes,
                                                         std::vector<std::string>* notes);

/// A target column of new data encoded as a fitted model's `schema` encoded its training target
/// (the class index of each label as spelt or valued in training; the value for regression).
/// InputError naming `source`, the column and the data row for a missing value, a class the model
/// never saw, or text for a regressor.
std::vector<double> encode_target_as(const Column& target, const ModelSchema& schema, Task task,
                                     std::string_view source);

/// Trains and writes the model file to `out_path` (atomically; nothing is written on error).
/// The pipeline is fitted on the training rows only; the model and the baseline get its output.
/// InputError for: a missing target column, a target with missing values (naming the column
/// and the count), a pipeline that does not fit the table (see Pipeline::fit), a test row the
/// pipeline cannot encode (an unseen category under handle_unknown=error), a classification
/// target with one class or continuous values, a task the model does not do, a test size that
/// leaves a part empty.
TrainReport train_model(Backend& backend, const TrainOptions& options, const std::string& out_path);

}  // namespace tabula

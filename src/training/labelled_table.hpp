// The table `train` and `tune` learn from, prepared once and the same way for both: read, the
// columns that are not features taken out, the task chosen, the target encoded, and the rows
// held out for the test set.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/selection/model_selection.hpp"
#include "tabula/training/training.hpp"

namespace tabula {

class Communicator;

struct LabelledTableOptions {
  std::string data_path;
  std::string target;  // empty: no target (transforms)
  std::string model;   // registry name: with `task`, decides the task (choose_task)
  std::optional<Task> task;
  std::vector<std::string> drop_columns;  // InputError naming a column not in the table
  std::string id_column;                  // --id: taken out and named in the schema; empty: none
  std::string sample_weight;              // a column of row weights (train); empty: none
  std::string group_column;               // rows of one group are never split (tune)
  std::string time_column;                // rows are ordered by it (tune)
  io::CsvSettings csv;                    // how the file is read
  /// Set for a data-parallel fit (docs/distributed.md): this rank reads its share of the CSV
  /// file's rows, the ranks check they read the same columns, and classes are numbered over
  /// every rank's rows. Null: one process reads the whole file.
  Communicator* comm = nullptr;
  /// The table already read (a streamed fit's sample, SampledFile): moved from instead of
  /// reading data_path, which still names the source.
  Dataset* read = nullptr;
};

struct LabelledTable {
  Dataset data;  // the features: target, weights, group and time columns taken out
  TaskChoice choice;
  /// The target's name and type and, for classification, its class labels spelt as in the file;
  /// the features are the caller's to fill (from the fitted pipeline).
  ModelSchema schema;
  std::vector<double> y;  // the target as fit() takes it (encode_target); empty for transforms
  int n_classes = 0;      // classification
  std::vector<double> sample_weight;  // empty: unit weights
  std::optional<Column> group, time;
};

/// Reads the CSV and prepares it; logs the task and why on one line. InputError for a missing
/// column, no feature left, a task the model cannot do (choose_task), a target with missing
/// values (with their count), a classification target with one class, a bad weight column.
LabelledTable prepare_labelled_table(const LabelledTableOptions& options);

/// The held-out test rows and the rows to learn from, ascending where shuffled: the latest rows
/// by the time column when there is one; otherwise, for test_size > 0, whole groups when there
/// is a group column (ceil(test_size x groups) drawn by the seed), else stratified by class for
/// classification (InputError naming a class with a single row) or shuffled. test_size 0: every
/// row, in order, and no test rows.
TrainTestSplit hold_out_test_rows(const LabelledTable& table, double test_size, std::uint64_t seed);

/// Group ids 0.. of `rows` of a group column, numbered in order of first appearance.
std::vector<std::int64_t> group_ids(const Column& groups, std::span<const std::int64_t> rows);

}  // namespace tabula

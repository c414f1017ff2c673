// One preparation of a labelled table for train and tune: read, take out, choose, encode, split.
#include "training/labelled_table.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "distributed/csv_share.hpp"
#include "distributed/reduce.hpp"
#include "distributed/table_agreement.hpp"
#include "pipeline/date_time.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"
#include "tabula/io/csv.hpp"

namespace tabula {
namespace {

// Removes the sample weight column `name` (if any) from the features and returns its values,
// checked: numeric, present on every row, finite and non-negative, not all zero.
std::vector<double> take_sample_weight(Dataset& data, const std::string& name) {
  if (name.empty()) return {};
  const std::optional<std::int64_t> index = data.find(name);
  if (!index) {
    if (data.target && data.target->name == name)
      throw InputError(data.source + ": --sample-weight '" + name + "' is the target column");
    throw InputError(data.source + ": no sample weight column '" + name + "'");
  }
  Column column = std::move(data.columns[static_cast<std::size_t>(*index)]);
  data.columns.erase(data.columns.begin() + *index);
  if (column.type != ColumnType::kNumeric)
    throw InputError(data.source + ": sample weight column '" + name + "' is not numeric");
  double total = 0.0;
  for (std::size_t row = 0; row < column.numeric.size(); ++row) {
    const double w = column.numeric[row];
    if (!(std::isfinite(w) && w >= 0.0))
      throw InputError(describe_location(data.source, 0, *index + 1, name,
                                         "data row " + std::to_string(row + 1) + ": weight " +
                                             std::to_string(w) +
                                             " is not a finite non-negative number"));
    total += w;
  }
  if (!(total > 0.0))
    throw InputError(data.source + ": sample weight column '" + name + "' sums to zero");
  return std::move(column.numeric);
}

/// Removes column `name` (a group or time column) from the features and returns it; InputError
/// when absent or when it has missing values.
Column take_column(Dataset& data, const std::string& name, const char* option) {
  const std::optional<std::int64_t> index = data.find(name);
  if (!index) throw InputError(data.source + ": no column '" + name + "' (" + option + ")");
  Column c = std::move(data.columns[static_cast<std::size_t>(*index)]);
  data.columns.erase(data.columns.begin() + *index);
  if (c.missing_count() > 0)
    throw InputError(data.source + ": column '" + name + "' (" + option + ") has " +
                     std::to_string(c.missing_count()) + " missing value(s)");
  return c;
}

/// Takes out every column that is not a feature.
// A text column with more distinct values than this, or with distinct values in more than half
// of at least kFewRows rows, is an identifier or free text: one-hot encoded it would become
// thousands of near-empty features. Dropped with a warning unless forced categorical (which
// the --date columns are) or a column of ISO dates, which the default pipeline reads as dates.
constexpr std::int64_t kMaxCategories = 1000;
constexpr std::int64_t kFewRows = 100;

/// A text column's distinct values and rows over every rank's share (this share's alone when
/// `comm` is null). Over ranks, a share with more than kMaxCategories distinct values decides
/// alone (the union has at least as many): `at_least` is then set and `distinct` is its count.
struct Cardinality {
  std::int64_t distinct = 0, rows = 0;
  bool at_least = false;
};

Cardinality cardinality(const Column& column, Communicator* comm) {
  Cardinality c{static_cast<std::int64_t>(column.categories.size()), column.size(), false};
  if (comm == nullptr || comm->size() == 1) return c;
  std::vector<std::int64_t> sums{c.rows, c.distinct > kMaxCategories ? 1 : 0};
  distributed::sum_over_ranks(comm, sums);
  c.rows = sums[0];
  if (sums[1] > 0) {
    c.distinct = static_cast<std::int64_t>(
        distributed::max_over_ranks(comm, static_cast<double>(c.distinct)));
    c.at_least = true;
    return c;
  }
  pipeline::CategoryCounts counts;  // at most kMaxCategories values per share
  counts.values = column.categories;
  counts.counts.assign(counts.values.size(), 0);
  pipeline::merge_over_ranks(counts, comm);
  c.distinct = static_cast<std::int64_t>(counts.values.size());
  return c;
}

/// Every rank must call it with the same columns (after check_same_table): it decides each text
/// column over all the shares, as one process decides on the whole table.
void drop_identifier_columns(Dataset& data, const std::vector<std::string>& forced,
                             Communicator* comm) {
  std::vector<Column> kept;
  for (Column& column : data.columns) {
    const bool candidate = column.type == ColumnType::kCategorical &&
                           std::find(forced.begin(), forced.end(), column.name) == forced.end() &&
                           !pipeline::is_date_column(column, pipeline::kIsoDate, comm);
    const Cardinality c = candidate ? cardinality(column, comm) : Cardinality{};
    if (!candidate ||
        (c.distinct <= kMaxCategories && (c.rows < kFewRows || 2 * c.distinct <= c.rows))) {
      kept.push_back(std::move(column));
      continue;
    }
    spdlog::warn(
        "{}: column '{}' has {}{} distinct values in {} rows, an identifier or free text: not "
        "used as a feature (--categorical {} keeps it, --drop {} silences this)",
        data.source, column.name, c.at_least ? "at least " : "", c.distinct, c.rows, column.name,
        column.name);
  }
  data.columns = std::move(kept);
}

void take_non_features(const LabelledTableOptions& options, LabelledTable& table) {
  Dataset& data = table.data;
  table.sample_weight = take_sample_weight(data, options.sample_weight);
  for (const std::string& name : options.drop_columns) {
    const std::optional<std::int64_t> index = data.find(name);
    if (!index) throw InputError(data.source + ": --drop-columns: no column '" + name + "'");
    data.columns.erase(data.columns.begin() + *index);
  }
  if (!options.id_column.empty()) {
    if (options.id_column == options.target)
      throw InputError(data.source + ": --id: '" + options.id_column + "' is the target column");
    const std::optional<std::int64_t> index = data.find(options.id_column);
    if (!index) throw InputError(data.source + ": --id: no column '" + options.id_column + "'");
    data.columns.erase(data.columns.begin() + *index);
    table.schema.id_column = options.id_column;
  }
  if (!options.group_column.empty())
    table.group = take_column(data, options.group_column, "--group-column");
  if (!options.time_column.empty())
    table.time = take_column(data, options.time_column, "--time-column");
}

/// The target as fit() takes it, and its description in the schema.
void encode_labels(const LabelledTableOptions& options, LabelledTable& table) {
  const Dataset& data = table.data;
  const Task task = table.choice.task;
  const Column& target = *data.target;
  table.schema.target = target.name;
  table.schema.target_type = target.type == ColumnType::kNumeric || target_numbers(target)
                                 ? ColumnType::kNumeric
                                 : ColumnType::kCategorical;
  if (is_unsupervised(task)) return;  // transforms and clusterings ignore the target
  if (const std::int64_t missing = target.missing_count(); missing > 0)
    throw InputError(data.source + ": target column '" + target.name + "' has " +
                     std::to_string(missing) +
                     " missing value(s); drop or fill those rows before training");
  table.y = encode_target(target, task, table.schema);
  if (task != Task::kClassification) return;
  // Each share knows its own classes; the model numbers the classes of every share.
  if (options.comm && distributed::unite_class_labels(table.schema, *options.comm))
    table.y = encode_target_as(target, table.schema, task, data.source);
  spell_labels_as_written(
      options.comm ? distributed::first_data_file(options.data_path) : options.data_path,
      options.csv, table.schema);
  table.n_classes = static_cast<int>(table.schema.class_labels.size());
  if (table.n_classes < 2)
    throw InputError(data.source + ": target column '" + target.name + "' holds a single class ('" +
                     table.schema.class_labels.front() + "'); a classifier needs at least two");
}

/// A sort key per row: the value, or the category code (categories are sorted by bytes, so
/// ISO dates order correctly).
double key_of(const Column& c, std::int64_t row) {
  return c.type == ColumnType::kNumeric ? c.numeric[static_cast<std::size_t>(row)]
                                        : c.codes[static_cast<std::size_t>(row)];
}

/// A stratified split needs two rows of every class: said with the class's label.
void check_two_rows_per_class(const LabelledTable& table) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(table.n_classes), 0);
  for (double c : table.y) ++counts[static_cast<std::size_t>(c)];
  for (std::size_t c = 0; c < counts.size(); ++c)
    if (counts[c] < 2)
      throw InputError(table.data.source + ": class '" + table.schema.class_labels[c] +
                       "' of target column '" + table.schema.target +
                       "' has only 1 row; the stratified test split needs at least 2 per class");
}

}  // namespace

LabelledTable prepare_labelled_table(const LabelledTableOptions& options) {
  LabelledTable table;
  const io::CsvOptions csv = training_csv_options(options.target, options.csv);
  table.data = options.read ? std::move(*options.read)
               : options.comm
                   ? distributed::read_share_on_every_rank(options.data_path, csv, *options.comm)
                   : io::read_csv(options.data_path, csv);
  take_non_features(options, table);
  const Dataset& data = table.data;
  table.choice = choose_task(options.model, data.target ? &*data.target : nullptr, options.task);
  if (options.comm) distributed::check_same_table(data, table.choice, *options.comm);
  // After the agreement: over ranks, each column is judged on every share together.
  drop_identifier_columns(table.data, options.csv.categorical, options.comm);
  if (data.columns.empty()) throw InputError(data.source + ": no feature columns");
  spdlog::info("task: {} ({})", to_string(table.choice.task), table.choice.reason);
  if (data.target) encode_labels(options, table);
  return table;
}

TrainTestSplit hold_out_test_rows(const LabelledTable& table, double test_size,
                                  std::uint64_t seed) {
  const std::int64_t n = table.data.rows();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (table.time) {
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return key_of(*table.time, a) < key_of(*table.time, b);
    });
    const std::int64_t n_test =
        test_size > 0 ? static_cast<std::int64_t>(std::ceil(test_size * n)) : 0;
    if (n_test >= n) throw InputError("--test-size leaves no rows to search on");
    return {{order.begin(), order.end() - n_test}, {order.end() - n_test, order.end()}};
  }
  if (test_size <= 0) return {order, {}};
  // Whole groups are held out, so no group is both learnt from and tested on.
  if (table.group) return group_train_test_split(group_ids(*table.group, order), test_size, seed);
  if (table.choice.task != Task::kClassification) return train_test_split(n, test_size, seed);
  check_two_rows_per_class(table);
  return stratified_train_test_split(table.y, table.n_classes, test_size, seed);
}

std::vector<std::int64_t> group_ids(const Column& groups, std::span<const std::int64_t> rows) {
  std::map<double, std::int64_t> ids;
  std::vector<std::int64_t> out(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    out[i] = ids.try_emplace(key_of(groups, rows[i]), static_cast<std::int64_t>(ids.size()))
                 .first->second;
  return out;
}

}  // namespace tabula

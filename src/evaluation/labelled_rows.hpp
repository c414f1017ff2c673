// What `tabula evaluate` and `tabula compare` share: refusing a model without a target, reading
// labelled rows for a model file, and a model's predictions on every row.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/scoring/predictor.hpp"
#include "tabula/training/training.hpp"

namespace tabula::evaluation {

/// InputError (prefixed by `where`) for a model with no target to score against: a transform or
/// a clustering. `verb` names the command in the message ("evaluate needs a supervised model").
void require_supervised(const Estimator& estimator, const std::string& where,
                        std::string_view verb);

/// The data file read with the target column split off, and the target encoded as `model`
/// encodes it.
struct LabelledRows {
  Dataset data;
  std::vector<double> y;
  std::string target;  // the column read
};

/// Reads `data_path` with `target` (empty: the model's training target) as the target column.
/// InputError naming the model file when it names no target, the data file and column when the
/// column is missing (saying how --target helps), and the target's problems (encode_target_as:
/// a missing value or an unseen class, with its row).
LabelledRows read_labelled_rows(const LoadedModel& model, const std::string& data_path,
                                const std::string& target, const io::CsvSettings& csv,
                                std::string_view verb);

/// The model's labels or values on every row of `data`, and a classifier's probabilities (a
/// note saying why when it has none).
TestPredictions predict_rows(const Predictor& predictor, const Dataset& data,
                             std::vector<std::string>* notes);

}  // namespace tabula::evaluation

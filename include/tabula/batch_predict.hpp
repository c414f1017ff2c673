// Applying a model file to a data file (`tabula predict`, `tabula transform`): columns matched
// by name, one output row per input row in input order, output written atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tabula/backend.hpp"

namespace tabula {

struct BatchResult {
  std::int64_t rows = 0;
  std::vector<std::string> columns;  // the output header
  std::vector<std::string> notes;    // e.g. the input columns the model ignored
};

/// Writes a CSV with header `prediction` (values, or the original class labels of a
/// classifier) or, with `proba`, one column `proba_<label>` per class. InputError, before
/// anything is written, for: a damaged or non-model file, a transform model, `proba` on a
/// regressor, missing feature columns (all named), a column whose type differs from training.
BatchResult predict_file(Backend& backend, const std::string& model_path,
                         const std::string& data_path, const std::string& out_path, bool proba);

/// Writes a CSV of the transform's outputs (header `pc1`, `pc2`, ... for PCA: `<prefix><i>`
/// with the prefix "pc"). InputError for a model that does not transform, and as above.
BatchResult transform_file(Backend& backend, const std::string& model_path,
                           const std::string& data_path, const std::string& out_path);

}  // namespace tabula

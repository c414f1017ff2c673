// MLflow's scoring protocol: POST /invocations with a pandas "dataframe_split" or
// "dataframe_records" body, "instances" / "inputs" (TF-serving style), or a text/csv body; the
// answer is {"predictions": [...]}.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "serve/micro_batcher.hpp"
#include "serve/request_table.hpp"
#include "serve/served_model.hpp"

namespace tabula::serve {

/// The rows of an /invocations body, typed by the model's schema (numbers for numeric
/// columns, text for categorical ones, null for missing; numbers sent for a categorical column
/// become their text, booleans "True"/"False"; booleans for a numeric one 1/0). Columns the
/// model does not read are dropped. JSON keys: dataframe_split, dataframe_records, instances
/// and inputs (rows as objects, rows as arrays in the model's column order, values of a
/// one-column model, or for inputs an object of columns); `content_type` text/csv: a CSV body
/// with a header. HttpError 400 for a malformed body (naming the field), a missing column or
/// nesting deeper than `max_json_depth`, 413 above `max_rows`.
std::shared_ptr<RequestTable> parse_invocations(std::string_view body, const ServedModel& model,
                                                std::int64_t max_rows,
                                                int max_json_depth = kDefaultMaxJsonDepth,
                                                std::string_view content_type = "application/json");

/// {"predictions": [...]}: labels for classifiers, values for regressors, rows of values for
/// transforms.
nlohmann::json invocations_response(const ServedModel& model, const ScoredRows& result);

}  // namespace tabula::serve

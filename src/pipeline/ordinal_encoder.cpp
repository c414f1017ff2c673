// OrdinalEncoder (sklearn.preprocessing.OrdinalEncoder): the index of the value in the sorted
// categories seen on the training rows; missing stays missing (encoded_missing_value=nan).
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"

namespace tabula::pipeline {

Encoder fit_ordinal_encoder(const StepSpec& step, const CategoryCounts& counts,
                            const std::string& column, nlohmann::json& attributes) {
  const StepParams p(step, {"handle_unknown", "unknown_value"});
  Encoder e;
  e.kind = Encoder::Kind::kOrdinal;
  const std::string unknown = p.text("handle_unknown", "error");
  if (unknown == "error") {
    e.unknown = Encoder::Unknown::kError;
    if (p.find("unknown_value"))
      p.bad("unknown_value", "no value unless handle_unknown=use_encoded_value");
  } else if (unknown == "use_encoded_value") {
    e.unknown = Encoder::Unknown::kValue;
    const std::string v = p.text("unknown_value", "");
    if (v == "nan" || v == "NaN")
      e.unknown_value = kNaN;
    else if (!v.empty())
      e.unknown_value = p.number("unknown_value", 0.0);
    else
      p.bad("unknown_value", "an integer or nan (required with use_encoded_value)");
  } else {
    p.bad("handle_unknown", "error or use_encoded_value");
  }
  for (std::size_t i = 0; i < counts.values.size(); ++i)
    if (counts.counts[i] > 0) e.categories.push_back(counts.values[i]);
  if (e.categories.empty())
    throw InputError("OrdinalEncoder: column '" + column + "' has no value on the training rows");
  const auto k = static_cast<std::int64_t>(e.categories.size());
  if (e.unknown == Encoder::Unknown::kValue && !std::isnan(e.unknown_value) &&
      e.unknown_value >= 0 && e.unknown_value < static_cast<double>(k))
    p.bad("unknown_value",
          "a value that is not a category's code (below 0 or at least " + std::to_string(k) + ")");
  for (std::int64_t i = 0; i < k; ++i) e.slot.push_back(i);
  e.width = 1;
  e.output_names.push_back(column);
  attributes["categories_"].push_back(e.categories);
  return e;
}

}  // namespace tabula::pipeline

// The reference profile in a model file: header "profile" (names, categories, flags) and float64
// arrays "profile.*" (edges, shares). A crafted file is refused field by field before any
// drift statistic reads it.
#include <algorithm>
#include <cmath>

#include "artifact/validate.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/monitoring/profile.hpp"

namespace tabula::monitoring {
namespace {

constexpr int kProfileFormat = 1;

nlohmann::json column_to_json(const ColumnProfile& p, const std::string& prefix,
                              ArtifactWriter& out) {
  nlohmann::json j = {
      {"name", p.name}, {"type", to_string(p.type)}, {"rows", p.rows}, {"judged", p.judged}};
  if (p.type == ColumnType::kNumeric) {
    out.add(prefix + ".edges", std::span<const double>(p.edges),
            {static_cast<std::int64_t>(p.edges.size())});
    j["edges"] = prefix + ".edges";
  } else {
    j["categories"] = p.categories;
    j["complete"] = p.complete;
    j["by_index"] = p.by_index;
  }
  out.add(prefix + ".reference", std::span<const double>(p.reference),
          {static_cast<std::int64_t>(p.reference.size())});
  j["reference"] = prefix + ".reference";
  return j;
}

/// The array a header field names, which must be the one this writer would have named there.
std::vector<double> named_array(const ArtifactReader& in, const nlohmann::json& j,
                                const std::string& key, const std::string& expected) {
  const std::string field = expected;
  if (j.at(key).get<std::string>() != expected)
    artifact::field_error(field, "names array '" + j.at(key).get<std::string>() + "'");
  if (!in.has(expected)) artifact::field_error(field, "the array is missing");
  return in.doubles(expected);
}

void check_edges(const std::string& field, const std::vector<double>& edges) {
  artifact::expect_range(field, static_cast<std::int64_t>(edges.size()), 0, kPercentileBins - 1);
  artifact::expect_finite(field, edges);
  for (std::size_t i = 1; i < edges.size(); ++i)
    if (!(edges[i] > edges[i - 1])) artifact::field_error(field, "edges are not increasing");
}

void check_categories(const std::string& field, const ColumnProfile& p) {
  // Labels (by_index) are checked against the model's classes or clusters by check_prediction.
  if (p.by_index) return;
  artifact::expect_range(field, static_cast<std::int64_t>(p.categories.size()), 0,
                         kMaxProfileCategories);
  for (std::size_t i = 1; i < p.categories.size(); ++i)
    if (!(p.categories[i - 1] < p.categories[i]))
      artifact::field_error(field, "categories are not sorted and distinct");
}

void check_reference(const std::string& field, const ColumnProfile& p) {
  artifact::expect_size(field, static_cast<std::int64_t>(p.reference.size()), p.bins() + 1,
                        "one share per bin and one for missing values");
  artifact::expect_finite(field, p.reference);
  double total = 0;
  for (double s : p.reference) {
    if (s < 0 || s > 1) artifact::field_error(field, "a share outside [0, 1]");
    total += s;
  }
  if (p.rows > 0 && std::abs(total - 1.0) > 1e-6)
    artifact::field_error(field, "shares sum to " + std::to_string(total) + ", not 1");
  if (p.rows == 0 && total != 0) artifact::field_error(field, "shares without reference rows");
}

ColumnProfile column_from_json(const ArtifactReader& in, const nlohmann::json& j,
                               const std::string& prefix) {
  ColumnProfile p;
  p.name = j.at("name").get<std::string>();
  const std::string type = j.at("type").get<std::string>();
  if (type != "numeric" && type != "categorical")
    artifact::field_error(prefix + ".type", "unknown column type '" + type + "'");
  p.type = type == "numeric" ? ColumnType::kNumeric : ColumnType::kCategorical;
  p.rows = artifact::integer(j.at("rows"), prefix + ".rows");
  p.judged = j.at("judged").get<bool>();
  artifact::expect_range(prefix + ".rows", p.rows, 0, kMaxProfileRows);
  if (p.type == ColumnType::kNumeric) {
    p.edges = named_array(in, j, "edges", prefix + ".edges");
    check_edges(prefix + ".edges", p.edges);
  } else {
    p.categories = j.at("categories").get<std::vector<std::string>>();
    p.complete = j.at("complete").get<bool>();
    p.by_index = j.at("by_index").get<bool>();
    check_categories(prefix + ".categories", p);
  }
  p.reference = named_array(in, j, "reference", prefix + ".reference");
  check_reference(prefix + ".reference", p);
  return p;
}

/// The prediction's profile must have the shape profile_prediction gives this model.
void check_prediction(const ColumnProfile& p, const ModelSchema& schema,
                      const Estimator& estimator) {
  const std::string field = "profile.prediction";
  const Task task = estimator.task();
  const bool labels = task == Task::kClassification || task == Task::kClustering;
  if (labels != (p.type == ColumnType::kCategorical && p.by_index))
    artifact::field_error(field, labels ? "expected class or cluster labels" : "expected numbers");
  if (task == Task::kClassification && p.categories != schema.class_labels)
    artifact::field_error(field, "labels differ from the model's class labels");
  if (task == Task::kClustering)
    artifact::expect_size(field, static_cast<std::int64_t>(p.categories.size()),
                          estimator.n_outputs(), "one label per cluster");
  if (task == Task::kClustering)
    for (std::size_t c = 0; c < p.categories.size(); ++c)
      if (p.categories[c] != std::to_string(c))
        artifact::field_error(
            field, "cluster label " + std::to_string(c) + " is '" + p.categories[c] + "'");
}

}  // namespace

void save_profile(const DriftProfile& profile, ArtifactWriter& out) {
  nlohmann::json columns = nlohmann::json::array();
  for (std::size_t j = 0; j < profile.features.size(); ++j)
    columns.push_back(column_to_json(profile.features[j], "profile.f" + std::to_string(j), out));
  nlohmann::json header = {{"format", kProfileFormat},
                           {"rows", profile.rows},
                           {"source", profile.source},
                           {"features", columns}};
  if (profile.prediction)
    header["prediction"] = column_to_json(*profile.prediction, "profile.prediction", out);
  out.set("profile", header);
}

std::optional<DriftProfile> load_profile(const ArtifactReader& in, const ModelSchema& schema,
                                         const Estimator& estimator) {
  const nlohmann::json& h = in.header();
  if (!h.contains("profile")) return std::nullopt;
  const nlohmann::json& j = h["profile"];
  if (artifact::integer(j.at("format"), "profile.format") != kProfileFormat)
    artifact::field_error("profile.format", "this tabula reads profile format 1");
  DriftProfile profile;
  profile.rows = artifact::integer(j.at("rows"), "profile.rows");
  artifact::expect_range("profile.rows", profile.rows, 0, kMaxProfileRows);
  profile.source = j.at("source").get<std::string>();
  const nlohmann::json& columns = j.at("features");
  artifact::expect_size("profile.features", static_cast<std::int64_t>(columns.size()),
                        static_cast<std::int64_t>(schema.features.size()),
                        "one profile per input column");
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const std::string prefix = "profile.f" + std::to_string(c);
    ColumnProfile p = column_from_json(in, columns[c], prefix);
    if (p.name != schema.features[c].name || p.type != schema.features[c].type || p.by_index)
      artifact::field_error(prefix, "column '" + p.name + "' is not input column " +
                                        std::to_string(c) + " ('" + schema.features[c].name +
                                        "', " + std::string(to_string(schema.features[c].type)) +
                                        ")");
    profile.features.push_back(std::move(p));
  }
  if (j.contains("prediction")) {
    profile.prediction = column_from_json(in, j["prediction"], "profile.prediction");
    check_prediction(*profile.prediction, schema, estimator);
  }
  return profile;
}

}  // namespace tabula::monitoring

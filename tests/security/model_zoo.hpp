// Every model kind of the registry, for every task it serves, fitted on a small table with two
// pipelines (the kind's default, and one with every transformer: imputers, both scalers, both
// encoders with their unknown-value policies, a branch PCA and a PCA after the concatenation),
// and written as model files. The security tests, the deterministic mutator test and the
// fuzz targets' seed corpora are built from it, so a new model kind or transformer is covered
// by being registered.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula::testing {

struct ZooModel {
  std::string name;  // "<kind>-<task>-<pipeline>", also the file's stem
  std::string path;
  std::string kind;  // registry name
};

/// The table the zoo is fitted on: numeric a (with gaps), b; text color (with gaps, one rare
/// value), text size; the target y (regression value, or class index 0..2 as "k0".."k2"), both
/// following size, so that gradient boosting splits it by a category set.
inline Dataset zoo_table() {
  Dataset d;
  d.source = "zoo.csv";
  Column a, b, color, size;
  a.name = "a";
  b.name = "b";
  color.name = "color";
  size.name = "size";
  color.type = size.type = ColumnType::kCategorical;
  color.categories = {"blue", "green", "red", "violet"};
  size.categories = {"L", "M", "S"};
  // 192 rows: each size gets 64, enough Hessian (kMinCategorySupport) for gradient boosting's
  // category-set splits of a three-class log loss.
  for (int i = 0; i < 192; ++i) {
    a.numeric.push_back(i % 11 == 3 ? std::nan("") : (i * 7) % 13 - 4.5);
    b.numeric.push_back((i * 5) % 9 * 0.25);
    color.codes.push_back(i == 5 ? 3 : i % 9 == 0 ? -1 : i % 3);
    size.codes.push_back(i % 3);
  }
  d.columns = {a, b, color, size};
  return d;
}

/// Every transformer in one spec (JSON form of a pipeline TOML file).
inline PipelineSpec zoo_rich_spec() {
  return PipelineSpec::from_json(nlohmann::json::parse(R"({
    "branches": [
      {"name": "num", "type": "numeric", "steps": [
        {"kind": "SimpleImputer", "strategy": "mean"}, {"kind": "MinMaxScaler"},
        {"kind": "StandardScaler"}, {"kind": "PCA", "n_components": 1}]},
      {"name": "onehot", "columns": ["color"], "steps": [
        {"kind": "SimpleImputer", "strategy": "most_frequent"},
        {"kind": "OneHotEncoder", "handle_unknown": "infrequent_if_exist", "min_frequency": 2}]},
      {"name": "ordinal", "columns": ["size"], "steps": [
        {"kind": "OrdinalEncoder", "handle_unknown": "use_encoded_value", "unknown_value": -1},
        {"kind": "StandardScaler"}]}],
    "after": [{"kind": "PCA", "n_components": 3}]})"),
                                 "zoo spec");
}

/// Fits `kind` for `task` on zoo_table() with the kind's default pipeline or zoo_rich_spec(),
/// with `n_classes` classes for a classifier, and writes it to `path`. The fit sees the
/// pipeline's column names and categorical outputs as `tabula train` gives them, so the default
/// gradient boosting models split the text columns by category sets (format 3).
inline void write_zoo_model(const std::string& path, const std::string& kind, Task task, bool rich,
                            int n_classes = 3) {
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  ParamMap params;
  if (kind.starts_with("forest")) params = {{"n_estimators", "3"}, {"max_depth", "4"}};
  if (kind.starts_with("gbdt"))
    params = {{"max_iter", "3"}, {"max_leaf_nodes", "6"}, {"min_samples_leaf", "4"}};
  if (kind == "pca") params = {{"n_components", "2"}};
  const Dataset data = zoo_table();
  Pipeline pipeline(rich ? zoo_rich_spec() : PipelineSpec::defaults(kind, params));
  pipeline.fit(cpu, data);
  const std::vector<float> x = pipeline.transform(cpu, data);
  ModelSchema schema;
  std::vector<double> y;
  for (std::int64_t i = 0; i < data.rows(); ++i)
    y.push_back(task == Task::kClassification ? static_cast<double>(i % n_classes)
                                              : 0.5 * static_cast<double>(i % 7) - 1.0 +
                                                    (i % 3 == 2 ? 2.0 : 0.0));  // size "S"
  if (task == Task::kClassification) {
    for (int c = 0; c < n_classes; ++c) schema.class_labels.push_back("k" + std::to_string(c));
    schema.numeric_labels = false;
  }
  if (!is_unsupervised(task)) schema.target = "y";
  for (const auto& [name, type] : pipeline.input_columns()) schema.features.push_back({name, type});
  auto est = make_estimator(kind, params, task);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), data.rows(), pipeline.n_outputs());
  if (!is_unsupervised(task)) fit.y = y;
  const std::vector<std::string> names = pipeline.output_names();
  const std::vector<std::uint8_t> categorical = pipeline.categorical_outputs();
  fit.feature_names = names;
  fit.categorical = categorical;
  fit.n_classes = task == Task::kClassification ? n_classes : 0;
  fit.seed = 7;
  est->fit(cpu, fit);
  save_model(path, *est, pipeline, schema, nlohmann::json::object());
}

/// Fits and writes every (kind, task, pipeline) into `dir`; returns them in a fixed order.
/// The tasks of a kind are the ones its registry entry serves.
inline std::vector<ZooModel> write_model_zoo(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::vector<ZooModel> zoo;
  for (const std::string& kind : estimator_names()) {
    for (Task task :
         {Task::kRegression, Task::kClassification, Task::kTransform, Task::kClustering}) {
      try {
        if (make_estimator(kind, {}, task)->task() != task) continue;
      } catch (const InputError&) {
        continue;  // the kind does not serve this task
      }
      for (const bool rich : {false, true}) {
        ZooModel m;
        m.name = kind + "-" + std::string(to_string(task)) + (rich ? "-rich" : "-default");
        m.path = (dir / (m.name + ".tabula")).string();
        m.kind = kind;
        write_zoo_model(m.path, kind, task, rich);
        zoo.push_back(m);
      }
    }
  }
  return zoo;
}

/// A few rows with every column the model reads: ordinary, missing, extreme and unseen values.
inline Dataset zoo_probe_rows(const ModelSchema& schema) {
  Dataset d;
  d.source = "probe";
  for (const FeatureSpec& f : schema.features) {
    Column c;
    c.name = f.name;
    c.type = f.type;
    if (f.type == ColumnType::kNumeric) {
      c.numeric = {0.0, 1.5, std::nan(""), -3e30};
    } else {
      c.categories = {"blue", "red", "unseen"};
      c.codes = {0, 1, -1, 2};
    }
    d.columns.push_back(std::move(c));
  }
  return d;
}

/// Loads a model file and runs it on zoo_probe_rows as predict, the server and inspect would:
/// the pipeline, then predict / predict_proba / transform, and the description. Any InputError
/// of the load is left to the caller; bad rows are collected, not thrown.
inline void load_and_use(const std::string& path) {
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  LoadedModel model = load_model(path);
  const Dataset rows = zoo_probe_rows(model.schema);
  std::vector<RowError> errors;
  const std::vector<float> x = model.features(cpu, rows, &errors);
  const auto view =
      MatrixView<const float>::row_major(x.data(), rows.rows(), model.pipeline->n_outputs());
  const Estimator& est = *model.estimator;
  if (est.task() == Task::kTransform) {
    (void)est.transform(cpu, view);
  } else if (est.task() == Task::kClustering) {
    for (double c : est.predict(cpu, view))
      if (c < 0 || c >= static_cast<double>(est.n_outputs()))
        throw std::logic_error(path + ": a cluster index outside the centres");
    (void)est.transform(cpu, view);
  } else if (est.task() == Task::kClassification) {
    std::vector<double> proba;
    const std::vector<double> classes = est.predict_with_proba(cpu, view, proba);
    for (double c : classes)
      (void)model.schema.class_labels.at(static_cast<std::size_t>(c));  // label per class
    if (proba.size() != classes.size() * model.schema.class_labels.size())
      throw std::logic_error(path + ": probabilities do not match the class labels");
  } else {
    (void)est.predict(cpu, view);
  }
  (void)format_model_description(describe_model(path));
}

}  // namespace tabula::testing

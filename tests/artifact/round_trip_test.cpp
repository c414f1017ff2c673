// Every registered model kind × every task it does × every input shape: train, write, read,
// predict must give bit-identical output to the model still in memory. The cases come from the
// registry (estimator_names × estimator_tasks), so a new model is covered by registering it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/models/forest/forest.hpp"
#include "tabula/models/registry.hpp"
#include "tabula/training/training.hpp"

namespace tabula {
namespace {

enum class Shape { kNumeric, kText, kMissing };

struct Case {
  std::string model;
  Task task;
  Shape shape;
};

std::vector<Case> registry_cases() {
  std::vector<Case> cases;
  for (const std::string& name : estimator_names())
    for (Task task : estimator_tasks(name))
      for (Shape shape : {Shape::kNumeric, Shape::kText, Shape::kMissing})
        cases.push_back({name, task, shape});
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.model + "_" + std::string(to_string(info.param.task)) + "_" +
                     (info.param.shape == Shape::kNumeric ? "numeric"
                      : info.param.shape == Shape::kText  ? "text"
                                                          : "missing");
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

// 90 rows, two numeric features, a text column and a date column (kText: ISO timestamps,
// kMissing: ISO dates) and empty cells (kMissing).
// Class labels take the three spellings a file can have: "1.0"-style numbers, text, integers.
std::string table(Task task, Shape shape, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const bool text = shape != Shape::kNumeric, missing = shape == Shape::kMissing;
  const char* colors[] = {"red", "green", "blue"};
  const char* words[] = {"low", "mid", "high"};
  std::string csv = std::string("x1,x2") + (text ? ",color,when" : "") +
                    (is_unsupervised(task) ? "" : ",y") + "\n";
  for (int i = 0; i < 90; ++i) {
    const double x1 = normal(rng), x2 = normal(rng);
    const int color = i % 3;
    const double signal = x1 + 0.5 * x2 + (color == 0 ? 1.0 : 0.0);
    csv += (missing && i % 7 == 3) ? "" : fmt::format("{:.5f}", x1);
    csv += "," + fmt::format("{:.5f}", x2);
    if (text) csv += std::string(",") + ((missing && i % 11 == 5) ? "" : colors[color]);
    if (text)
      csv += missing ? (i % 13 == 4 ? std::string(",")
                                    : fmt::format(",2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28))
                     : fmt::format(",2023-12-{:02}T{:02}:30:00", 1 + i % 31, i % 24);
    if (task == Task::kRegression) csv += fmt::format(",{:.4f}", 3.0 * signal + normal(rng));
    if (task == Task::kClassification) {
      const int c = signal < -0.4 ? 0 : signal < 0.6 ? 1 : 2;
      csv += shape == Shape::kNumeric ? fmt::format(",{}.0", c)
             : shape == Shape::kText  ? std::string(",") + words[c]
                                      : fmt::format(",{}", c);
    }
    csv += "\n";
  }
  return csv;
}

// What the model gives for `x`, all of it: predictions, and probabilities or the transform
// (a clustering: labels and distances).
std::vector<double> outputs(Backend& backend, const Estimator& model, MatrixView<const float> x) {
  if (model.task() == Task::kTransform) return model.transform(backend, x);
  std::vector<double> out = model.predict(backend, x);
  if (model.task() == Task::kClustering) {
    const std::vector<double> distances = model.transform(backend, x);
    out.insert(out.end(), distances.begin(), distances.end());
  }
  if (model.task() == Task::kClassification) {
    const std::vector<double> proba = model.predict_proba(backend, x);
    out.insert(out.end(), proba.begin(), proba.end());
  }
  return out;
}

bool bit_identical(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

class RoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTrip, ReloadedModelPredictsBitForBit) {
  const Case& c = GetParam();
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  const testing::ScopedTempDir dir;
  const std::string data_path = dir.file("data.csv");
  const std::string model_path = dir.file("model.tabula");
  std::ofstream(data_path) << table(c.task, c.shape, 11);

  const std::string target = is_unsupervised(c.task) ? "" : "y";
  const Dataset data = io::read_csv(data_path, training_csv_options(target));
  ModelSchema schema;
  FitData fit;
  std::vector<double> y;
  if (!is_unsupervised(c.task)) {
    y = encode_target(*data.target, c.task, schema);
    if (c.task == Task::kClassification)
      spell_labels_as_written(data_path, io::CsvSettings{}, schema);
    fit.y = y;
    fit.n_classes = static_cast<int>(schema.class_labels.size());
  }
  Pipeline pipeline(PipelineSpec::defaults(c.model));
  pipeline.fit(cpu, data);
  for (const auto& [name, type] : pipeline.input_columns()) schema.features.push_back({name, type});
  const std::vector<float> x = pipeline.transform(cpu, data);
  const auto view = MatrixView<const float>::row_major(x.data(), data.rows(), pipeline.n_outputs());
  fit.x = view;
  fit.seed = 5;
  const std::unique_ptr<Estimator> model = make_estimator(c.model, {}, c.task);
  ASSERT_EQ(model->task(), c.task);
  model->fit(cpu, fit);
  const std::vector<double> expected = outputs(cpu, *model, view);
  for (double v : expected) ASSERT_FALSE(std::isnan(v)) << "the in-memory model gives NaN";

  save_model(model_path, *model, pipeline, schema, {{"seed", 5}});
  const LoadedModel loaded = load_model(model_path);
  EXPECT_EQ(loaded.estimator->name(), model->name());
  EXPECT_EQ(loaded.estimator->task(), c.task);
  EXPECT_EQ(loaded.estimator->params(), model->params());
  EXPECT_EQ(loaded.schema.class_labels, schema.class_labels);
  EXPECT_EQ(loaded.schema.numeric_labels, schema.numeric_labels);
  const std::vector<float> x_loaded = loaded.features(cpu, data);
  ASSERT_EQ(x_loaded.size(), x.size());
  EXPECT_EQ(std::memcmp(x_loaded.data(), x.data(), x.size() * sizeof(float)), 0)
      << "the reloaded pipeline encodes the rows differently";
  const auto loaded_view =
      MatrixView<const float>::row_major(x_loaded.data(), data.rows(), pipeline.n_outputs());
  EXPECT_TRUE(bit_identical(outputs(cpu, *loaded.estimator, loaded_view), expected));
  // And the file the reloaded model writes is read back the same way again.
  save_model(model_path, *loaded.estimator, *loaded.pipeline, loaded.schema, {{"seed", 5}});
  const LoadedModel again = load_model(model_path);
  EXPECT_TRUE(bit_identical(outputs(cpu, *again.estimator, loaded_view), expected));
}

INSTANTIATE_TEST_SUITE_P(Registry, RoundTrip, ::testing::ValuesIn(registry_cases()), case_name);

TEST(RoundTripForest, RegressorFilesWithNullClassWeightStillLoad) {
  // Files written before the fix store class_weight: null for regressors; they must load, and
  // a real class_weight in a regressor file is still refused.
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  std::vector<float> x;
  std::vector<double> y;
  for (int i = 0; i < 40; ++i) {
    x.push_back(static_cast<float>(i % 7));
    x.push_back(static_cast<float>(i % 5));
    y.push_back(0.5 * (i % 7) - (i % 5));
  }
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), 40, 2);
  fit.y = y;
  RandomForestRegressor model(ParamMap{{"n_estimators", "4"}, {"random_state", "1"}});
  model.fit(cpu, fit);
  EXPECT_FALSE(model.params().contains("class_weight"));
  const testing::ScopedTempDir dir;
  const std::string path = dir.file("old.tabula");
  for (const char* stored : {"null", "\"balanced\""}) {
    ArtifactWriter out;
    model.save(out);
    out.header()["forest"]["params"]["class_weight"] = nlohmann::json::parse(stored);
    out.write(path);
    RandomForestRegressor loaded(ParamMap{});
    if (std::string(stored) == "null") {
      loaded.load(ArtifactReader(path));
      EXPECT_TRUE(bit_identical(loaded.predict(cpu, fit.x), model.predict(cpu, fit.x)));
    } else {
      EXPECT_THROW(loaded.load(ArtifactReader(path)), InputError);
    }
  }
}

// A classifier's file as written before class_labels existed (classes only), or with labels
// given by the caller.
void write_classifier(const std::string& path, const nlohmann::json& classes,
                      const nlohmann::json* class_labels) {
  Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
  Dataset data;
  Column a;
  a.name = "a";
  a.numeric = {0, 1, 2, 3};
  data.columns.push_back(a);
  Pipeline pipeline(PipelineSpec::passthrough());
  pipeline.fit(cpu, data);
  const std::vector<float> x = pipeline.transform(cpu, data);
  const std::vector<double> y = {0, 1, 1, 1};
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), 4, 1);
  fit.y = y;
  fit.n_classes = 2;
  const std::unique_ptr<Estimator> model = make_estimator("dummy", {}, Task::kClassification);
  model->fit(cpu, fit);
  ArtifactWriter out;
  model->save(out);
  pipeline.save(out);
  out.set("model", {{"kind", "dummy"}, {"task", "classification"}, {"params", model->params()}});
  out.set("schema", {{"features", {{{"name", "a"}, {"type", "numeric"}}}},
                     {"target", {{"name", "y"}, {"type", "numeric"}}}});
  out.set("classes", classes);
  if (class_labels) out.set("class_labels", *class_labels);
  out.set("training", nlohmann::json::object());
  out.write(path);
}

TEST(RoundTripLabels, OldFilesLoadAndSpellingsMustMatchTheirValues) {
  const testing::ScopedTempDir dir;
  const std::string path = dir.file("m.tabula");
  write_classifier(path, {0, 7}, nullptr);  // before class_labels: integers
  const LoadedModel old = load_model(path);
  EXPECT_EQ(old.schema.class_labels, (std::vector<std::string>{"0", "7"}));
  EXPECT_TRUE(old.schema.integer_labels());
  write_classifier(path, {"no", "yes"}, nullptr);
  EXPECT_FALSE(load_model(path).schema.numeric_labels);

  const nlohmann::json spelt = {"0.0", "7.0"};
  write_classifier(path, {0.0, 7.0}, &spelt);
  const LoadedModel now = load_model(path);
  EXPECT_EQ(now.schema.class_labels, (std::vector<std::string>{"0.0", "7.0"}));
  EXPECT_FALSE(now.schema.integer_labels());
  EXPECT_EQ(now.schema.label_json(1).dump(), "7.0");
  // A spelling that is not its class, a length mismatch, mixed kinds: refused by name.
  const nlohmann::json wrong = {"0.0", "8.0"}, short_list = {"0.0"};
  write_classifier(path, {0.0, 7.0}, &wrong);
  EXPECT_THROW(load_model(path), InputError);
  write_classifier(path, {0.0, 7.0}, &short_list);
  EXPECT_THROW(load_model(path), InputError);
  write_classifier(path, {0, "yes"}, nullptr);
  EXPECT_THROW(load_model(path), InputError);
}

TEST(RoundTripRegistry, CoversEveryKindAndTask) {
  // The enumeration itself: every kind appears, with the tasks its family serves.
  const std::vector<Case> cases = registry_cases();
  for (const std::string& name : estimator_names()) {
    std::size_t n = 0;
    for (const Case& c : cases) n += c.model == name ? 1 : 0;
    EXPECT_GE(n, 3u) << name;
  }
  EXPECT_EQ(estimator_tasks("forest"),
            (std::vector<Task>{Task::kClassification, Task::kRegression}));
  EXPECT_EQ(estimator_tasks("pca"), std::vector<Task>{Task::kTransform});
  EXPECT_EQ(estimator_tasks("kmeans"), std::vector<Task>{Task::kClustering});
  EXPECT_THROW(estimator_tasks("no-such-model"), InputError);
}

}  // namespace
}  // namespace tabula

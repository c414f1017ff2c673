// Small models fitted in memory, saved and read back as the server reads them: the serving
// tests' fixtures (protocol_test, grpc_protocol_test).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve/metrics.hpp"
#include "serve/served_model.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/models/registry.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula::testing {

inline Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

inline Column numeric(const std::string& name, std::vector<double> values) {
  Column c;
  c.name = name;
  c.numeric = std::move(values);
  return c;
}

/// Fits the model's default pipeline and `kind` on `data`, saves both and reads them back.
inline LoadedModel fit_and_reload(const std::string& kind, Task task, const Dataset& data,
                                  const std::vector<double>& y, ModelSchema schema) {
  Pipeline pipeline(PipelineSpec::defaults(kind));
  pipeline.fit(cpu(), data);
  const std::vector<float> x = pipeline.transform(cpu(), data);
  auto est = make_estimator(kind, {}, task);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), data.rows(), pipeline.n_outputs());
  fit.y = y;
  fit.n_classes = static_cast<int>(schema.class_labels.size());
  est->fit(cpu(), fit);
  for (const auto& [name, type] : pipeline.input_columns()) schema.features.push_back({name, type});
  const auto path = testing::unique_temp_path(kind + ".tabula");
  save_model(path.string(), *est, pipeline, schema, nlohmann::json::object());
  LoadedModel model = load_model(path.string());
  std::filesystem::remove(path);
  return model;
}

/// y = 2a - b + 1 + 5 [color == "red"], fitted exactly by ordinary least squares.
inline LoadedModel linear_model() {
  Dataset data;
  Column color;
  color.name = "color";
  color.type = ColumnType::kCategorical;
  color.categories = {"blue", "red"};
  std::vector<double> a, b, y;
  for (int i = 0; i < 40; ++i) {
    a.push_back(i % 7);
    b.push_back((i * 3) % 11);
    color.codes.push_back(i % 2);
    y.push_back(2.0 * a.back() - b.back() + 1.0 + 5.0 * (i % 2));
  }
  data.columns = {numeric("a", a), numeric("b", b), color};
  ModelSchema schema;
  schema.target = "y";
  return fit_and_reload("linear", Task::kRegression, data, y, schema);
}

/// A two-class classifier with text labels: "no" when a < 5, else "yes".
inline LoadedModel text_classifier() {
  Dataset data;
  std::vector<double> a, b, y;
  for (int i = 0; i < 60; ++i) {
    a.push_back(i % 10);
    b.push_back(i % 3);
    y.push_back(a.back() < 5 ? 0 : 1);
  }
  data.columns = {numeric("a", a), numeric("b", b)};
  ModelSchema schema;
  schema.target = "label";
  schema.target_type = ColumnType::kCategorical;
  schema.class_labels = {"no", "yes"};
  schema.numeric_labels = false;
  return fit_and_reload("logistic", Task::kClassification, data, y, schema);
}

/// A fixture serving linear_model() as "lin" version 3 and text_classifier() as "cls" version 1,
/// with no batching delay.
class ServedModelsTest : public ::testing::Test {
 protected:
  ServedModelsTest() {
    serve::BatchingConfig batching;
    batching.max_queue_delay_us = 0;
    linear_ =
        std::make_unique<serve::ServedModel>("lin", "3", linear_model(), batching, cpu(), metrics_);
    classifier_ = std::make_unique<serve::ServedModel>("cls", "1", text_classifier(), batching,
                                                       cpu(), metrics_);
  }

  serve::Metrics metrics_;
  std::unique_ptr<serve::ServedModel> linear_, classifier_;
};

}  // namespace tabula::testing

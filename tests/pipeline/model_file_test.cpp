// Models with pipelines on disk: files written before pipelines still load (a numeric
// passthrough), and a trained model's features come from its stored pipeline.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pipeline/pipeline_test_data.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/training/training.hpp"

namespace tabula {
namespace {

namespace fs = std::filesystem;
using testing::kMissing;
using testing::numeric_column;
using testing::table;
using testing::text_column;

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

TEST(ModelFilePipeline, FileWithoutPipelineLoadsAsNumericPassthrough) {
  // What save_model wrote before pipelines: estimator, model, schema, training; no "pipeline".
  std::unique_ptr<Estimator> model = make_estimator("linear", {});
  const std::vector<float> x = {0, 1, 1, 0, 2, 2, 3, 1};
  const std::vector<double> y = {1, 2, 5, 6};
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), 4, 2);
  fit.y = y;
  model->fit(cpu(), fit);
  ArtifactWriter out;
  model->save(out);
  out.set("model", {{"kind", "linear"}, {"task", "regression"}, {"params", model->params()}});
  out.set("schema", {{"features",
                      {{{"name", "a"}, {"type", "numeric"}}, {{"name", "b"}, {"type", "numeric"}}}},
                     {"target", {{"name", "y"}, {"type", "numeric"}}}});
  out.set("training", nlohmann::json::object());
  const fs::path path = testing::unique_temp_path("old.tbl");
  out.write(path.string());
  const LoadedModel m = load_model(path.string());
  fs::remove(path);
  ASSERT_NE(m.pipeline, nullptr);
  EXPECT_EQ(m.pipeline->n_outputs(), 2);
  // Columns by name, in any order; extra ones ignored and reported.
  const Dataset d = table({numeric_column("z", {9, 9}), numeric_column("b", {1, kMissing}),
                           numeric_column("a", {0, 2})});
  std::vector<std::string> ignored;
  const std::vector<float> f = m.features(cpu(), d, nullptr, &ignored);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], 0.0f);
  EXPECT_EQ(f[1], 1.0f);
  EXPECT_EQ(f[2], 2.0f);
  EXPECT_TRUE(std::isnan(f[3]));
  EXPECT_EQ(ignored, std::vector<std::string>{"z"});
}

TEST(ModelFilePipeline, TrainsOnCategoriesAndMissingValues) {
  const fs::path dir = testing::unique_temp_path("dir");
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "t.csv");
    f << "age,city,score,y\n";
    for (int i = 0; i < 60; ++i) {
      const char* city = i % 3 == 0 ? "oslo" : (i % 3 == 1 ? "rome" : "");
      const double age = 20 + (i * 7) % 30;
      f << (i % 10 == 4 ? std::string() : std::to_string(age)) << "," << city << ","
        << (i % 5) * 0.5 << "," << (i % 3 == 0 ? 1 : 0) << "\n";
    }
  }
  TrainOptions o;
  o.data_path = (dir / "t.csv").string();
  o.target = "y";
  o.model = "logistic";
  o.test_size = 0.25;
  o.seed = 3;
  const TrainReport r = train_model(cpu(), o, (dir / "m.tbl").string());
  EXPECT_EQ(r.rows_train, 45);
  const LoadedModel m = load_model((dir / "m.tbl").string());
  ASSERT_EQ(m.schema.features.size(), 3u);
  EXPECT_EQ(m.schema.features[1].name, "city");
  EXPECT_EQ(m.schema.features[1].type, ColumnType::kCategorical);
  EXPECT_EQ(m.pipeline->n_outputs(), 4);  // age, score, city=oslo, city=rome
  // The stored pipeline encodes new data by text and predicts.
  const Dataset d =
      table({numeric_column("age", {25, kMissing}), text_column("city", {"rome", "paris"}),
             numeric_column("score", {1, 2})});
  const std::vector<float> f = m.features(cpu(), d);
  ASSERT_EQ(f.size(), 8u);
  EXPECT_FALSE(std::isnan(f[4])) << "age imputed";
  EXPECT_EQ(f[6], 0.0f);  // paris: unseen, ignored
  EXPECT_EQ(f[7], 0.0f);
  EXPECT_EQ(f[3], 1.0f);  // rome
  // Drop a column; the model no longer reads it.
  o.drop_columns = {"score"};
  train_model(cpu(), o, (dir / "m2.tbl").string());
  EXPECT_EQ(load_model((dir / "m2.tbl").string()).schema.features.size(), 2u);
  o.drop_columns = {"nope"};
  EXPECT_THROW(train_model(cpu(), o, (dir / "m3.tbl").string()), InputError);
  EXPECT_FALSE(fs::exists(dir / "m3.tbl"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tabula

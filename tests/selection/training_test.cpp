// The train workflow as a library call: task inference, label encoding, the stored model file.
#include "tabula/training/training.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/file_fingerprint.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/scoring/batch_predict.hpp"
#include "tabula/selection/model_selection.hpp"

namespace tabula {
namespace {

namespace fs = std::filesystem;

Column numeric(std::vector<double> values) {
  Column c;
  c.name = "y";
  c.numeric = std::move(values);
  return c;
}

std::string target_csv(const std::vector<std::string>& cells) {
  std::string out = "x,y\n";
  for (const std::string& c : cells) out += "1," + c + "\n";
  return out;
}

// The target as train reads it (numbers when every cell is one), or forced to text.
Column text_target(const std::vector<std::string>& cells, bool as_text = false) {
  io::CsvOptions options = training_csv_options("y");
  if (as_text) options.categorical = {"y"};
  return *io::parse_csv(target_csv(cells), "t.csv", options).target;
}

TEST(InferTask, FollowsScikitLearnTypeOfTarget) {
  EXPECT_EQ(infer_task(text_target({"a", "b", "a"})).task, Task::kClassification);
  EXPECT_EQ(infer_task(numeric({0, 1, 1, 0})).task, Task::kClassification);
  EXPECT_EQ(infer_task(numeric({0, 1, 2.5})).task, Task::kRegression);
  // Whole numbers are classes however many there are (type_of_target: multiclass), also
  // when the file writes them as 1.0; the reason says so.
  std::vector<std::string> many;
  for (int i = 0; i < 25; ++i) many.push_back(std::to_string(i));
  const TaskChoice choice = infer_task(text_target(many));
  EXPECT_EQ(choice.task, Task::kClassification);
  EXPECT_NE(choice.reason.find("25 distinct whole numbers: multiclass"), std::string::npos)
      << choice.reason;
  EXPECT_EQ(infer_task(text_target({"1.0", "2.0", "3.0", "NA"})).task, Task::kClassification);
  // A column of numbers read as text decides the same way.
  EXPECT_EQ(infer_task(text_target({"1.0", "2.0", "3.0"}, true)).task, Task::kClassification);
  EXPECT_EQ(infer_task(text_target({"1.5", "2"}, true)).task, Task::kRegression);
  EXPECT_NE(infer_task(text_target({"0", "1"})).reason.find("binary"), std::string::npos);
  const TaskChoice continuous = infer_task(text_target({"1", "2", "2.5"}));
  EXPECT_EQ(continuous.task, Task::kRegression);
  EXPECT_NE(continuous.reason.find("2.5"), std::string::npos) << continuous.reason;
  EXPECT_THROW(infer_task(text_target({"1", "inf"})), InputError);
  EXPECT_EQ(parse_task(to_string(Task::kTransform)), Task::kTransform);
  EXPECT_EQ(parse_task("clustering"), Task::kClustering);
  EXPECT_THROW(parse_task("clusters"), InputError);
}

TEST(ChooseTask, OverridesAndFixedTaskModels) {
  const Column counts = text_target({"1", "5", "9", "12"});
  EXPECT_EQ(choose_task("forest", &counts, std::nullopt).task, Task::kClassification);
  EXPECT_EQ(choose_task("forest", &counts, Task::kRegression).task, Task::kRegression);
  // A regressor learns whole numbers; a classifier cannot learn continuous values.
  EXPECT_EQ(choose_task("ridge", &counts, std::nullopt).task, Task::kRegression);
  const Column continuous = text_target({"0.5", "1.5"});
  EXPECT_THROW(choose_task("logistic", &continuous, std::nullopt), InputError);
  const Column words = text_target({"a", "b"});
  EXPECT_THROW(choose_task("linear", &words, std::nullopt), InputError);
  EXPECT_THROW(choose_task("ridge", &counts, Task::kClassification), InputError);
  EXPECT_THROW(choose_task("forest", nullptr, std::nullopt), InputError);
  EXPECT_EQ(choose_task("pca", nullptr, std::nullopt).task, Task::kTransform);
}

TEST(EncodeTarget, LabelsKeepTheirSpelling) {
  const std::vector<std::string> cells = {"2.0", "1.0", "2", "NA", "10.0", "+3"};
  // Read as numbers (as train reads it), then spelt from the file.
  const std::string path = testing::unique_temp_path("t.csv").string();
  std::ofstream(path) << target_csv(cells);
  ModelSchema schema;
  std::vector<std::string> kept(cells);
  kept.erase(kept.begin() + 3);  // encode_target's callers drop missing targets first
  const Column target = text_target(kept);
  ASSERT_EQ(target.type, ColumnType::kNumeric);
  const std::vector<double> y = encode_target(target, Task::kClassification, schema);
  EXPECT_EQ(schema.class_labels, (std::vector<std::string>{"1", "2", "3", "10"}));
  spell_labels_as_written(path, io::CsvSettings{}, schema);
  std::filesystem::remove(path);
  // Sorted by value, each spelt as the first row holding it.
  EXPECT_EQ(schema.class_labels, (std::vector<std::string>{"1.0", "2.0", "+3", "10.0"}));
  EXPECT_TRUE(schema.numeric_labels);
  EXPECT_EQ(schema.target_type, ColumnType::kNumeric);
  EXPECT_EQ(y, (std::vector<double>{1, 0, 1, 3, 2}));
  EXPECT_EQ(schema.label_json(0).dump(), "1.0");
  EXPECT_EQ(schema.label_json(2).dump(), "3");
  EXPECT_FALSE(schema.integer_labels());
  // The same cells read as text give the same labels without the file.
  ModelSchema from_text;
  encode_target(text_target(kept, true), Task::kClassification, from_text);
  EXPECT_EQ(from_text.class_labels, schema.class_labels);
}

class TrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::unique_temp_path("dir");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }
  fs::path dir_;
};

TEST_F(TrainingTest, RegressionFixtureRoundTrip) {
  TrainOptions o;
  o.data_path = std::string(TABULA_TEST_DATA_DIR) + "/regression_small.csv";
  o.target = "y";
  o.model = "dummy";
  o.test_size = 0.25;
  o.seed = 4;
  const TrainReport r = train_model(cpu(), o, path("reg.tbl"));
  EXPECT_EQ(r.task, Task::kRegression);
  EXPECT_EQ(r.rows_test, 30);
  EXPECT_EQ(r.rows_train, 90);
  ASSERT_EQ(r.metrics.size(), 3u);
  EXPECT_EQ(r.metrics[0].name, "r2");
  // The model is the mean baseline itself: identical scores, and r2 near 0 but not above it.
  EXPECT_EQ(r.metrics[0].model, r.metrics[0].baseline);
  EXPECT_LT(r.metrics[0].model, 0.05);
  const LoadedModel m = load_model(path("reg.tbl"));
  ASSERT_EQ(m.schema.features.size(), 3u);
  EXPECT_EQ(m.schema.features[2].name, "x3");
  EXPECT_EQ(m.schema.target, "y");
  EXPECT_EQ(m.header["training"]["rows_train"], 90);
  EXPECT_EQ(m.header["training"]["data_fingerprint"].get<std::string>(),
            fmt::format("fnv1a64-16MiB:{:016x}", io::file_fingerprint(o.data_path)));
  const BatchResult b = predict_file(cpu(), path("reg.tbl"), o.data_path, path("p.csv"), false);
  EXPECT_EQ(b.rows, 120);
  EXPECT_EQ(b.notes.size(), 1u);  // the target column is ignored
}

TEST_F(TrainingTest, TextLabelsAreSortedAndRestored) {
  {
    std::ofstream f(path("animals.csv"));
    f << "a,b,label\n";
    for (int i = 0; i < 30; ++i)
      f << i << "," << (i * 7) % 5 << "," << (i % 3 == 0 ? "zebra" : (i % 3 == 1 ? "ant" : "cat"))
        << "\n";
  }
  TrainOptions o;
  o.data_path = path("animals.csv");
  o.target = "label";
  o.model = "dummy";
  o.params = {{"strategy", "most_frequent"}};
  const TrainReport r = train_model(cpu(), o, path("m.tbl"));
  EXPECT_EQ(r.task, Task::kClassification);
  const LoadedModel m = load_model(path("m.tbl"));
  EXPECT_EQ(m.schema.class_labels, (std::vector<std::string>{"ant", "cat", "zebra"}));
  EXPECT_FALSE(m.schema.numeric_labels);
  predict_file(cpu(), path("m.tbl"), path("animals.csv"), path("p.csv"), true);
  std::ifstream p(path("p.csv"));
  std::string header;
  std::getline(p, header);
  EXPECT_EQ(header, "proba_ant,proba_cat,proba_zebra");
  EXPECT_THROW(transform_file(cpu(), path("m.tbl"), path("animals.csv"), path("t.csv")),
               InputError);
  EXPECT_FALSE(fs::exists(path("t.csv")));
  o.task = Task::kRegression;
  EXPECT_THROW(train_model(cpu(), o, path("n.tbl")), InputError);  // text target, regression
  EXPECT_FALSE(fs::exists(path("n.tbl")));
}

TEST_F(TrainingTest, PipelineSeesTrainingRowsOnly) {
  // Two files that differ only in the test rows (wild numbers, new categories): the stored
  // pipeline and model are the same; only the test metrics differ.
  constexpr int kRows = 80;
  const TrainTestSplit split = train_test_split(kRows, 0.25, 9);
  std::vector<bool> is_test(kRows, false);
  for (std::int64_t r : split.test) is_test[static_cast<std::size_t>(r)] = true;
  for (const bool perturb : {false, true}) {
    std::ofstream f(path(perturb ? "b.csv" : "a.csv"));
    f << "x,city,y\n";
    for (int i = 0; i < kRows; ++i) {
      const bool wild = perturb && is_test[static_cast<std::size_t>(i)];
      f << (i % 9 == 0 ? std::string() : std::to_string(wild ? 1e5 + i : i * 0.5)) << ","
        << (wild ? "atlantis" : (i % 2 ? "oslo" : "rome")) << "," << i * 0.3 + (i % 2) << "\n";
    }
  }
  TrainOptions o;
  o.target = "y";
  o.model = "ridge";
  o.test_size = 0.25;
  o.seed = 9;
  o.data_path = path("a.csv");
  const TrainReport ra = train_model(cpu(), o, path("a.tbl"));
  o.data_path = path("b.csv");
  const TrainReport rb = train_model(cpu(), o, path("b.tbl"));
  const LoadedModel a = load_model(path("a.tbl")), b = load_model(path("b.tbl"));
  EXPECT_EQ(a.header["pipeline"].dump(), b.header["pipeline"].dump());
  EXPECT_EQ(a.estimator->summary().dump(), b.estimator->summary().dump());
  EXPECT_NE(ra.metrics[0].model, rb.metrics[0].model);
  // The same rows through both stored pipelines give the same features.
  const Dataset d = io::read_csv(path("a.csv"));
  EXPECT_EQ(a.features(cpu(), d), b.features(cpu(), d));
}

}  // namespace
}  // namespace tabula

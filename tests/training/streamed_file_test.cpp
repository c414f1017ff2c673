// `tabula train` on a file read in passes (mini-batch k-means): a file that fits the sample
// gives the in-memory model bit for bit; a larger one is sampled uniformly and every row is
// still read and checked (weights, pandas index columns) with its line named.
#include "training/streamed_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "support/temp_path.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/models/cluster/minibatch_kmeans.hpp"
#include "tabula/training/training.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

// Rows around three centres with a text column and a few missing cells; a pandas index column
// first when asked, a weight column last (one negative weight at `bad_weight_row`).
void write_table(const std::string& path, std::int64_t rows, bool weights = false,
                 std::int64_t bad_weight_row = -1, bool pandas_index = false) {
  std::ofstream out(path);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  out << (pandas_index ? "Unnamed: 0," : "") << "a,b,colour" << (weights ? ",w" : "") << "\n";
  const char* colours[] = {"red", "green", "blue"};
  for (std::int64_t i = 0; i < rows; ++i) {
    const int c = static_cast<int>(i % 3);
    if (pandas_index) out << i << ",";
    if (i % 997 == 5)
      out << ",";  // a missing value: the default pipeline imputes it
    else
      out << 10.0 * c + noise(rng) << ",";
    out << -5.0 * c + noise(rng) << "," << colours[(i / 3 + c) % 3];
    if (weights) out << "," << (i == bad_weight_row ? -1.0 : 1.0 + (i % 2));
    out << "\n";
  }
}

// Which of `rows` rows train's sample holds (drawn with seed 2, the one options() trains with).
std::vector<bool> sampled_rows(std::int64_t rows) {
  std::vector<bool> sampled(static_cast<std::size_t>(rows), false);
  for (std::int64_t r : ReservoirSample::rows_of(rows, ReservoirSample::kDefaultCapacity, 2))
    sampled[static_cast<std::size_t>(r)] = true;
  return sampled;
}

TrainOptions options(const std::string& data, const std::string& weight = {}) {
  TrainOptions o;
  o.data_path = data;
  o.model = "minibatch-kmeans";
  o.params = {{"n_clusters", "3"}, {"random_state", "4"}, {"batch_size", "256"}};
  o.sample_weight = weight;
  o.seed = 2;
  return o;
}

TEST(StreamedTrain, AFileWithinTheSampleGivesTheInMemoryModel) {
  testing::ScopedTempDir dir;
  const std::string data = (dir.path() / "t.csv").string();
  const std::string model = (dir.path() / "m.tbl").string();
  write_table(data, 5000, /*weights=*/true);
  const TrainReport report = train_model(cpu(), options(data, "w"), model);
  EXPECT_EQ(report.rows_sampled, 0);  // the sample holds every row
  EXPECT_EQ(report.training.at("sampled_rows"), 5000);
  const LoadedModel streamed = load_model(model);

  // In memory: the file read whole, the same pipeline, fit().
  const io::CsvOptions csv = training_csv_options("");
  Dataset table = io::read_csv(data, csv);
  const std::vector<double> weights = table.column("w").numeric;
  table.columns.erase(table.columns.begin() + *table.find("w"));
  Pipeline pipeline(PipelineSpec::defaults("minibatch-kmeans"));
  pipeline.fit(cpu(), table);
  const std::vector<float> x = pipeline.transform(cpu(), table);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), table.rows(), pipeline.n_outputs());
  fit.sample_weight = weights;
  fit.seed = 2;
  MiniBatchKMeans in_memory(MiniBatchKMeansParams::parse(options(data).params));
  in_memory.fit(cpu(), fit);
  const auto& fitted = dynamic_cast<const MiniBatchKMeans&>(*streamed.estimator);
  EXPECT_EQ(fitted.cluster_centers(), in_memory.cluster_centers());
  EXPECT_EQ(fitted.inertia(), in_memory.inertia());
  EXPECT_EQ(fitted.n_steps(), in_memory.n_steps());
  EXPECT_EQ(streamed.pipeline->output_names(), pipeline.output_names());
}

TEST(StreamedTrain, ALargerFileIsSampledAndEveryRowRead) {
  testing::ScopedTempDir dir;
  const std::string data = (dir.path() / "t.csv").string();
  const std::string model = (dir.path() / "m.tbl").string();
  const std::int64_t rows = ReservoirSample::kDefaultCapacity + 4000;
  write_table(data, rows, false, -1, /*pandas_index=*/true);
  const TrainReport report = train_model(cpu(), options(data), model);
  EXPECT_EQ(report.rows_total, rows);
  EXPECT_EQ(report.rows_sampled, ReservoirSample::kDefaultCapacity);
  EXPECT_NE(report.format_table().find("uniform sample of 65536 of the 69536"), std::string::npos)
      << report.format_table();
  const LoadedModel loaded = load_model(model);
  // The index column of every row (not only the sampled ones) held its row number: dropped.
  for (const FeatureSpec& f : loaded.schema.features) EXPECT_NE(f.name, "Unnamed: 0");
  const auto& fitted = dynamic_cast<const MiniBatchKMeans&>(*loaded.estimator);
  // Its inertia over every row is within 1% of k-means' on the file read whole (whose pipeline
  // saw every row; the groups are separated, so both find them).
  TrainOptions lloyd = options(data);
  lloyd.model = "kmeans";
  lloyd.params = {{"n_clusters", "3"}, {"random_state", "4"}, {"n_init", "10"}};
  train_model(cpu(), lloyd, model);
  const auto kmeans = load_model(model);
  const double optimum = dynamic_cast<const CentroidModel&>(*kmeans.estimator).inertia();
  EXPECT_NEAR(fitted.inertia(), optimum, 0.01 * optimum);
}

TEST(StreamedTrain, ABadWeightOutsideTheSampleNamesItsLine) {
  testing::ScopedTempDir dir;
  const std::string data = (dir.path() / "t.csv").string();
  const std::int64_t rows = ReservoirSample::kDefaultCapacity + 100;
  // A row the sample leaves out: only the passes read it.
  const std::vector<bool> sampled = sampled_rows(rows);
  std::int64_t left_out = 0;
  while (sampled[static_cast<std::size_t>(left_out)]) ++left_out;
  write_table(data, rows, true, left_out);
  try {
    train_model(cpu(), options(data, "w"), (dir.path() / "m.tbl").string());
    FAIL() << "a negative weight was accepted";
  } catch (const InputError& e) {
    const std::string where = data + ":" + std::to_string(left_out + 2) + ": column 4 ('w')";
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "m.tbl"));
}

TEST(StreamedTrain, TextInANumericColumnNamesItsLineInTheFile) {
  // In the sample the CSV reader finds it (on the sample's line, told as the file's); outside
  // it only the passes read it, with the column read as numbers since the sample held numbers.
  testing::ScopedTempDir dir;
  const std::int64_t rows = ReservoirSample::kDefaultCapacity + 100;
  const std::vector<bool> sampled = sampled_rows(rows);
  std::int64_t left_out = 0;
  while (sampled[static_cast<std::size_t>(left_out)]) ++left_out;
  // A sampled row past the capacity: it sits in another slot, on another line of the sample.
  std::int64_t in_sample = rows - 1;
  while (!sampled[static_cast<std::size_t>(in_sample)]) --in_sample;
  ASSERT_GE(in_sample, ReservoirSample::kDefaultCapacity);
  for (const std::int64_t bad : {left_out, in_sample}) {
    const std::string data = (dir.path() / "t.csv").string();
    {
      std::ofstream out(data);
      out << "a,b\n";
      for (std::int64_t i = 0; i < rows; ++i)
        out << i % 7 << "," << (i == bad ? std::string("oops") : std::to_string(i % 5)) << "\n";
    }
    try {
      train_model(cpu(), options(data), (dir.path() / "m.tbl").string());
      FAIL() << "text in a numeric column was accepted";
    } catch (const InputError& e) {
      const std::string where = data + ":" + std::to_string(bad + 2) + ":";
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("oops"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--categorical"), std::string::npos) << e.what();
    }
  }
}

TEST(StreamedTrain, OnlyTextFilesAreReadInPasses) {
  EXPECT_TRUE(streams_as_text("data.csv"));
  EXPECT_TRUE(streams_as_text("data.csv.gz"));
  EXPECT_FALSE(streams_as_text("sqlite:///tmp/x.db?query=select 1"));
}

}  // namespace
}  // namespace tabula

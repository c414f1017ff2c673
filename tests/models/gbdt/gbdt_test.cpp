// Histogram gradient boosting: a known answer, learning a nonlinear target, missing values
// routed by the learned side, growth limits, early stopping, the same model bit for bit on one
// and two threads, bad parameters named, and the model file's round trip and validation.
#include "tabula/models/gbdt/gbdt.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "models/gbdt/gbdt_loss.hpp"
#include "models/gbdt/gbdt_test_support.hpp"
#include "models/gbdt/gbdt_tree.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

using gbdt_test::cpu;
using gbdt_test::message;

struct Table {
  std::int64_t n = 0, d = 0;
  std::vector<float> x;
  std::vector<double> y;
  int n_classes = 0;
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), n, d);
  }
  FitData fit_data() const {
    FitData data;
    data.x = view();
    data.y = y;
    data.n_classes = n_classes;
    return data;
  }
};

// n rows of d uniform features in [-2, 2] (every 7th value of feature 2 missing); y from
// `target` of the row.
Table make_table(std::int64_t n, std::int64_t d, std::uint64_t seed,
                 const std::function<double(const float*)>& target, int n_classes = 0) {
  Table t{n, d, {}, {}, n_classes};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) t.x.push_back(j == 2 && i % 7 == 0 ? NAN : u(rng));
    t.y.push_back(target(t.x.data() + i * d));
  }
  return t;
}

double wave(const float* r) { return std::sin(2 * r[0]) + r[1] * r[1]; }
double three_classes(const float* r) { return r[0] + r[1] < -1 ? 0 : (r[0] - r[1] > 0.5 ? 1 : 2); }

double r2(const std::vector<double>& pred, const std::vector<double>& y) {
  double mean = 0, ss_res = 0, ss_tot = 0;
  for (double v : y) mean += v / static_cast<double>(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    ss_res += (pred[i] - y[i]) * (pred[i] - y[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
  }
  return 1 - ss_res / ss_tot;
}

TEST(GbdtTest, OneSplitGivesTheSideMeans) {
  // Ten rows, y = 0 left of 4.5 and 10 right: one tree with learning_rate 1 and two leaves
  // predicts each side's mean exactly (baseline 5, leaf values -5 and +5).
  Table t{10, 1, {}, {}, 0};
  for (int i = 0; i < 10; ++i) {
    t.x.push_back(static_cast<float>(i));
    t.y.push_back(i < 5 ? 0.0 : 10.0);
  }
  HistGradientBoostingRegressor model(ParamMap{{"max_iter", "1"},
                                               {"learning_rate", "1"},
                                               {"min_samples_leaf", "1"},
                                               {"max_leaf_nodes", "2"}});
  model.fit(cpu(), t.fit_data());
  EXPECT_EQ(model.baseline(), std::vector<double>{5.0});
  EXPECT_EQ(model.trees().n_trees(), 1);
  EXPECT_EQ(model.trees().leaves(0), 2);
  EXPECT_EQ(model.predict(cpu(), t.view()), t.y);
}

TEST(GbdtTest, AbsoluteErrorLeavesHoldTheMedians) {
  // One tree, learning rate 1: the baseline is the median of y and each leaf predicts the
  // median of its rows' targets, whatever their outliers.
  Table t = make_table(400, 2, 15, wave);
  for (std::int64_t i = 0; i < t.n; i += 9) t.y[static_cast<std::size_t>(i)] += 1000.0;
  HistGradientBoostingRegressor model(ParamMap{{"loss", "absolute_error"},
                                               {"max_iter", "1"},
                                               {"learning_rate", "1"},
                                               {"max_leaf_nodes", "4"}});
  model.fit(cpu(), t.fit_data());
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  EXPECT_EQ(model.baseline()[0], median(t.y));
  const std::vector<double> pred = model.predict(cpu(), t.view());
  std::map<double, std::vector<double>> leaves;  // prediction -> targets of its rows
  for (std::size_t i = 0; i < pred.size(); ++i) leaves[pred[i]].push_back(t.y[i]);
  EXPECT_EQ(leaves.size(), 4u);
  for (const auto& [value, ys] : leaves) EXPECT_NEAR(value, median(ys), 1e-9);
  EXPECT_EQ(model.params()["loss"], "absolute_error");
}

TEST(GbdtTest, LearnsANonlinearTargetAndKeepsTheLimits) {
  const Table train = make_table(3000, 4, 1, wave);
  const Table test = make_table(1000, 4, 2, wave);
  HistGradientBoostingRegressor model(ParamMap{{"max_depth", "3"}});
  model.fit(cpu(), train.fit_data());
  EXPECT_EQ(model.n_iter(), 100);  // 3000 rows: early stopping 'auto' is off
  EXPECT_GT(r2(model.predict(cpu(), test.view()), test.y), 0.9);
  for (std::int64_t t = 0; t < model.trees().n_trees(); ++t) {
    EXPECT_LE(model.trees().depth(t), 3);
    EXPECT_LE(model.trees().leaves(t), 8);
  }
  HistGradientBoostingRegressor leafy(ParamMap{{"max_leaf_nodes", "5"}, {"max_iter", "10"}});
  leafy.fit(cpu(), train.fit_data());
  for (std::int64_t t = 0; t < leafy.trees().n_trees(); ++t) EXPECT_EQ(leafy.trees().leaves(t), 5);
}

TEST(GbdtTest, ClassifiesTwoAndThreeClasses) {
  const auto two = [](const float* r) { return r[0] * r[1] > 0 ? 1.0 : 0.0; };
  const Table train2 = make_table(2000, 3, 3, two, 2), test2 = make_table(1000, 3, 4, two, 2);
  const Table train3 = make_table(2000, 3, 5, three_classes, 3),
              test3 = make_table(1000, 3, 6, three_classes, 3);
  for (const Table* pair : {&train2, &train3}) {
    const Table& train = *pair;
    const Table& test = pair == &train2 ? test2 : test3;
    HistGradientBoostingClassifier model;
    model.fit(cpu(), train.fit_data());
    EXPECT_EQ(model.trees_per_iteration(), train.n_classes > 2 ? train.n_classes : 1);
    std::vector<double> proba;
    const std::vector<double> labels = model.predict_with_proba(cpu(), test.view(), proba);
    ASSERT_EQ(proba.size(), static_cast<std::size_t>(test.n * train.n_classes));
    int right = 0;
    for (std::int64_t i = 0; i < test.n; ++i) {
      double sum = 0;
      for (int c = 0; c < train.n_classes; ++c) sum += proba[i * train.n_classes + c];
      EXPECT_NEAR(sum, 1.0, 1e-12);
      right += labels[i] == test.y[i];
    }
    EXPECT_GT(right, 0.93 * static_cast<double>(test.n)) << train.n_classes << " classes";
  }
}

TEST(GbdtTest, LearnsWhereMissingValuesGo) {
  // The target is whether feature 2 is missing: only the missing-value side explains it.
  Table t = make_table(
      1400, 3, 7, [](const float*) { return 0.0; }, 2);
  for (std::int64_t i = 0; i < t.n; ++i) t.y[i] = std::isnan(t.x[i * 3 + 2]) ? 1.0 : 0.0;
  HistGradientBoostingClassifier model(ParamMap{{"max_iter", "20"}});
  model.fit(cpu(), t.fit_data());
  EXPECT_EQ(model.predict(cpu(), t.view()), t.y);
}

TEST(GbdtTest, SameModelOnOneAndTwoThreads) {
  const Table reg = make_table(20000, 5, 8, wave);  // > 10000 rows: early stopping on
  const Table cls = make_table(5000, 5, 9, three_classes, 3);
  const auto fit = [&](int threads, const Table& t, bool classifier) {
    set_thread_count(threads);
    std::unique_ptr<HistGradientBoosting> model;
    const ParamMap p{{"max_iter", "30"}, {"random_state", "3"}, {"max_features", "0.6"}};
    if (classifier)
      model = std::make_unique<HistGradientBoostingClassifier>(p);
    else
      model = std::make_unique<HistGradientBoostingRegressor>(p);
    model->fit(cpu(), t.fit_data());
    std::vector<double> out = model->decision_function(cpu(), t.view());
    out.insert(out.end(), model->trees().values.begin(), model->trees().values.end());
    out.insert(out.end(), model->validation_scores().begin(), model->validation_scores().end());
    return out;
  };
  const int before = thread_count();
  for (bool classifier : {false, true}) {
    const Table& t = classifier ? cls : reg;
    const std::vector<double> one = fit(1, t, classifier), two = fit(2, t, classifier);
    ASSERT_EQ(one.size(), two.size());
    for (std::size_t i = 0; i < one.size(); ++i)
      ASSERT_EQ(std::bit_cast<std::uint64_t>(one[i]), std::bit_cast<std::uint64_t>(two[i])) << i;
  }
  set_thread_count(before);
}

// Raw scores are summed by blocks of rows on host backends: a column-major x (packed a block at
// a time) and a row-major x with padding between rows give the raw scores of the dense one, bit
// for bit, across several blocks (3 classes x 40 iterations: 120 trees, 546 rows a block).
TEST(GbdtTest, ColumnMajorAndPaddedRowsScoreAsDenseRows) {
  const Table t = make_table(3000, 5, 13, three_classes, 3);
  HistGradientBoostingClassifier model(ParamMap{{"max_iter", "40"}});
  model.fit(cpu(), t.fit_data());
  const std::vector<double> dense = model.decision_function(cpu(), t.view());
  ASSERT_EQ(dense.size(), static_cast<std::size_t>(3 * t.n));
  std::vector<float> by_column(t.x.size()), padded(static_cast<std::size_t>(t.n * (t.d + 3)));
  for (std::int64_t i = 0; i < t.n; ++i)
    for (std::int64_t j = 0; j < t.d; ++j) {
      by_column[static_cast<std::size_t>(j * t.n + i)] = t.x[static_cast<std::size_t>(i * t.d + j)];
      padded[static_cast<std::size_t>(i * (t.d + 3) + j)] =
          t.x[static_cast<std::size_t>(i * t.d + j)];
    }
  const auto bits = [](const std::vector<double>& v) {
    std::vector<std::uint64_t> out;
    for (const double x : v) out.push_back(std::bit_cast<std::uint64_t>(x));
    return out;
  };
  EXPECT_EQ(bits(model.decision_function(
                cpu(), MatrixView<const float>::col_major(by_column.data(), t.n, t.d))),
            bits(dense));
  EXPECT_EQ(bits(model.decision_function(
                cpu(), MatrixView<const float>{padded.data(), t.n, t.d, t.d + 3, Layout::kRowMajor,
                                               Device::cpu()})),
            bits(dense));
}

TEST(GbdtTest, TiedFeaturesSplitOnTheEarlierOne) {
  // Features 1 and 3 are one column twice (feature 2 missing at times, as make_table makes
  // it): every split on that column has equal gains on both, and the earlier feature must win,
  // however the features' scans are spread over threads.
  Table t = make_table(4000, 4, 12, [](const float*) { return 0.0; });
  for (std::int64_t i = 0; i < t.n; ++i) {
    t.x[static_cast<std::size_t>(i * 4 + 3)] = t.x[static_cast<std::size_t>(i * 4 + 1)];
    t.y[static_cast<std::size_t>(i)] = std::sin(2 * t.x[static_cast<std::size_t>(i * 4 + 1)]);
  }
  const int before = thread_count();
  for (int threads : {1, 2}) {
    set_thread_count(threads);
    HistGradientBoostingRegressor model(ParamMap{{"max_iter", "10"}});
    model.fit(cpu(), t.fit_data());
    std::int64_t on_one = 0;
    for (std::int32_t f : model.trees().feature) {
      EXPECT_NE(f, 3) << threads << " threads";
      on_one += f == 1 ? 1 : 0;
    }
    EXPECT_GT(on_one, 0);
  }
  set_thread_count(before);
}

TEST(GbdtTest, EarlyStoppingStopsOnNoise) {
  Table t = make_table(3000, 3, 10, [](const float*) { return 0.0; });
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise;
  for (double& v : t.y) v = noise(rng);
  HistGradientBoostingRegressor model(ParamMap{{"early_stopping", "true"}, {"random_state", "0"}});
  model.fit(cpu(), t.fit_data());
  EXPECT_LT(model.n_iter(), 100);
  EXPECT_EQ(model.validation_scores().size(), static_cast<std::size_t>(model.n_iter() + 1));
  EXPECT_EQ(model.trees().n_trees(), model.n_iter());
}

TEST(GbdtTest, BadParametersAreNamed) {
  const auto refused = [](const ParamMap& p, Task task, const std::string& needle) {
    const std::string m = message([&] {
      if (task == Task::kClassification)
        HistGradientBoostingClassifier{p};
      else
        HistGradientBoostingRegressor{p};
    });
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  };
  refused({{"learning_rate", "0"}}, Task::kRegression, "learning_rate");
  refused({{"learning_rate", "-1"}}, Task::kRegression, "learning_rate");
  refused({{"max_leaf_nodes", "1"}}, Task::kRegression, "max_leaf_nodes");
  refused({{"max_iter", "0"}}, Task::kRegression, "max_iter");
  refused({{"max_bins", "256"}}, Task::kRegression, "max_bins");
  refused({{"loss", "log_loss"}}, Task::kRegression, "loss='log_loss' needs a classification");
  refused({{"loss", "squared_error"}}, Task::kClassification, "loss='squared_error'");
  refused({{"loss", "absolute_error"}}, Task::kClassification, "loss='absolute_error'");
  refused({{"loss", "poisson"}}, Task::kRegression, "loss='poisson'");
  refused({{"n_estimators", "3"}}, Task::kRegression, "unknown parameter 'n_estimators'");
  refused({{"class_weight", "balanced"}}, Task::kRegression, "class_weight");
  refused({{"class_weight", "heavy"}}, Task::kClassification, "class_weight");
  const Table t = make_table(
      50, 2, 12, [](const float* r) { return r[0] > 0 ? 1.0 : 0.0; }, 1);
  EXPECT_NE(message([&] {
              HistGradientBoostingClassifier().fit(cpu(), t.fit_data());
            }).find("at least two classes"),
            std::string::npos);
}

TEST(GbdtTest, ClassWeightsAreSampleWeights) {
  // class_weight multiplies the sample weights: "0:2" is the same model as weight 2 on class 0,
  // and "balanced" moves the baseline to even odds.
  const Table t = make_table(
      1500, 3, 14, [](const float* r) { return r[0] > 1 ? 1.0 : 0.0; }, 2);
  const ParamMap p{{"max_iter", "10"}};
  ParamMap weighted_params = p;
  weighted_params["class_weight"] = "0:2";
  HistGradientBoostingClassifier by_class(weighted_params), by_row(p);
  by_class.fit(cpu(), t.fit_data());
  std::vector<double> w(t.y.size());
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = t.y[i] == 0 ? 2.0 : 1.0;
  FitData data = t.fit_data();
  data.sample_weight = w;
  by_row.fit(cpu(), data);
  EXPECT_EQ(by_class.decision_function(cpu(), t.view()), by_row.decision_function(cpu(), t.view()));
  ParamMap balanced_params = p;
  balanced_params["class_weight"] = "balanced";
  HistGradientBoostingClassifier balanced(balanced_params);
  balanced.fit(cpu(), t.fit_data());
  EXPECT_NEAR(balanced.baseline()[0], 0.0, 1e-12);
  EXPECT_LT(by_row.baseline()[0], -1.0);  // a quarter of the rows are class 1
  EXPECT_EQ(balanced.params()["class_weight"], "balanced");
}

TEST(GbdtTest, ModelFileRoundTripAndValidation) {
  const Table t = make_table(800, 4, 13, three_classes, 3);
  HistGradientBoostingClassifier model(ParamMap{{"max_iter", "8"}});
  model.fit(cpu(), t.fit_data());
  const std::string path = testing::unique_temp_path("gbdt.tbl").string();
  ArtifactWriter writer;
  model.save(writer);
  writer.write(path);
  HistGradientBoostingClassifier loaded;
  loaded.load(ArtifactReader(path));
  EXPECT_EQ(loaded.decision_function(cpu(), t.view()), model.decision_function(cpu(), t.view()));
  EXPECT_EQ(loaded.params(), model.params());
  HistGradientBoostingRegressor wrong_task;
  EXPECT_THROW(wrong_task.load(ArtifactReader(path)), InputError);

  // Valid checksums over inconsistent parts are refused by the field's name.
  const auto refused = [&](const std::function<void(ForestModel&, nlohmann::json&)>& damage,
                           const char* field) {
    ForestModel trees = model.trees();
    nlohmann::json fitted = {{"estimator", "gbdt-classifier"},
                             {"task", "classification"},
                             {"params", model.params()},
                             {"n_features_in_", 4},
                             {"n_classes", 3},
                             {"n_iter_", 8},
                             {"n_trees_per_iteration_", 3},
                             {"validation_score_", {}}};
    damage(trees, fitted);
    ArtifactWriter w;
    w.add("gbdt.offsets", std::span<const std::int64_t>(trees.offsets),
          {static_cast<std::int64_t>(trees.offsets.size())});
    const auto nodes = static_cast<std::int64_t>(trees.feature.size());
    w.add("gbdt.feature", std::span<const std::int32_t>(trees.feature), {nodes});
    w.add("gbdt.threshold", std::span<const float>(trees.threshold), {nodes});
    w.add("gbdt.left", std::span<const std::int32_t>(trees.left), {nodes});
    w.add("gbdt.right", std::span<const std::int32_t>(trees.right), {nodes});
    w.add("gbdt.missing_left", std::span<const std::uint8_t>(trees.missing_left), {nodes});
    w.add("gbdt.n_samples", std::span<const std::int64_t>(trees.n_samples), {nodes});
    w.add("gbdt.values", std::span<const double>(trees.values), {nodes, 1});
    w.add("gbdt.baseline", std::span<const double>(model.baseline()), {3});
    w.set("fitted", fitted);
    w.write(path);
    const std::string m =
        message([&] { HistGradientBoostingClassifier().load(ArtifactReader(path)); });
    EXPECT_NE(m.find(field), std::string::npos) << m;
  };
  const auto split_node = [](const ForestModel& m) {
    for (std::size_t i = 0; i < m.feature.size(); ++i)
      if (m.feature[i] >= 0) return i;
    return std::size_t{0};
  };
  refused([&](ForestModel& m, nlohmann::json&) { m.left[split_node(m)] = 100000; }, "gbdt.left");
  refused([&](ForestModel& m, nlohmann::json&) { m.right[split_node(m)] = 0; }, "gbdt.right");
  refused([&](ForestModel& m, nlohmann::json&) { m.feature[split_node(m)] = 4; }, "gbdt.feature");
  refused([&](ForestModel& m, nlohmann::json&) { m.values[0] = NAN; }, "gbdt.values");
  refused([](ForestModel&, nlohmann::json& f) { f["n_iter_"] = 7; }, "gbdt.offsets");
  refused([](ForestModel&, nlohmann::json& f) { f["n_trees_per_iteration_"] = 1; },
          "n_trees_per_iteration_");
  refused([](ForestModel&, nlohmann::json& f) { f["n_features_in_"] = 0; }, "n_features_in_");
  refused([](ForestModel&, nlohmann::json& f) { f["params"]["learning_rate"] = -1; },
          "learning_rate");
}

}  // namespace
}  // namespace tabula

namespace tabula {
namespace {

// A fit's trees reuse histogram buffers: a buffer comes back only when no node holds it, and
// a buffer still held is never handed out twice.
TEST(GbdtTest, HistogramBuffersAreReusedOnlyWhenFree) {
  const Table t = make_table(500, 3, 5, wave);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 16);
  gbdt::FitRows rows(cpu(), bins);
  auto first = rows.histogram_buffer(64);
  auto second = rows.histogram_buffer(64);
  EXPECT_NE(first.get(), second.get());
  EXPECT_EQ(first->size(), 64);
  EXPECT_NE(rows.histogram_buffer(32).get(), first.get());  // another size: its own buffer
  const Buffer<std::int64_t>* released = first.get();
  first.reset();
  EXPECT_EQ(rows.histogram_buffer(64).get(), released);
  auto again = rows.histogram_buffer(64);  // held: the next one is another buffer
  EXPECT_EQ(again.get(), released);
  EXPECT_NE(rows.histogram_buffer(64).get(), again.get());
}

// The histograms store a row's count and Hessian packed in one channel when the row count
// allows (Quantiser::count_bits); with squared error every Hessian is one unit step, so the
// packed and plain channels quantise the same values and must grow the same tree, leaf values
// and training-row updates included. The row order FitRows keeps between trees is exercised
// by growing two trees in a row.
TEST(GbdtTest, PackedAndPlainChannelsGrowTheSameTrees) {
  const Table t = make_table(6000, 4, 21, wave);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  gbdt::GrowConfig config;
  config.max_leaf_nodes = 15;
  config.max_features = t.d;
  std::vector<std::vector<double>> raws;
  std::vector<std::vector<gbdt::GrownTree>> trees;
  for (const bool pack : {true, false}) {
    gbdt::FitRows rows(cpu(), bins, pack);
    std::vector<double> raw(t.y.size(), 0.0);
    trees.push_back(gbdt_test::grow_squared_error_trees(
        bins, config, rows, t.y, 2, raw, [&](const gbdt::TreeInput& input) {
          EXPECT_EQ(input.units.channels(), pack ? 2 : 3);
          EXPECT_EQ(input.total[0], t.n);
        }));
    raws.push_back(raw);
  }
  for (const gbdt::GrownTree& grown : trees[0]) EXPECT_GT(grown.tree.leaves(0), 10);
  gbdt_test::expect_same_trees(trees[0], trees[1]);
  EXPECT_EQ(raws[0], raws[1]);
}

// Host backends partition a split's rows by swapping the misplaced ones (each row's side read
// from a feature-major copy of the codes) and start each tree from the rows in id order: after
// a tree every row sits in its leaf's positions (the update adds to each row the value of the
// leaf its codes reach), and the next quantise puts the ids and their ordered codes back in id
// order.
TEST(GbdtTest, SwappedRowsLandInTheirLeavesAndEachTreeStartsInIdOrder) {
  const Table t = make_table(20000, 5, 23, wave);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  gbdt::GrowConfig config;
  config.max_leaf_nodes = 31;
  config.max_features = t.d;
  gbdt::FitRows rows(cpu(), bins);
  std::vector<double> raw(t.y.size(), 0.0), grad_hess(2 * t.y.size(), 1.0);
  const MatrixView<const std::uint8_t> codes = bins.codes();
  const std::span<const std::uint8_t> by_id(codes.data, static_cast<std::size_t>(t.n * t.d));
  // The partition reads a split's side from a feature-major copy of the codes.
  const MatrixView<const std::uint8_t> columns = rows.codes_by_id();
  ASSERT_EQ(columns.layout, Layout::kColMajor);
  for (std::int64_t i = 0; i < t.n; ++i)
    for (std::int64_t j = 0; j < t.d; ++j)
      ASSERT_EQ(columns(i, j), codes(i, j)) << "row " << i << ", feature " << j;
  for (int tree = 0; tree < 3; ++tree) {
    for (std::size_t i = 0; i < raw.size(); ++i) grad_hess[2 * i] = raw[i] - t.y[i];
    const gbdt::TreeInput input =
        rows.quantise(grad_hess, 1, 0, gbdt::largest_magnitudes(grad_hess, 1));
    const std::span<const std::int32_t> order = rows.host_rows();
    for (std::int64_t p = 0; p < t.n; ++p) ASSERT_EQ(order[static_cast<std::size_t>(p)], p);
    const ForestBatch batch = rows.batch({}, {}, {}, 0);
    ASSERT_NE(batch.ordered_codes.data, nullptr);
    for (std::int64_t p = 0; p < t.n; ++p)
      ASSERT_TRUE(std::equal(codes.data + p * codes.stride, codes.data + p * codes.stride + t.d,
                             batch.ordered_codes.data + p * batch.ordered_codes.stride))
          << "tree " << tree << ", row " << p;
    std::vector<double> expected = raw;
    const gbdt::GrownTree grown =
        gbdt::grow_tree(cpu(), bins, config, tree, rows, input, raw, 1, 0);
    EXPECT_GT(grown.tree.leaves(0), 20) << "tree " << tree;
    gbdt::add_tree_by_codes(grown, by_id, t.d, expected, 1, 0);
    ASSERT_EQ(raw, expected) << "tree " << tree;
    const std::span<const std::int32_t> after = rows.host_rows();
    EXPECT_FALSE(std::is_sorted(after.begin(), after.end())) << "tree " << tree;
  }
}

}  // namespace
}  // namespace tabula

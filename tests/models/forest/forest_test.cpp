// The histogram random forest: hand-checkable trees, learned missing-value directions,
// determinism across thread counts, the primitives' histogram subtraction, probabilities,
// the artifact round trip and bad input.
#include "tabula/models/forest/forest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "backend/forest_math.hpp"
#include "models/forest/forest_builder.hpp"
#include "support/same_forest.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

struct Table {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> x;
  std::vector<double> y;
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), rows, cols);
  }
  FitData fit(int n_classes) const {
    FitData d;
    d.x = view();
    d.y = y;
    d.n_classes = n_classes;
    d.seed = 11;
    return d;
  }
};

// n rows, d features in [0, 1) (some NaN); class = (x0 + x1 > 1) XOR noise, or a smooth target.
Table synthetic(std::int64_t n, std::int64_t d, bool classification, std::uint64_t seed,
                double nan_rate = 0.05) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Table t{n, d, std::vector<float>(static_cast<std::size_t>(n * d)),
          std::vector<double>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) t.x[static_cast<std::size_t>(i * d + j)] = u(rng);
    const float x0 = t.x[static_cast<std::size_t>(i * d)],
                x1 = t.x[static_cast<std::size_t>(i * d + 1)];
    const double noise = u(rng);
    t.y[static_cast<std::size_t>(i)] = classification
                                           ? ((x0 + x1 > 1.0f) != (noise < 0.1) ? 1.0 : 0.0)
                                           : 3.0 * x0 - 2.0 * x1 * x1 + 0.1 * noise;
    for (std::int64_t j = 0; j < d; ++j)
      if (u(rng) < nan_rate) t.x[static_cast<std::size_t>(i * d + j)] = kNaN;
  }
  return t;
}

ParamMap single_tree(ParamMap extra = {}) {
  ParamMap p{{"n_estimators", "1"}, {"bootstrap", "false"}, {"max_features", "None"}};
  for (auto& [k, v] : extra) p[k] = v;
  return p;
}

void expect_input_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// ---- Trees that can be checked by hand -------------------------------------------------------

TEST(Forest, StumpSplitsAtTheMidpointOfTheClassBoundary) {
  Table t{6, 1, {1, 2, 3, 4, 5, 6}, {0, 0, 0, 1, 1, 1}};
  RandomForestClassifier model(single_tree());
  model.fit(cpu(), t.fit(2));
  const ForestModel& m = model.model();
  ASSERT_EQ(m.n_trees(), 1);
  ASSERT_EQ(m.n_nodes(), 3);  // a root and two pure leaves
  EXPECT_EQ(m.feature[0], 0);
  EXPECT_FLOAT_EQ(m.threshold[0], 3.5f);
  EXPECT_EQ(m.depth(0), 1);
  EXPECT_EQ(m.leaves(0), 2);
  EXPECT_EQ(model.predict(cpu(), t.view()), (std::vector<double>{0, 0, 0, 1, 1, 1}));
  const std::vector<float> probe{3.4f, 3.6f, -kInf, kInf};
  EXPECT_EQ(model.predict(cpu(), MatrixView<const float>::row_major(probe.data(), 4, 1)),
            (std::vector<double>{0, 1, 0, 1}));
}

TEST(Forest, RegressionLeavesHoldTheMeans) {
  Table t{6, 1, {1, 2, 3, 4, 5, 6}, {1, 1, 1, 5, 5, 7}};
  RandomForestRegressor model(single_tree({{"max_depth", "1"}}));
  model.fit(cpu(), t.fit(0));
  EXPECT_FLOAT_EQ(model.model().threshold[0], 3.5f);
  const std::vector<double> pred = model.predict(cpu(), t.view());
  EXPECT_DOUBLE_EQ(pred[0], 1.0);
  EXPECT_NEAR(pred[5], 17.0 / 3.0, 1e-9);
}

TEST(Forest, GiniPicksTheCleanerOfTwoFeatures) {
  // Feature 1 separates the classes perfectly, feature 0 leaves one row on the wrong side.
  Table t{8, 2, {}, {0, 0, 0, 0, 1, 1, 1, 1}};
  t.x = {1, 10, 2, 11, 3, 12, 6, 13, 4, 20, 5, 21, 7, 22, 8, 23};
  RandomForestClassifier model(single_tree({{"max_depth", "1"}}));
  model.fit(cpu(), t.fit(2));
  EXPECT_EQ(model.model().feature[0], 1);
  EXPECT_FLOAT_EQ(model.model().threshold[0], 16.5f);
  EXPECT_DOUBLE_EQ(model.feature_importances()[1], 1.0);
}

// ---- Missing values
// ----------------------------------------------------------------------------

// 20 low rows of class 0, 20 high rows of class 1, and 10 missing rows of class `missing_class`.
Table with_missing(double missing_class) {
  Table t{50, 1, {}, {}};
  for (int i = 0; i < 20; ++i) t.x.push_back(static_cast<float>(i) / 20.0f), t.y.push_back(0);
  for (int i = 0; i < 20; ++i)
    t.x.push_back(2.0f + static_cast<float>(i) / 20.0f), t.y.push_back(1);
  for (int i = 0; i < 10; ++i) t.x.push_back(kNaN), t.y.push_back(missing_class);
  return t;
}

TEST(Forest, MissingValuesFollowTheLearnedSide) {
  const std::vector<float> probe{kNaN, 0.1f, 2.5f};
  const auto x = MatrixView<const float>::row_major(probe.data(), 3, 1);
  for (double missing_class : {0.0, 1.0}) {
    RandomForestClassifier model(single_tree({{"max_depth", "1"}}));
    model.fit(cpu(), with_missing(missing_class).fit(2));
    EXPECT_EQ(model.model().missing_left[0], missing_class == 0.0 ? 1 : 0);
    EXPECT_EQ(model.predict(cpu(), x), (std::vector<double>{missing_class, 0, 1}));
  }
}

TEST(Forest, UnseenMissingValuesGoToTheLargerChild) {
  Table t{10, 1, {0, 1, 2, 3, 4, 5, 6, 10, 11, 12}, {0, 0, 0, 0, 0, 0, 0, 1, 1, 1}};
  RandomForestClassifier model(single_tree());
  model.fit(cpu(), t.fit(2));
  const std::vector<float> probe{kNaN};
  EXPECT_EQ(model.predict(cpu(), MatrixView<const float>::row_major(probe.data(), 1, 1))[0], 0.0);
  EXPECT_EQ(model.model().missing_left[0], 1);
}

// ---- Determinism ---------------------------------------------------------------------------

using testing::expect_identical;

class ForestThreads : public ::testing::Test {
 protected:
  void TearDown() override { set_thread_count(0); }
};

TEST_F(ForestThreads, TreesAreBitIdenticalForAnyThreadCount) {
  // 70k rows: the root's histograms are built from several row blocks.
  const Table cls = synthetic(70000, 6, true, 1);
  const Table reg = synthetic(70000, 6, false, 2);
  // Several trees grow concurrently (one per worker, committed in tree order); a single tree
  // grows with each level's nodes in parallel instead.
  const std::vector<ParamMap> configs = {
      {{"n_estimators", "5"}, {"max_depth", "8"}},                                  // sqrt features
      {{"n_estimators", "1"}, {"max_depth", "8"}},                                  // one tree
      {{"n_estimators", "2"}, {"max_leaf_nodes", "40"}, {"criterion", "entropy"}},  // best-first
  };
  for (const ParamMap& params : configs) {
    std::vector<ForestModel> models;
    std::vector<std::vector<double>> importances;
    for (int threads : {1, 2, 4}) {
      set_thread_count(threads);
      RandomForestClassifier model(params);
      model.fit(cpu(), cls.fit(2));
      models.push_back(model.model());
      importances.push_back(model.feature_importances());
    }
    expect_identical(models[0], models[1]);
    expect_identical(models[0], models[2]);
    EXPECT_EQ(importances[0], importances[1]);  // summed in tree order on any thread count
    EXPECT_EQ(importances[0], importances[2]);
  }
  std::vector<ForestModel> models;
  std::vector<std::vector<double>> preds;
  for (int threads : {1, 2, 4}) {
    set_thread_count(threads);
    // All features at every node: children's histograms come from subtraction.
    RandomForestRegressor model(ParamMap{{"n_estimators", "2"}, {"max_depth", "10"}});
    model.fit(cpu(), reg.fit(0));
    models.push_back(model.model());
    preds.push_back(model.predict(cpu(), reg.view()));
  }
  expect_identical(models[0], models[1]);
  expect_identical(models[0], models[2]);
  EXPECT_EQ(preds[0], preds[1]);
  EXPECT_EQ(preds[0], preds[2]);
}

TEST(Forest, SeedChangesTheForestAndRepeatsIt) {
  const Table t = synthetic(2000, 5, true, 3);
  const auto fit = [&](const char* seed) {
    RandomForestClassifier model(ParamMap{{"n_estimators", "3"}, {"random_state", seed}});
    model.fit(cpu(), t.fit(2));
    return model.model();
  };
  const ForestModel a = fit("1"), b = fit("1"), c = fit("2");
  expect_identical(a, b);
  EXPECT_NE(a.threshold, c.threshold);
}

// ---- Primitives ----------------------------------------------------------------------------

TEST(ForestPrimitives, SubtractionGivesTheSiblingsHistogram) {
  const Table t = synthetic(5000, 4, true, 4);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  std::vector<std::int32_t> rows(5000);
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<std::int64_t> channels;
  for (double y : t.y) channels.insert(channels.end(), {1, y == 0 ? 2 : 0, y == 1 ? 3 : 0});
  const std::vector<std::int32_t> begin{0, 0, 1700}, end{5000, 1700, 5000};
  std::vector<std::int32_t> features;
  for (int node = 0; node < 3; ++node) features.insert(features.end(), {0, 1, 2, 3});
  ForestBatch batch{3, {begin.data(), 3}, {end.data(), 3}, {features.data(), 12}, 4};
  const ForestHistShape shape{64, 3};
  const std::int64_t slot = shape.node_size(4);
  std::vector<std::int64_t> hist(static_cast<std::size_t>(3 * slot));
  const auto ch = MatrixView<const std::int64_t>::row_major(channels.data(), 5000, 3);
  cpu().forest().histograms(bins.codes(), {rows.data(), 5000}, ch, batch, shape,
                            {hist.data(), 3 * slot});
  // Every row counted once per feature.
  std::int64_t count = 0;
  for (std::int64_t b = 0; b < 64; ++b) count += hist[static_cast<std::size_t>(b * 3)];
  EXPECT_EQ(count, 5000);
  std::vector<std::int64_t> derived(static_cast<std::size_t>(3 * slot), 0);
  std::copy(hist.begin(), hist.begin() + 2 * slot, derived.begin());
  const std::vector<std::int32_t> parent{0}, child{1}, dst{2};
  cpu().forest().hist_subtract({hist.data(), slot}, {parent.data(), 1}, {child.data(), 1},
                               {dst.data(), 1}, slot, {derived.data(), 3 * slot});
  EXPECT_TRUE(std::equal(hist.begin() + 2 * slot, hist.end(), derived.begin() + 2 * slot));
}

TEST(ForestPrimitives, OrderedChannelsAndCodesMoveWithThePartitionAndGiveTheSameHistograms) {
  // Host backends may keep the channels and the codes by row position
  // (ForestBatch::ordered_channels, ordered_codes): the partition moves them with their rows and
  // the histograms read them in order; the sums are those of the reads by row id.
  const Table t = synthetic(5000, 4, true, 6);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  std::vector<std::int64_t> channels;
  for (std::size_t i = 0; i < t.y.size(); ++i)
    channels.insert(channels.end(), {1, t.y[i] == 0 ? std::int64_t(1 + i % 3) : 0,
                                     t.y[i] == 1 ? std::int64_t(2 + i % 2) : 0});
  const auto ch = MatrixView<const std::int64_t>::row_major(channels.data(), 5000, 3);
  const std::uint8_t* codes_by_id = bins.codes().data;
  for (const std::int64_t stride : {0, 16, 32, 64}) {  // 0: codes read by row id
    std::vector<std::int32_t> rows(5000);
    std::iota(rows.begin(), rows.end(), 0);
    std::shuffle(rows.begin(), rows.end(), std::mt19937(3));
    std::vector<std::int64_t> ordered;
    std::vector<std::uint8_t> ordered_codes(static_cast<std::size_t>(5000 * stride), 0xEE);
    for (std::size_t p = 0; p < rows.size(); ++p) {
      const auto r = static_cast<std::size_t>(rows[p]);
      ordered.insert(ordered.end(), channels.begin() + r * 3, channels.begin() + r * 3 + 3);
      if (stride > 0) std::copy_n(codes_by_id + r * 4, 4, ordered_codes.begin() + p * stride);
    }
    const auto ordered_view = MatrixView<std::int64_t>::row_major(ordered.data(), 5000, 3);
    const MatrixView<std::uint8_t> codes_view =
        stride == 0 ? MatrixView<std::uint8_t>{}
                    : MatrixView<std::uint8_t>{ordered_codes.data(), 5000,         4, stride,
                                               Layout::kRowMajor,    Device::cpu()};
    // Two nodes split on different features, then histograms of the four children.
    const std::vector<std::int32_t> begin{0, 2000}, end{2000, 5000}, feature{0, 2}, bin{20, 31};
    const std::vector<std::uint8_t> missing_left{1, 0};
    ForestBatch split{2, {begin.data(), 2}, {end.data(), 2}, {}, 0, ordered_view, codes_view};
    cpu().forest().partition(bins.codes(), {rows.data(), 5000}, split, {feature.data(), 2},
                             {bin.data(), 2}, {missing_left.data(), 2});
    for (std::size_t p = 0; p < rows.size(); ++p) {
      const auto r = static_cast<std::size_t>(rows[p]);
      for (std::size_t c = 0; c < 3; ++c) ASSERT_EQ(ordered[p * 3 + c], channels[r * 3 + c]) << p;
      for (std::size_t j = 0; j < 4 && stride > 0; ++j)
        ASSERT_EQ(ordered_codes[p * static_cast<std::size_t>(stride) + j], codes_by_id[r * 4 + j])
            << "stride " << stride << ", position " << p;
    }
    // The partition sent rows left exactly by the split's rule (code 0 by missing_left).
    for (std::size_t node = 0; node < 2; ++node) {
      const std::int64_t left_rows =
          std::count_if(rows.begin() + begin[node], rows.begin() + end[node], [&](std::int32_t r) {
            const std::uint8_t code = codes_by_id[static_cast<std::size_t>(r) * 4 + feature[node]];
            return code == 0 ? missing_left[node] != 0 : code <= bin[node];
          });
      for (std::int64_t p = begin[node]; p < end[node]; ++p) {
        const std::uint8_t code =
            codes_by_id[static_cast<std::size_t>(rows[static_cast<std::size_t>(p)]) * 4 +
                        feature[node]];
        const bool left = code == 0 ? missing_left[node] != 0 : code <= bin[node];
        ASSERT_EQ(left, p < begin[node] + left_rows) << "stride " << stride << ", position " << p;
      }
    }
    const std::vector<std::int32_t> cb{0, 900, 2000, 3100}, ce{900, 2000, 3100, 5000};
    std::vector<std::int32_t> features;
    for (int node = 0; node < 4; ++node) features.insert(features.end(), {3, 1});
    const ForestHistShape shape{64, 3};
    const std::int64_t slot = shape.node_size(2);
    std::vector<std::int64_t> gathered(static_cast<std::size_t>(4 * slot)), read(gathered.size());
    ForestBatch by_id{4, {cb.data(), 4}, {ce.data(), 4}, {features.data(), 8}, 2};
    ForestBatch in_order = by_id;
    in_order.ordered_channels = ordered_view;
    in_order.ordered_codes = codes_view;
    for (const bool feature_major : {false, true}) {
      const std::vector<std::uint8_t> columns = forest::feature_major_codes(bins);
      const MatrixView<const std::uint8_t> codes =
          feature_major ? MatrixView<const std::uint8_t>{columns.data(),    5000,         4, 5000,
                                                         Layout::kColMajor, Device::cpu()}
                        : bins.codes();
      cpu().forest().histograms(codes, {rows.data(), 5000}, ch, by_id, shape,
                                {gathered.data(), 4 * slot});
      cpu().forest().histograms(codes, {rows.data(), 5000}, ch, in_order, shape,
                                {read.data(), 4 * slot});
      EXPECT_EQ(gathered, read) << "feature-major " << feature_major << ", stride " << stride;
    }
  }
  // Ordered codes of another stride are refused, not read past their rows.
  std::vector<std::int32_t> rows(5000);
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<std::uint8_t> narrow(5000 * 8);
  const std::vector<std::int32_t> begin{0}, end{5000}, feature{0}, bin{3};
  const std::vector<std::uint8_t> missing_left{0};
  ForestBatch bad{
      1,
      {begin.data(), 1},
      {end.data(), 1},
      {},
      0,
      {},
      MatrixView<std::uint8_t>{narrow.data(), 5000, 4, 8, Layout::kRowMajor, Device::cpu()}};
  EXPECT_THROW(cpu().forest().partition(bins.codes(), {rows.data(), 5000}, bad, {feature.data(), 1},
                                        {bin.data(), 1}, {missing_left.data(), 1}),
               Error);
}

// Ordered rows are added a few features at a time over runs of rows (unrolled groups of four
// for two and three channels, a plain loop for other counts), feature-major codes one feature
// at a time: every feature count, feature order and node placement gives each bin the sum of
// its rows' channels.
TEST(ForestPrimitives, OrderedRowHistogramsAreEachBinsSum) {
  constexpr std::int64_t n = 9001, d = 9, bins = 64, stride = 32;
  std::mt19937 rng(17);
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n * stride), 0xEE);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j)
      codes[static_cast<std::size_t>(i * stride + j)] = static_cast<std::uint8_t>(rng() % bins);
  // Two nodes: one across several runs of rows, not starting on a run's boundary, of an odd
  // count; one small.
  const std::vector<std::int32_t> begin{101, 8990}, end{8990, 9001};
  std::vector<std::int32_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<std::uint8_t> columns(static_cast<std::size_t>(n * d));  // feature-major
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j)
      columns[static_cast<std::size_t>(j * n + i)] =
          codes[static_cast<std::size_t>(i * stride + j)];
  for (const std::int64_t k : {2, 3, 4}) {
    std::vector<std::int64_t> channels(static_cast<std::size_t>(n * k));
    for (std::int64_t& c : channels) c = static_cast<std::int64_t>(rng() % 1000) - 300;
    for (std::int64_t m = 1; m <= d; ++m) {
      std::vector<std::int32_t> order(static_cast<std::size_t>(d));
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      std::vector<std::int32_t> features;  // each node its own draw of m features
      for (int node = 0; node < 2; ++node) {
        features.insert(features.end(), order.begin(), order.begin() + m);
        std::rotate(order.begin(), order.begin() + 1, order.end());
      }
      ForestBatch batch{2, {begin.data(), 2}, {end.data(), 2}, {features.data(), 2 * m}, m};
      batch.ordered_channels = MatrixView<std::int64_t>::row_major(channels.data(), n, k);
      batch.ordered_codes = {codes.data(), n, d, stride, Layout::kRowMajor, Device::cpu()};
      const ForestHistShape shape{bins, k};
      const std::int64_t slot = shape.node_size(m);
      std::vector<std::int64_t> hist(static_cast<std::size_t>(2 * slot), -1);
      const auto all = MatrixView<const std::int64_t>::row_major(channels.data(), n, k);
      // The rows are in id order, so the codes by id are the ordered ones.
      const MatrixView<const std::uint8_t> by_id{codes.data(), n, d, stride, Layout::kRowMajor,
                                                 Device::cpu()};
      cpu().forest().histograms(by_id, {rows.data(), n}, all, batch, shape,
                                {hist.data(), 2 * slot});
      std::vector<std::int64_t> expected(hist.size(), 0);
      for (std::int64_t node = 0; node < 2; ++node)
        for (std::int64_t f = 0; f < m; ++f)
          for (std::int64_t r = begin[node]; r < end[node]; ++r) {
            const std::int64_t bin =
                codes[static_cast<std::size_t>(r * stride + features[node * m + f])];
            for (std::int64_t c = 0; c < k; ++c)
              expected[static_cast<std::size_t>(node * slot + (f * bins + bin) * k + c)] +=
                  channels[static_cast<std::size_t>(r * k + c)];
          }
      ASSERT_EQ(hist, expected) << k << " channels, " << m << " features";
      // The same sums from feature-major codes read by row id (tables too wide for ordered
      // codes), where a node of many rows a bin alternates its rows between two histograms.
      const ForestBatch by_column{
          2, {begin.data(), 2}, {end.data(), 2}, {features.data(), 2 * m}, m};
      std::fill(hist.begin(), hist.end(), -1);
      cpu().forest().histograms({columns.data(), n, d, n, Layout::kColMajor, Device::cpu()},
                                {rows.data(), n}, all, by_column, shape, {hist.data(), 2 * slot});
      ASSERT_EQ(hist, expected) << k << " channels, " << m << " features, feature-major";
    }
  }
}

TEST(ForestBuilder, InlineVectorKeepsItsValuesInlineAndOnTheHeapThroughCopiesAndMoves) {
  // A node's sums and constant bitmap: inline up to N entries, heap beyond, either way the same
  // values after assign, copy, move and reassignment to the other storage.
  for (const std::size_t size : {0UL, 1UL, 3UL, 4UL, 5UL, 13UL}) {
    std::vector<std::int64_t> values(size);
    std::iota(values.begin(), values.end(), std::int64_t{-2});
    forest::NodeSums a;
    a.assign(values.begin(), values.end());
    ASSERT_EQ(a.size(), size);
    ASSERT_EQ(a.empty(), size == 0);
    ASSERT_EQ(std::vector<std::int64_t>(a.begin(), a.end()), values);
    forest::NodeSums b = a;
    b[0 % std::max<std::size_t>(size, 1)] += size > 0 ? 100 : 0;
    ASSERT_EQ(std::vector<std::int64_t>(a.begin(), a.end()), values);  // a copy, not a view
    forest::NodeSums c = std::move(a);
    ASSERT_EQ(std::vector<std::int64_t>(c.begin(), c.end()), values);
    const std::vector<std::int64_t> other{7, 8, 9, 10, 11, 12};  // the other storage kind
    c.assign(other.begin(), other.begin() + (size > 4 ? 2 : 6));
    ASSERT_EQ(std::vector<std::int64_t>(c.begin(), c.end()),
              std::vector<std::int64_t>(other.begin(), other.begin() + (size > 4 ? 2 : 6)));
    const std::span<const std::int64_t> view = c;
    ASSERT_EQ(view.data(), c.data());
  }
}

TEST(ForestPrimitives, SmallAndLargeNodesPartitionInPlaceStablyWithTheirChannelsAndCodes) {
  // Whole nodes of up to 1024 rows move each row once through a scratch copy, larger ones
  // compact in place through a buffer: both give the stable partition and move the ordered
  // channels and codes with their rows (nodes where every row goes one way included).
  const Table t = synthetic(6000, 4, true, 9);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  const std::uint8_t* by_id = bins.codes().data;
  std::vector<std::int32_t> begin, end, feature, bin;
  std::vector<std::uint8_t> missing_left;
  std::int32_t at = 0;
  for (const std::int32_t size : {1, 2, 3, 5, 8, 17, 100, 1023, 1024, 1025, 2000}) {
    begin.push_back(at);
    end.push_back(at += size);
    feature.push_back(size % 4);
    bin.push_back(size == 17 ? 255 : 10 + size % 40);  // 255: every row with a code goes left
    missing_left.push_back(static_cast<std::uint8_t>(size % 2));
  }
  const auto nodes = static_cast<std::int64_t>(begin.size());
  const std::int64_t n = at, stride = 32;
  std::vector<std::int32_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  std::shuffle(rows.begin(), rows.end(), std::mt19937(11));
  const auto goes_left = [&](std::int32_t row, std::size_t node) {
    const std::uint8_t code = by_id[static_cast<std::size_t>(row) * 4 + feature[node]];
    return code == 0 ? missing_left[node] != 0 : code <= bin[node];
  };
  // The node of 100 rows is in its partitioned order already (no row moves); it has rows on
  // both sides.
  const auto in_order = std::stable_partition(rows.begin() + begin[6], rows.begin() + end[6],
                                              [&](std::int32_t r) { return goes_left(r, 6); });
  ASSERT_NE(in_order, rows.begin() + begin[6]);
  ASSERT_NE(in_order, rows.begin() + end[6]);
  std::vector<std::int64_t> ordered;
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n * stride), 0);
  for (std::size_t p = 0; p < rows.size(); ++p) {
    const auto r = static_cast<std::int64_t>(rows[p]);
    ordered.insert(ordered.end(), {r, 3 * r + 1, -r});
    std::copy_n(by_id + r * 4, 4, codes.begin() + static_cast<std::ptrdiff_t>(p) * stride);
  }
  std::vector<std::int32_t> expected = rows;
  for (std::size_t node = 0; node < begin.size(); ++node)
    std::stable_partition(expected.begin() + begin[node], expected.begin() + end[node],
                          [&](std::int32_t r) { return goes_left(r, node); });
  ForestBatch split{nodes,
                    {begin.data(), nodes},
                    {end.data(), nodes},
                    {},
                    0,
                    MatrixView<std::int64_t>::row_major(ordered.data(), n, 3),
                    {codes.data(), n, 4, stride, Layout::kRowMajor, Device::cpu()}};
  cpu().forest().partition(bins.codes(), {rows.data(), n}, split, {feature.data(), nodes},
                           {bin.data(), nodes}, {missing_left.data(), nodes});
  ASSERT_EQ(rows, expected);
  for (std::size_t p = 0; p < rows.size(); ++p) {
    const std::int64_t r = rows[p];
    ASSERT_EQ(ordered[p * 3], r) << p;
    ASSERT_EQ(ordered[p * 3 + 1], 3 * r + 1) << p;
    ASSERT_EQ(ordered[p * 3 + 2], -r) << p;
    for (std::size_t j = 0; j < 4; ++j)
      ASSERT_EQ(codes[p * stride + j], by_id[static_cast<std::size_t>(r) * 4 + j]) << p;
  }
}

TEST_F(ForestThreads, PartitionIsStableAndHistogramsEqualOnAnyThreadCount) {
  // A node of 150k rows is partitioned in blocks side by side when threads are free, and a lone
  // small node's histogram is cut into feature groups: both must give exactly the serial result
  // (a stable partition: each side keeps the rows' order; the same integer sums).
  const std::int64_t n = 160000, d = 5;
  const Table t = synthetic(n, d, true, 8);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  const std::uint8_t* by_id = bins.codes().data;
  std::vector<std::int32_t> shuffled(static_cast<std::size_t>(n));
  std::iota(shuffled.begin(), shuffled.end(), 0);
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(5));
  // Nodes [0, 150000) split on feature 1 and [150000, n) on feature 3.
  const std::vector<std::int32_t> begin{0, 150000}, end{150000, static_cast<std::int32_t>(n)},
      feature{1, 3}, bin{30, 12};
  const std::vector<std::uint8_t> missing_left{0, 1};
  const auto goes_left = [&](std::int32_t row, std::size_t node) {
    const std::uint8_t code = by_id[static_cast<std::size_t>(row) * d + feature[node]];
    return code == 0 ? missing_left[node] != 0 : code <= bin[node];
  };
  std::vector<std::int32_t> expected = shuffled;
  for (std::size_t node = 0; node < 2; ++node)
    std::stable_partition(expected.begin() + begin[node], expected.begin() + end[node],
                          [&](std::int32_t r) { return goes_left(r, node); });
  const ForestHistShape shape{64, 3};
  std::vector<std::int64_t> first_hist;
  for (const int threads : {1, 2, 3}) {
    set_thread_count(threads);
    std::vector<std::int32_t> rows = shuffled;
    std::vector<std::int64_t> ordered;
    std::vector<std::uint8_t> codes(static_cast<std::size_t>(n * 32));
    for (std::size_t p = 0; p < rows.size(); ++p) {
      const std::int64_t r = rows[p];
      ordered.insert(ordered.end(), {1, r, 2 * r + 1});  // identifies the row
      std::copy_n(by_id + r * d, d, codes.begin() + static_cast<std::ptrdiff_t>(p * 32));
    }
    const auto channels = MatrixView<std::int64_t>::row_major(ordered.data(), n, 3);
    const MatrixView<std::uint8_t> code_rows{codes.data(), n, d, 32, Layout::kRowMajor,
                                             Device::cpu()};
    ForestBatch split{2, {begin.data(), 2}, {end.data(), 2}, {}, 0, channels, code_rows};
    cpu().forest().partition(bins.codes(), {rows.data(), n}, split, {feature.data(), 2},
                             {bin.data(), 2}, {missing_left.data(), 2});
    ASSERT_EQ(rows, expected) << threads << " threads";
    for (std::size_t p = 0; p < rows.size(); ++p) {
      ASSERT_EQ(ordered[p * 3 + 1], rows[p]) << "channels moved with their row, position " << p;
      ASSERT_TRUE(std::equal(by_id + std::int64_t{rows[p]} * d,
                             by_id + std::int64_t{rows[p]} * d + d,
                             codes.begin() + static_cast<std::ptrdiff_t>(p * 32)))
          << "codes moved with their row, position " << p;
    }
    // One small node (one task): its histogram over all five features.
    const std::vector<std::int32_t> hb{150000}, he{160000}, feats{0, 1, 2, 3, 4};
    ForestBatch one{1, {hb.data(), 1}, {he.data(), 1}, {feats.data(), 5}, 5, channels, code_rows};
    std::vector<std::int64_t> hist(static_cast<std::size_t>(shape.node_size(d)), -1);
    cpu().forest().histograms(bins.codes(), {rows.data(), n}, channels, one, shape,
                              {hist.data(), static_cast<std::int64_t>(hist.size())});
    if (first_hist.empty()) first_hist = hist;
    EXPECT_EQ(hist, first_hist) << threads << " threads";
  }
  // Every feature's bins hold the node's 10,000 rows.
  for (std::int64_t f = 0; f < d; ++f) {
    std::int64_t count = 0;
    for (std::int64_t b = 0; b < 64; ++b)
      count += first_hist[static_cast<std::size_t>((f * 64 + b) * 3)];
    EXPECT_EQ(count, 10000) << "feature " << f;
  }
}

TEST_F(ForestThreads, HistSubtractOfLargeSlotsCoversEveryChunk) {
  // A slot is subtracted in chunks on several threads: every entry, the last partial chunk
  // included, is parent - child, and nothing past the destination slot is written.
  const std::int64_t slot = 3 * 8192 + 5;
  std::vector<std::int64_t> parent(static_cast<std::size_t>(slot)), hist;
  for (std::int64_t v = 0; v < slot; ++v) parent[static_cast<std::size_t>(v)] = 7 * v + 3;
  for (const int threads : {1, 2, 3}) {
    set_thread_count(threads);
    hist.assign(static_cast<std::size_t>(3 * slot), -1);
    for (std::int64_t v = 0; v < slot; ++v) hist[static_cast<std::size_t>(v)] = v % 11;
    const std::vector<std::int32_t> p{0}, c{0}, dst{1};
    cpu().forest().hist_subtract({parent.data(), slot}, {p.data(), 1}, {c.data(), 1},
                                 {dst.data(), 1}, slot, {hist.data(), 3 * slot});
    for (std::int64_t v = 0; v < slot; ++v)
      ASSERT_EQ(hist[static_cast<std::size_t>(slot + v)], 7 * v + 3 - v % 11)
          << threads << " threads, entry " << v;
    for (std::int64_t v = 2 * slot; v < 3 * slot; ++v)
      ASSERT_EQ(hist[static_cast<std::size_t>(v)], -1);
  }
}

TEST_F(ForestThreads, PartitionWithKnownLeftCountsSwapsOnlyMisplacedRows) {
  // ForestBatch::left_rows: a node's first left_rows positions keep the rows going left, and
  // only the rows on the wrong side move (trading places with one of the other side), with
  // their channels and codes, to places that do not depend on the thread count. Two nodes, a
  // gap of untouched rows between them, a large node cut into pieces and tasks, with and
  // without ordered arrays (then the codes are read by row id), with row-major and
  // feature-major codes (read by row id even beside ordered codes: the same places).
  const std::int64_t n = 160000, d = 5;
  const Table t = synthetic(n, d, true, 9);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  const std::uint8_t* by_id = bins.codes().data;
  std::vector<std::int32_t> shuffled(static_cast<std::size_t>(n));
  std::iota(shuffled.begin(), shuffled.end(), 0);
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(6));
  const std::vector<std::int32_t> begin{0, 150100}, end{150000, static_cast<std::int32_t>(n)},
      feature{2, 4}, bin{25, 40};
  const std::vector<std::uint8_t> missing_left{1, 0};
  const auto node_of = [&](std::int64_t p) { return p < 150000 ? 0 : p >= 150100 ? 1 : -1; };
  const auto goes_left = [&](std::int32_t r, int node) {
    const std::uint8_t code = by_id[static_cast<std::size_t>(r) * d + feature[node]];
    return code == 0 ? missing_left[node] != 0 : code <= bin[node];
  };
  std::vector<std::int32_t> left_rows(2, 0);
  for (std::int64_t p = 0; p < n; ++p)
    if (node_of(p) >= 0) left_rows[node_of(p)] += goes_left(shuffled[p], node_of(p));
  ASSERT_GT(left_rows[0], 30000);
  ASSERT_GT(left_rows[1], 1000);
  std::vector<std::uint8_t> columns(static_cast<std::size_t>(n * d));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j)
      columns[static_cast<std::size_t>(j * n + i)] = by_id[i * d + j];
  const MatrixView<const std::uint8_t> feature_major{columns.data(), n, d, n, Layout::kColMajor,
                                                     Device::cpu()};
  for (const bool ordered : {true, false}) {
    std::vector<std::int32_t> first;
    for (const auto& [threads, by_column] :
         std::vector<std::pair<int, bool>>{{1, false}, {2, false}, {3, false}, {2, true}}) {
      set_thread_count(threads);
      std::vector<std::int32_t> rows = shuffled;
      std::vector<std::int64_t> channels;
      std::vector<std::uint8_t> codes(static_cast<std::size_t>(n * 32), 0);
      for (std::size_t p = 0; p < rows.size(); ++p) {
        channels.insert(channels.end(), {rows[p], 3 * std::int64_t{rows[p]} + 1});
        std::copy_n(by_id + std::int64_t{rows[p]} * d, d,
                    codes.begin() + static_cast<std::ptrdiff_t>(p * 32));
      }
      ForestBatch split;
      split.nodes = 2;
      split.begin = {begin.data(), 2};
      split.end = {end.data(), 2};
      if (ordered) {
        split.ordered_channels = MatrixView<std::int64_t>::row_major(channels.data(), n, 2);
        split.ordered_codes = {codes.data(), n, d, 32, Layout::kRowMajor, Device::cpu()};
      }
      split.left_rows = {left_rows.data(), 2};
      cpu().forest().partition(by_column ? feature_major : bins.codes(), {rows.data(), n}, split,
                               {feature.data(), 2}, {bin.data(), 2}, {missing_left.data(), 2});
      for (std::int64_t p = 0; p < n; ++p) {
        const auto at = static_cast<std::size_t>(p);
        const int node = node_of(p);
        if (node < 0) {  // between the nodes: untouched
          ASSERT_EQ(rows[at], shuffled[at]);
          continue;
        }
        const bool left_side = p < begin[node] + left_rows[node];
        ASSERT_EQ(goes_left(rows[at], node), left_side) << threads << " threads, position " << p;
        if (goes_left(shuffled[at], node) == left_side)  // was on its side: stays
          ASSERT_EQ(rows[at], shuffled[at]) << threads << " threads, position " << p;
        if (!ordered) continue;
        ASSERT_EQ(channels[at * 2 + 1], 3 * std::int64_t{rows[at]} + 1);
        ASSERT_TRUE(std::equal(by_id + std::int64_t{rows[at]} * d,
                               by_id + std::int64_t{rows[at]} * d + d,
                               codes.begin() + static_cast<std::ptrdiff_t>(p * 32)));
      }
      std::vector<std::int32_t> sorted = rows;
      std::sort(sorted.begin(), sorted.end());
      for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(sorted[static_cast<std::size_t>(i)], i);
      if (first.empty()) first = rows;
      EXPECT_EQ(rows, first) << threads << " threads place the rows elsewhere"
                             << (by_column ? " (feature-major codes)" : "");
    }
  }
  // A count the rows contradict, or outside the node, is refused before any row moves.
  for (const std::int32_t wrong : {left_rows[0] + 1, left_rows[0] - 1, -1, 150001}) {
    std::vector<std::int32_t> rows = shuffled;
    const std::vector<std::int32_t> counts{wrong, left_rows[1]};
    ForestBatch split;
    split.nodes = 2;
    split.begin = {begin.data(), 2};
    split.end = {end.data(), 2};
    split.left_rows = {counts.data(), 2};
    EXPECT_THROW(
        cpu().forest().partition(bins.codes(), {rows.data(), n}, split, {feature.data(), 2},
                                 {bin.data(), 2}, {missing_left.data(), 2}),
        Error)
        << wrong;
    EXPECT_EQ(rows, shuffled) << wrong;
  }
}

TEST(ForestPrimitives, BinsPutInfinitiesAtTheEndsAndNaNInBinZero) {
  std::vector<float> x{kNaN, -kInf, 0.0f, 1.0f, 2.0f, kInf};
  const BinnedMatrix bins =
      BinnedMatrix::build(cpu(), MatrixView<const float>::row_major(x.data(), 6, 1), 256);
  ASSERT_EQ(bins.edges(), (std::vector<float>{0.5f, 1.5f}));
  const std::uint8_t* codes = bins.codes().data;
  EXPECT_EQ(std::vector<int>(codes, codes + 6), (std::vector<int>{0, 1, 1, 2, 3, 3}));
}

TEST(ForestPrimitives, EdgesAreMidpointsOfTheSortedDistinctValues) {
  // 200 distinct values across the float range (negatives, -0 and +0, tiny and huge), each 15
  // times in shuffled order: 3,000 values, so binning's radix sort runs; with at most 255
  // distinct values every one gets its own bin, so the edges are exactly the midpoints.
  std::mt19937_64 rng(17);
  std::vector<float> distinct{-0.0f, 0.0f, -3e38f, 3e38f, -1e-40f, 1e-40f, -1.0f, 1.0f};
  std::uniform_real_distribution<float> u(-1000.0f, 1000.0f);
  while (distinct.size() < 201)
    distinct.push_back(u(rng) * std::pow(10.0f, float(rng() % 30) - 15));
  std::vector<float> x;
  for (float v : distinct) x.insert(x.end(), 15, v);
  std::shuffle(x.begin(), x.end(), rng);
  std::vector<float> want = distinct;
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());  // -0 == +0: one value
  ASSERT_EQ(want.size(), 200u);
  std::vector<float> edges;
  for (std::size_t i = 1; i < want.size(); ++i) {
    const auto mid = static_cast<float>((double(want[i - 1]) + double(want[i])) / 2);
    edges.push_back(mid < want[i] ? mid : want[i - 1]);
  }
  const auto n = static_cast<std::int64_t>(x.size());
  const BinnedMatrix bins =
      BinnedMatrix::build(cpu(), MatrixView<const float>::row_major(x.data(), n, 1), 256);
  EXPECT_EQ(bins.edges(), edges);
}

// ---- Probabilities, importances, OOB, apply ------------------------------------------------

// A random forest of random trees (ForestModel arrays): shapes grown breadth-first, features in
// 0..d-1, thresholds drawn from the data's range with some +-inf, random missing sides, random
// leaf values; `big` adds a complete tree of 2^17 - 1 nodes (the traversal's 32-bit layout).
ForestModel random_forest(std::int64_t d, std::int64_t trees, std::int64_t value_size, bool big,
                          std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  ForestModel m;
  m.value_size = value_size;
  for (std::int64_t t = 0; t < trees + (big ? 1 : 0); ++t) {
    const bool complete = big && t == trees;
    const std::int64_t base = m.n_nodes();
    std::vector<int> depth{0};
    for (std::size_t i = 0; i < depth.size(); ++i) {
      const bool split = complete ? depth[i] < 16 : (depth[i] < 9 && u(rng) < 0.8f);
      if (!split) {
        m.feature.push_back(-1);
        m.threshold.push_back(0.0f);
        m.left.push_back(-1);
        m.right.push_back(-1);
        m.missing_left.push_back(0);
      } else {
        m.feature.push_back(static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(d)));
        const float r = u(rng);
        const float kInfinity = std::numeric_limits<float>::infinity();
        m.threshold.push_back(r < 0.05f ? kInfinity : r < 0.1f ? -kInfinity : u(rng));
        m.missing_left.push_back(u(rng) < 0.5f ? 1 : 0);
        // Children in either order, so the layout's (right, left) pairing is exercised.
        const auto a = static_cast<std::int32_t>(depth.size()),
                   b = static_cast<std::int32_t>(depth.size() + 1);
        const bool swap = u(rng) < 0.5f;
        m.left.push_back(swap ? b : a);
        m.right.push_back(swap ? a : b);
        depth.push_back(depth[i] + 1);
        depth.push_back(depth[i] + 1);
      }
      m.n_samples.push_back(1);
      for (std::int64_t c = 0; c < value_size; ++c) m.values.push_back(u(rng) * 10.0 - 3.0);
    }
    m.offsets.push_back(base + static_cast<std::int64_t>(depth.size()));
  }
  return m;
}

// The plain definition of traversal: walk each tree from its root, sum leaf values in tree order.
void reference_walk(const ForestModel& m, MatrixView<const float> x, std::vector<double>& mean,
                    std::vector<std::int32_t>& leaves) {
  const std::int64_t v = m.value_size, trees = m.n_trees();
  mean.assign(static_cast<std::size_t>(x.rows * v), 0.0);
  leaves.assign(static_cast<std::size_t>(x.rows * trees), 0);
  for (std::int64_t i = 0; i < x.rows; ++i) {
    for (std::int64_t t = 0; t < trees; ++t) {
      const std::int64_t base = m.offsets[static_cast<std::size_t>(t)];
      std::int64_t node = 0;
      for (;;) {
        const auto g = static_cast<std::size_t>(base + node);
        if (m.feature[g] < 0) break;
        const float value = x(i, m.feature[g]);
        const bool left = std::isnan(value) ? m.missing_left[g] != 0 : value <= m.threshold[g];
        node = left ? m.left[g] : m.right[g];
      }
      leaves[static_cast<std::size_t>(i * trees + t)] = static_cast<std::int32_t>(node);
      for (std::int64_t c = 0; c < v; ++c)
        mean[static_cast<std::size_t>(i * v + c)] +=
            m.values[static_cast<std::size_t>((base + node) * v + c)];
    }
    for (std::int64_t c = 0; c < v; ++c)
      mean[static_cast<std::size_t>(i * v + c)] *= 1.0 / static_cast<double>(trees);
  }
}

class ForestTraversal : public ::testing::Test {
 protected:
  void TearDown() override { set_thread_count(0); }
};

TEST_F(ForestTraversal, MatchesThePlainWalkBitForBit) {
  // Rows: not a multiple of the lane group or the row block; values include NaN, +-inf, +-0
  // and values equal to thresholds' neighbours.
  struct Case {
    std::int64_t d, trees, value_size;
    bool big;
    Layout layout;
  };
  const std::vector<Case> cases = {{5, 7, 2, false, Layout::kRowMajor},
                                   {3, 4, 3, true, Layout::kColMajor},
                                   {2100, 3, 1, false, Layout::kRowMajor}};  // 32-bit slots
  for (const Case& c : cases) {
    const ForestModel m = random_forest(c.d, c.trees, c.value_size, c.big, 31 + c.d);
    const std::int64_t n = 2048 + 16 * 3 + 5;
    std::mt19937_64 rng(32);
    std::uniform_real_distribution<float> u(-0.2f, 1.2f);
    const float specials[] = {kNaN, kInf, -kInf, 0.0f, -0.0f, 1.0f};
    std::vector<float> x(static_cast<std::size_t>(n * c.d));
    for (float& value : x) value = rng() % 8 == 0 ? specials[rng() % 6] : u(rng);
    const auto view =
        c.layout == Layout::kRowMajor
            ? MatrixView<const float>::row_major(x.data(), n, c.d)
            : MatrixView<const float>{x.data(), n, c.d, n, Layout::kColMajor, Device::cpu()};
    std::vector<double> want;
    std::vector<std::int32_t> want_leaves;
    reference_walk(m, view, want, want_leaves);
    for (int threads : {1, 3}) {
      set_thread_count(threads);
      std::vector<double> got(static_cast<std::size_t>(n * c.value_size));
      cpu().forest().predict(view, m.host_view(),
                             MatrixView<double>::row_major(got.data(), n, c.value_size));
      EXPECT_EQ(got, want) << "d=" << c.d << " threads=" << threads;
      std::vector<std::int32_t> leaves(static_cast<std::size_t>(n * m.n_trees()));
      cpu().forest().apply(view, m.host_view(),
                           MatrixView<std::int32_t>::row_major(leaves.data(), n, m.n_trees()));
      EXPECT_EQ(leaves, want_leaves) << "d=" << c.d << " threads=" << threads;
    }
  }
}

TEST_F(ForestTraversal, KeptLayoutFollowsRefitsAndLoads) {
  // The walk layout is prepared once per model and kept; a refit or a load must replace it.
  const Table t = synthetic(3000, 4, true, 33);
  RandomForestClassifier model(ParamMap{{"n_estimators", "3"}, {"max_depth", "6"}});
  FitData data = t.fit(2);
  model.fit(cpu(), data);
  const std::vector<double> first = model.predict_proba(cpu(), t.view());
  EXPECT_EQ(model.predict_proba(cpu(), t.view()), first);  // from the kept layout
  data.seed = 12;
  model.fit(cpu(), data);
  RandomForestClassifier fresh(ParamMap{{"n_estimators", "3"}, {"max_depth", "6"}});
  fresh.fit(cpu(), data);
  const std::vector<double> second = model.predict_proba(cpu(), t.view());
  EXPECT_NE(second, first);
  EXPECT_EQ(second, fresh.predict_proba(cpu(), t.view()));
  EXPECT_EQ(model.apply(cpu(), t.view()), fresh.apply(cpu(), t.view()));
  // Fewer features in a later call: the kept layout (built for 4) is not used for 3.
  EXPECT_THROW(model.predict(cpu(), MatrixView<const float>::row_major(t.x.data(), 4, 3)),
               InputError);
}

TEST(Forest, ProbabilitiesSumToOneAndPredictIsTheirArgmax) {
  Table t = synthetic(3000, 5, true, 5);
  for (std::size_t i = 0; i < t.y.size(); ++i)  // three classes
    if (t.x[i * 5 + 2] > 0.7f) t.y[i] = 2;
  RandomForestClassifier model(ParamMap{{"n_estimators", "10"}, {"max_depth", "6"}});
  model.fit(cpu(), t.fit(3));
  const std::vector<double> proba = model.predict_proba(cpu(), t.view());
  const std::vector<double> pred = model.predict(cpu(), t.view());
  for (std::int64_t i = 0; i < t.rows; ++i) {
    const double* p = proba.data() + i * 3;
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
    EXPECT_EQ(pred[static_cast<std::size_t>(i)],
              static_cast<double>(std::max_element(p, p + 3) - p));
  }
  // The one-traversal form the server uses gives exactly the two separate answers.
  std::vector<double> proba_too;
  EXPECT_EQ(model.predict_with_proba(cpu(), t.view(), proba_too), pred);
  EXPECT_EQ(proba_too, proba);
}

TEST(Forest, ImportancesFavourTheInformativeFeaturesAndOobIsHigh) {
  const Table t = synthetic(4000, 6, true, 6, 0.0);
  RandomForestClassifier model(
      ParamMap{{"n_estimators", "20"}, {"oob_score", "true"}, {"max_depth", "8"}});
  model.fit(cpu(), t.fit(2));
  const std::vector<double>& imp = model.feature_importances();
  EXPECT_NEAR(std::accumulate(imp.begin(), imp.end(), 0.0), 1.0, 1e-9);
  for (int j = 2; j < 6; ++j) {
    EXPECT_GT(imp[0], 2 * imp[static_cast<std::size_t>(j)]);
    EXPECT_GT(imp[1], 2 * imp[static_cast<std::size_t>(j)]);
  }
  // Labels have 10% noise: out-of-bag accuracy is near 0.9, never near chance.
  EXPECT_GT(model.oob_score(), 0.8);
  EXPECT_LT(model.oob_score(), 0.95);
}

TEST(Forest, ApplyReturnsLeavesWhoseValuesArePredicted) {
  const Table t = synthetic(500, 4, false, 7);
  RandomForestRegressor model(ParamMap{{"n_estimators", "4"}, {"max_depth", "5"}});
  model.fit(cpu(), t.fit(0));
  const std::vector<std::int32_t> leaves = model.apply(cpu(), t.view());
  const std::vector<double> pred = model.predict(cpu(), t.view());
  const ForestModel& m = model.model();
  for (std::int64_t i = 0; i < t.rows; ++i) {
    double sum = 0;
    for (std::int64_t tr = 0; tr < 4; ++tr) {
      const std::int64_t g =
          m.offsets[static_cast<std::size_t>(tr)] + leaves[static_cast<std::size_t>(i * 4 + tr)];
      ASSERT_EQ(m.feature[static_cast<std::size_t>(g)], -1);
      sum += m.values[static_cast<std::size_t>(g)];
    }
    EXPECT_NEAR(pred[static_cast<std::size_t>(i)], sum / 4, 1e-12);
  }
}

TEST(Forest, MaxLeafNodesBoundsTheLeaves) {
  const Table t = synthetic(3000, 4, false, 8);
  RandomForestRegressor model(ParamMap{{"n_estimators", "3"}, {"max_leaf_nodes", "7"}});
  model.fit(cpu(), t.fit(0));
  for (std::int64_t tr = 0; tr < 3; ++tr) EXPECT_EQ(model.model().leaves(tr), 7);
}

// ---- Sampling, weights and stopping rules
// ------------------------------------------------------

TEST(Forest, FitBinnedReusesBinsAndMatchesFit) {
  const Table t = synthetic(3000, 5, true, 12);
  RandomForestClassifier direct(ParamMap{{"n_estimators", "3"}, {"random_state", "4"}});
  direct.fit(cpu(), t.fit(2));
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 256);
  for (int repeat = 0; repeat < 2; ++repeat) {
    RandomForestClassifier reused(ParamMap{{"n_estimators", "3"}, {"random_state", "4"}});
    reused.fit_binned(bins, t.view(), t.y, {}, 2, 99);  // random_state overrides the seed
    expect_identical(direct.model(), reused.model());
  }
  RandomForestClassifier other_bins(ParamMap{{"max_bins", "32"}});
  EXPECT_THROW(other_bins.fit_binned(bins, t.view(), t.y, {}, 2, 0), InputError);
}

// Rows [i for i in 0..n if keep(i)] of t, gathered into a table of their own.
Table gather(const Table& t, const std::vector<std::int64_t>& rows) {
  Table g{static_cast<std::int64_t>(rows.size()), t.cols, {}, {}};
  for (std::int64_t r : rows) {
    const auto at = t.x.begin() + r * t.cols;
    g.x.insert(g.x.end(), at, at + t.cols);
    g.y.push_back(t.y[static_cast<std::size_t>(r)]);
  }
  return g;
}

// A scattered ~60% of n rows (not a prefix, not contiguous), fixed seed.
std::vector<std::int64_t> some_rows(std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < n; ++i)
    if (rng() % 5 < 3) rows.push_back(i);
  return rows;
}

TEST(Forest, FitOnARowSubsetOfSharedBinsEqualsAFitOnThoseRows) {
  // Every per-fit rule that depends on the row count or the class counts is in play:
  // bootstrap draws, fractional max_samples and min_samples_leaf, balanced class weights,
  // sample weights, out-of-bag scoring.
  const Table cls = synthetic(3000, 5, true, 21);
  const Table reg = synthetic(3000, 5, false, 22);
  const std::vector<std::int64_t> rows = some_rows(3000, 23);
  std::vector<double> weight(3000);
  for (std::size_t i = 0; i < weight.size(); ++i) weight[i] = 1 + static_cast<double>(i % 3);
  std::vector<double> weight_sel;
  for (std::int64_t r : rows) weight_sel.push_back(weight[static_cast<std::size_t>(r)]);
  const ParamMap cls_params{{"n_estimators", "4"},        {"max_samples", "0.7"},
                            {"min_samples_leaf", "0.01"}, {"class_weight", "balanced"},
                            {"oob_score", "true"},        {"random_state", "5"},
                            {"max_bins", "128"}};
  const ParamMap reg_params{{"n_estimators", "3"},
                            {"max_features", "0.6"},
                            {"min_samples_split", "0.02"},
                            {"oob_score", "true"},
                            {"max_bins", "128"}};
  for (const bool classifier : {true, false}) {
    const Table& t = classifier ? cls : reg;
    const BinnedMatrix all = BinnedMatrix::build(cpu(), t.view(), 128);
    // The same rows on their own, binned with the shared edges: the trees must be equal.
    const Table sub = gather(t, rows);
    const BinnedMatrix own = BinnedMatrix::build(cpu(), sub.view(), all);
    ASSERT_EQ(own.rows(), static_cast<std::int64_t>(rows.size()));
    ASSERT_EQ(own.edges(), all.edges());
    const int n_classes = classifier ? 2 : 0;
    const ParamMap& params = classifier ? cls_params : reg_params;
    const Task task = classifier ? Task::kClassification : Task::kRegression;
    RandomForest shared(task, ForestParams::parse(params, task));
    // Unselected rows' targets are never read: make them invalid for this task.
    std::vector<double> y = t.y;
    std::vector<char> selected(3000, 0);
    for (std::int64_t r : rows) selected[static_cast<std::size_t>(r)] = 1;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!selected[i]) y[i] = classifier ? 7.0 : std::nan("");
    shared.fit_binned(all, rows, t.view(), y, weight, n_classes, 3);
    RandomForest alone(task, ForestParams::parse(params, task));
    alone.fit_binned(own, sub.view(), sub.y, weight_sel, n_classes, 3);
    expect_identical(shared.model(), alone.model());
    EXPECT_EQ(shared.oob_score(), alone.oob_score());
    EXPECT_EQ(shared.feature_importances(), alone.feature_importances());
    EXPECT_EQ(shared.predict(cpu(), t.view()), alone.predict(cpu(), t.view()));
    // A wrong row mapping (the first |rows| rows instead of the selected ones) is caught.
    std::vector<std::int64_t> prefix(rows.size());
    std::iota(prefix.begin(), prefix.end(), std::int64_t{0});
    RandomForest shifted(task, ForestParams::parse(params, task));
    shifted.fit_binned(all, prefix, t.view(), t.y, weight, n_classes, 3);
    EXPECT_NE(shifted.model().threshold, alone.model().threshold);
  }
}

TEST(Forest, RowSubsetFitsAreDeterministicAcrossThreadsAndCheckTheirRows) {
  const Table t = synthetic(40000, 4, true, 24);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 256);
  const std::vector<std::int64_t> rows = some_rows(40000, 25);
  std::vector<ForestModel> models;
  for (int threads : {1, 3}) {
    set_thread_count(threads);
    RandomForestClassifier model(ParamMap{{"n_estimators", "2"}, {"max_depth", "7"}});
    model.fit_binned(bins, rows, t.view(), t.y, {}, 2, 8);
    models.push_back(model.model());
  }
  set_thread_count(0);
  expect_identical(models[0], models[1]);
  // Each tree's root counts distinct drawn rows, all from the selection: at most |rows|.
  EXPECT_LE(models[0].n_samples[0], static_cast<std::int64_t>(rows.size()));
  EXPECT_GT(models[0].n_samples[0], static_cast<std::int64_t>(rows.size()) / 2);
  RandomForestClassifier model(ParamMap{{"n_estimators", "1"}});
  expect_input_error(
      [&] { model.fit_binned(bins, std::vector<std::int64_t>{}, t.view(), t.y, {}, 2, 1); },
      "empty");
  expect_input_error(
      [&] {
        model.fit_binned(bins, std::vector<std::int64_t>{3, 2}, t.view(), t.y, {}, 2, 1);
      },
      "ascending");
  expect_input_error(
      [&] {
        model.fit_binned(bins, std::vector<std::int64_t>{1, 40000}, t.view(), t.y, {}, 2, 1);
      },
      "40000");
  expect_input_error(
      [&] {
        BinnedMatrix::build(cpu(), MatrixView<const float>::row_major(t.x.data(), 10, 3), bins);
      },
      "features");
}

TEST(Forest, BinningWithSharedEdgesGivesTheSameCodes) {
  const Table t = synthetic(5000, 3, true, 26);
  const BinnedMatrix all = BinnedMatrix::build(cpu(), t.view(), 64);
  // Rows 1000..1999 binned on their own with the shared edges: the same codes as in `all`.
  const auto part = MatrixView<const float>::row_major(t.x.data() + 1000 * 3, 1000, 3);
  const BinnedMatrix again = BinnedMatrix::build(cpu(), part, all);
  EXPECT_EQ(again.max_bins(), 64);
  EXPECT_EQ(again.n_bins(), all.n_bins());
  for (std::int64_t i = 0; i < 1000; ++i)
    for (std::int64_t j = 0; j < 3; ++j)
      ASSERT_EQ(again.codes()(i, j), all.codes()(1000 + i, j)) << i << "," << j;
  // Their own edges would differ (quantiles of another sample).
  EXPECT_NE(BinnedMatrix::build(cpu(), part, 64).edges(), all.edges());
}

TEST(Forest, MaxSamplesBoundsTheRowsPerTree) {
  const Table t = synthetic(2000, 4, false, 13);
  RandomForestRegressor model(ParamMap{{"n_estimators", "4"}, {"max_samples", "100"}});
  model.fit(cpu(), t.fit(0));
  for (std::int64_t tr = 0; tr < 4; ++tr) {
    const std::int64_t root_rows = model.model().n_samples[static_cast<std::size_t>(
        model.model().offsets[static_cast<std::size_t>(tr)])];
    EXPECT_LE(root_rows, 100);  // distinct rows among 100 draws
    EXPECT_GT(root_rows, 50);
  }
  RandomForestRegressor too_many(ParamMap{{"max_samples", "2001"}});
  expect_input_error([&] { too_many.fit(cpu(), t.fit(0)); }, "max_samples");
}

TEST(Forest, MinImpurityDecreaseStopsWeakSplits) {
  const Table t = synthetic(2000, 4, true, 14);
  RandomForestClassifier weak(ParamMap{{"n_estimators", "2"}, {"min_impurity_decrease", "0.01"}});
  RandomForestClassifier full(ParamMap{{"n_estimators", "2"}});
  weak.fit(cpu(), t.fit(2));
  full.fit(cpu(), t.fit(2));
  EXPECT_LT(weak.model().n_nodes() * 5, full.model().n_nodes());
  RandomForestClassifier none(ParamMap{{"n_estimators", "2"}, {"min_impurity_decrease", "1.0"}});
  none.fit(cpu(), t.fit(2));
  EXPECT_EQ(none.model().n_nodes(), 2);  // gini decrease never reaches 1: two single-leaf trees
}

TEST(Forest, BalancedClassWeightRaisesMinorityRecall) {
  // 5% positives, partly overlapping the negatives.
  Table t{4000, 2, {}, {}};
  std::mt19937_64 rng(15);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (int i = 0; i < 4000; ++i) {
    const bool positive = i % 20 == 0;
    t.x.push_back(g(rng) + (positive ? 1.5f : 0.0f));
    t.x.push_back(g(rng));
    t.y.push_back(positive ? 1.0 : 0.0);
  }
  const auto recall = [&](const char* class_weight) {
    RandomForestClassifier model(ParamMap{{"n_estimators", "10"},
                                          {"max_depth", "3"},
                                          {"class_weight", class_weight},
                                          {"random_state", "1"}});
    model.fit(cpu(), t.fit(2));
    const std::vector<double> pred = model.predict(cpu(), t.view());
    double hit = 0;
    for (int i = 0; i < 4000; i += 20) hit += pred[static_cast<std::size_t>(i)];
    return hit / 200;
  };
  const double plain = recall("None"), balanced = recall("balanced");
  EXPECT_GT(balanced, plain + 0.2) << plain << " vs " << balanced;
  EXPECT_GT(recall("balanced_subsample"), plain + 0.2);
  EXPECT_GT(recall("0:1,1:19"), plain + 0.2);
  RandomForestClassifier bad(ParamMap{{"class_weight", "0:1,5:2"}});
  expect_input_error([&] { bad.fit(cpu(), t.fit(2)); }, "class_weight");
}

// ---- The exact small-node path and feature redraws --------------------------------------------

// One tree grown by forest::grow_tree on every row of t once (weight 1); the small-node path
// and the CPU histogram and partition primitives read feature-major codes when `columns` is
// set, row-major codes otherwise.
// weighted: rows drawn 1-3 times (as a bootstrap draws them) and class c weighing 1 + c per draw
// (class_weight), so weights are not row counts.
// importance_out: set to the tree's impurity decreases per feature (channel units), if given.
ForestModel grow_one(const Table& t, int n_classes, const forest::TreeConfig& config,
                     bool columns = false, bool weighted = false,
                     std::vector<double>* importance_out = nullptr) {
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 256);
  const std::int64_t k = config.channels;
  std::vector<std::int32_t> rows(static_cast<std::size_t>(t.rows));
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<std::int64_t> ch(static_cast<std::size_t>(t.rows * k), 0), total(k, 0);
  for (std::int64_t i = 0; i < t.rows; ++i) {
    std::int64_t* c = ch.data() + i * k;
    c[0] = 1;  // channel 0 counts row-list entries (see ForestHistShape)
    const std::int64_t draws = weighted ? 1 + i % 3 : 1;
    if (n_classes > 0) {
      const auto cls = static_cast<std::int64_t>(t.y[static_cast<std::size_t>(i)]);
      c[1 + cls] = weighted ? draws * (1 + cls) : 1;
    } else {
      c[1] = draws;
      c[2] = draws * std::llround(t.y[static_cast<std::size_t>(i)] * 4096);
    }
    for (std::int64_t j = 0; j < k; ++j) total[static_cast<std::size_t>(j)] += c[j];
  }
  forest::TreeRows tree_rows{{rows.data(), t.rows, Device::cpu()},
                             MatrixView<const std::int64_t>::row_major(ch.data(), t.rows, k),
                             total};
  const std::vector<std::uint8_t> feature_major = forest::feature_major_codes(bins);
  if (columns) tree_rows.columns = feature_major.data();
  std::vector<double> importance(static_cast<std::size_t>(t.cols), 0.0);
  forest::HistArena arena;
  ForestModel grown = forest::grow_tree(cpu(), bins, config, 0, tree_rows, importance, arena);
  if (importance_out) *importance_out = importance;
  return grown;
}

TEST(ForestSmallNodes, ExactPathGivesTheHistogramPathsTrees) {
  // Missing values, ties (values rounded to 1/50) and three classes; every draw round.
  Table cls = synthetic(3000, 7, true, 21, 0.1);
  for (std::size_t i = 0; i < cls.x.size(); ++i)
    if (!std::isnan(cls.x[i])) cls.x[i] = std::round(cls.x[i] * 50) / 50;
  for (std::size_t i = 0; i < cls.y.size(); i += 7) cls.y[i] = 2;
  Table reg = synthetic(3000, 7, false, 22, 0.1);
  // Feature 0 (informative) one-hot-like: two values and missing, the small-node path's
  // three-bin case.
  for (Table* t : {&cls, &reg})
    for (std::int64_t i = 0; i < t->rows; ++i) {
      float& v = t->x[static_cast<std::size_t>(i * t->cols)];
      if (!std::isnan(v)) v = v > 0.5f ? 1.0f : 0.0f;
    }
  for (const bool classification : {true, false}) {
    const Table& t = classification ? cls : reg;
    for (const ForestCriterion criterion :
         classification ? std::vector{ForestCriterion::kGini, ForestCriterion::kEntropy}
                        : std::vector{ForestCriterion::kSquaredError}) {
      for (const std::int64_t m : {std::int64_t{2}, t.cols}) {
        for (const bool redraw : {true, false}) {
          forest::TreeConfig config;
          config.max_depth = 40;
          config.max_features = m;
          config.criterion = criterion;
          config.n_classes = classification ? 3 : 0;
          config.channels = classification ? 4 : 3;
          config.target_scale = 4096;
          config.redraw_features = redraw;
          config.seed = 5;
          config.small_node_rows = 0;  // histograms everywhere, as on a device
          const ForestModel dense = grow_one(t, config.n_classes, config);
          ASSERT_GT(dense.leaves(0), 50);
          // Histograms and partitions from feature-major codes (host backends) give the same.
          expect_identical(dense, grow_one(t, config.n_classes, config, true));
          for (const std::int64_t small : {std::int64_t{64}, std::int64_t{1} << 30}) {
            config.small_node_rows = small;
            SCOPED_TRACE("classification " + std::to_string(classification) + " m " +
                         std::to_string(m) + " redraw " + std::to_string(redraw) +
                         " small_node_rows " + std::to_string(small));
            expect_identical(dense, grow_one(t, config.n_classes, config));
            expect_identical(dense, grow_one(t, config.n_classes, config, true));
          }
        }
      }
    }
  }
}

TEST(ForestSmallNodes, WeightedRowsManyClassesAndLeafSizesGiveTheHistogramPathsTrees) {
  // Rows counted more than once, class weights, six classes and min_samples_leaf above one:
  // the small-node path's per-row gini sums (one class per row) against the histograms'.
  Table t = synthetic(2500, 6, true, 23, 0.1);
  for (std::size_t i = 0; i < t.x.size(); ++i)
    if (!std::isnan(t.x[i])) t.x[i] = std::round(t.x[i] * 40) / 40;
  for (std::size_t i = 0; i < t.y.size(); ++i)
    t.y[i] = static_cast<double>((static_cast<int>(t.y[i]) + 2 * static_cast<int>(i % 3)) % 6);
  for (const ForestCriterion criterion : {ForestCriterion::kGini, ForestCriterion::kEntropy}) {
    for (const std::int64_t leaf : {std::int64_t{1}, std::int64_t{4}}) {
      for (const std::int64_t m : {std::int64_t{2}, t.cols}) {
        forest::TreeConfig config;
        config.max_depth = 40;
        config.max_features = m;
        config.min_samples_leaf = leaf;
        config.criterion = criterion;
        config.n_classes = 6;
        config.channels = 7;
        config.seed = 9;
        config.small_node_rows = 0;
        const ForestModel dense = grow_one(t, 6, config, false, true);
        ASSERT_GT(dense.leaves(0), 50);
        config.small_node_rows = std::int64_t{1} << 30;
        SCOPED_TRACE("criterion " + std::to_string(static_cast<int>(criterion)) + " leaf " +
                     std::to_string(leaf) + " m " + std::to_string(m));
        expect_identical(dense, grow_one(t, 6, config, false, true));
        expect_identical(dense, grow_one(t, 6, config, true, true));
      }
    }
  }
}

TEST(ForestSmallNodes, GiniOverThreeToSeventeenClassesGivesTheHistogramPathsTrees) {
  // The small-node gini scan in float64 vectors, pairs (SSE2) and quads (AVX2, where the CPU
  // has it): 3 classes (one quad with a lane of padding), 10 (five pairs; three quads, two lanes
  // of padding), 16 (the most it takes) and 17 (the int64 scan again), weighted rows.
  struct RestoreWidth {
    int previous = forest::set_gini_vector_width(0);
    ~RestoreWidth() { forest::set_gini_vector_width(previous); }
  } restore;
  EXPECT_THROW(forest::set_gini_vector_width(3), std::invalid_argument);
  for (const int classes : {3, 10, 16, 17}) {
    Table t = synthetic(3000, 8, true, 31, 0.1);
    for (std::size_t i = 0; i < t.x.size(); ++i)
      if (!std::isnan(t.x[i])) t.x[i] = std::round(t.x[i] * 40) / 40;
    for (std::size_t i = 0; i < t.y.size(); ++i)
      t.y[i] = static_cast<double>((static_cast<int>(t.y[i]) * 5 + static_cast<int>(i % 7) +
                                    static_cast<int>(t.x[i * 8 + 1] > 0.3f)) %
                                   classes);
    for (const std::int64_t m : {std::int64_t{3}, t.cols}) {
      forest::TreeConfig config;
      config.max_depth = 40;
      config.max_features = m;
      config.n_classes = classes;
      config.channels = 1 + classes;
      config.seed = 13;
      config.small_node_rows = 0;
      const ForestModel dense = grow_one(t, classes, config, false, true);
      ASSERT_GT(dense.leaves(0), 50);
      config.small_node_rows = std::int64_t{1} << 30;
      for (const int width : {2, 4}) {
        forest::set_gini_vector_width(width);
        SCOPED_TRACE("classes " + std::to_string(classes) + " m " + std::to_string(m) + " width " +
                     std::to_string(forest::gini_vector_width()));
        expect_identical(dense, grow_one(t, classes, config, false, true));
        expect_identical(dense, grow_one(t, classes, config, true, true));
      }
    }
  }
}

TEST(ForestSmallNodes, RegressionTinyNodesAndOneHotColumnsGiveTheHistogramPathsTrees) {
  // The regression paths of the small-node scans: nodes of at most 8 rows sorted instead of
  // histogrammed (FeatureScanner::scan_tiny), and two-valued columns summed once per node
  // (two_bin_sums). Coarse values tie many thresholds and features at equal gains, so the
  // order of evaluation decides; rows weigh 1-3 draws; some two-valued columns miss values.
  Table t = synthetic(2000, 12, false, 24, 0.0);
  std::mt19937_64 rng(25);
  for (std::int64_t i = 0; i < t.rows; ++i) {
    for (std::int64_t j = 0; j < t.cols; ++j) {
      float& v = t.x[static_cast<std::size_t>(i * t.cols + j)];
      if (j < 4) {
        v = std::round(v * 6) / 6;  // few distinct values
      } else {
        v = (rng() % 4 == 0) ? 1.0f : 0.0f;  // one-hot-like
        if (j >= 9 && rng() % 50 == 0) v = kNaN;
      }
    }
    t.y[static_cast<std::size_t>(i)] = std::round(t.y[static_cast<std::size_t>(i)] * 3) / 3 +
                                       t.x[static_cast<std::size_t>(i * t.cols + 5)];
  }
  for (const std::int64_t leaf : {std::int64_t{1}, std::int64_t{3}}) {
    for (const std::int64_t m : {std::int64_t{3}, t.cols}) {
      for (const bool weighted : {false, true}) {
        forest::TreeConfig config;
        config.max_depth = 60;
        config.max_features = m;
        config.min_samples_leaf = leaf;
        config.criterion = ForestCriterion::kSquaredError;
        config.channels = 3;
        config.target_scale = 4096;
        config.seed = 7;
        config.small_node_rows = 0;
        std::vector<double> want, got;
        const ForestModel dense = grow_one(t, 0, config, false, weighted, &want);
        ASSERT_GT(dense.leaves(0), 100);
        config.small_node_rows = std::int64_t{1} << 30;
        SCOPED_TRACE("leaf " + std::to_string(leaf) + " m " + std::to_string(m) + " weighted " +
                     std::to_string(weighted));
        expect_identical(dense, grow_one(t, 0, config, false, weighted, &got));
        EXPECT_EQ(want, got);  // the same gains, bit for bit
        expect_identical(dense, grow_one(t, 0, config, true, weighted));
      }
    }
  }
}

TEST(ForestMath, IntegerGiniIsTheFloatGiniBitForBit) {
  // Random class weights up to the exactness bound, many classes or few, some zero, and the
  // extremes: one class holding the whole bound (its square is 2^52).
  std::mt19937_64 rng(11);
  const std::int64_t bound = forest::kExactGiniWeight;
  std::int64_t checked = 0;
  for (const std::int64_t classes : {2, 10, 100}) {
    for (int trial = 0; trial < 2000; ++trial) {
      std::vector<std::int64_t> ch(static_cast<std::size_t>(1 + classes), 0);
      const std::int64_t budget = trial == 0 ? bound : std::int64_t(rng() % (bound + 1));
      std::int64_t left = budget;
      for (std::int64_t c = 1; c <= classes && left > 0; ++c) {
        const std::int64_t w =
            trial == 0 ? left : (c == classes ? left : std::int64_t(rng() % (left + 1)));
        if (rng() % 4 == 0) continue;  // zero classes in between
        ch[static_cast<std::size_t>(c)] = w;
        left -= w;
      }
      ASSERT_TRUE(forest::gini_sums_exact(ch.data(), 1 + classes, ForestCriterion::kGini));
      std::int64_t w = 0, sq = 0;
      for (std::int64_t c = 1; c <= classes; ++c) {
        w += ch[static_cast<std::size_t>(c)];
        sq += ch[static_cast<std::size_t>(c)] * ch[static_cast<std::size_t>(c)];
      }
      const double want = forest::weighted_impurity(ch.data(), 1 + classes, ForestCriterion::kGini);
      ASSERT_EQ(std::bit_cast<std::uint64_t>(forest::gini_from_sums(w, sq)),
                std::bit_cast<std::uint64_t>(want))
          << classes << " classes, weight " << w;
      checked += w > (bound >> 4);
    }
  }
  EXPECT_GT(checked, 1000);  // most cases are near the bound, where rounding would show
  // Above the bound, and for entropy, the float path is kept.
  const std::vector<std::int64_t> heavy{5, bound, 1, 0};
  EXPECT_FALSE(forest::gini_sums_exact(heavy.data(), 4, ForestCriterion::kGini));
  const std::vector<std::int64_t> light{5, 3, 2, 0};
  EXPECT_TRUE(forest::gini_sums_exact(light.data(), 4, ForestCriterion::kGini));
  EXPECT_FALSE(forest::gini_sums_exact(light.data(), 4, ForestCriterion::kEntropy));
}

// Binary features, most of them constant within deep nodes (as one-hot columns are).
Table one_hot_like(std::int64_t n, std::int64_t d, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, d - 1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Table t{n, d, std::vector<float>(static_cast<std::size_t>(n * d), 0.0f),
          std::vector<double>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t a = pick(rng), b = pick(rng);
    t.x[static_cast<std::size_t>(i * d + a)] = 1.0f;
    t.x[static_cast<std::size_t>(i * d + b)] = 1.0f;
    t.y[static_cast<std::size_t>(i)] = ((a + b) % 3 == 0) != (u(rng) < 0.1) ? 1.0 : 0.0;
  }
  return t;
}

// Training rows per leaf of tree 0 whose classes differ although some feature separates them.
std::int64_t splittable_impure_leaves(const RandomForestClassifier& model, const Table& t) {
  const std::vector<std::int32_t> leaf = model.apply(cpu(), t.view());
  std::map<std::int32_t, std::vector<std::int64_t>> rows_of;
  for (std::int64_t i = 0; i < t.rows; ++i) rows_of[leaf[static_cast<std::size_t>(i)]].push_back(i);
  std::int64_t count = 0;
  for (const auto& [id, rows] : rows_of) {
    bool impure = false, separable = false;
    for (std::int64_t i : rows) {
      impure |= t.y[static_cast<std::size_t>(i)] != t.y[static_cast<std::size_t>(rows[0])];
      for (std::int64_t j = 0; j < t.cols; ++j)
        separable |= t.x[static_cast<std::size_t>(i * t.cols + j)] !=
                     t.x[static_cast<std::size_t>(rows[0] * t.cols + j)];
    }
    count += impure && separable;
  }
  return count;
}

TEST(Forest, RedrawFeaturesSplitsEveryNodeThatSomeFeatureSplits) {
  const Table t = one_hot_like(4000, 12, 3);
  const ParamMap base{{"n_estimators", "1"}, {"bootstrap", "false"}, {"max_features", "2"}};
  ParamMap redraw = base, leaf = base;
  leaf["redraw_features"] = "false";
  RandomForestClassifier with(redraw), without(leaf);
  with.fit(cpu(), t.fit(2));
  without.fit(cpu(), t.fit(2));
  // scikit-learn's rule: a node stops only when no feature at all can split it.
  EXPECT_EQ(splittable_impure_leaves(with, t), 0);
  EXPECT_GT(splittable_impure_leaves(without, t), 0);
  EXPECT_GT(with.model().leaves(0), without.model().leaves(0));
  EXPECT_EQ(with.params()["redraw_features"], true);
  EXPECT_EQ(without.params()["redraw_features"], false);
}

TEST(Forest, ArtifactsWithoutRedrawFeaturesLoadWithoutRedraws) {
  const Table t = one_hot_like(500, 8, 4);
  RandomForestClassifier model(ParamMap{{"n_estimators", "2"}});
  model.fit(cpu(), t.fit(2));
  ArtifactWriter out;
  model.save(out);
  out.header()["forest"]["params"].erase("redraw_features");  // as written before it existed
  const std::string path = testing::unique_temp_path("forest_old.tabula").string();
  out.write(path);
  RandomForestClassifier loaded;
  loaded.load(ArtifactReader(path));
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.params()["redraw_features"], false);
  EXPECT_EQ(model.predict_proba(cpu(), t.view()), loaded.predict_proba(cpu(), t.view()));
}

// ---- Artifact -----------------------------------------------------------------------------

TEST(Forest, SaveLoadRoundTripPredictsIdentically) {
  const Table t = synthetic(1000, 5, true, 9);
  RandomForestClassifier model(
      ParamMap{{"n_estimators", "5"}, {"max_depth", "6"}, {"oob_score", "true"}});
  model.fit(cpu(), t.fit(2));
  const std::string path = testing::unique_temp_path("forest.tabula").string();
  ArtifactWriter out;
  model.save(out);
  out.write(path);
  RandomForestClassifier loaded;
  loaded.load(ArtifactReader(path));
  std::filesystem::remove(path);
  expect_identical(model.model(), loaded.model());
  EXPECT_EQ(model.predict_proba(cpu(), t.view()), loaded.predict_proba(cpu(), t.view()));
  EXPECT_EQ(model.feature_importances(), loaded.feature_importances());
  EXPECT_EQ(model.oob_score(), loaded.oob_score());
  EXPECT_EQ(model.params(), loaded.params());
  EXPECT_EQ(loaded.summary()["n_estimators"], 5);
}

// ---- Bad input ------------------------------------------------------------------------------

TEST(Forest, BadParametersNameThemselves) {
  expect_input_error([] { RandomForestClassifier(ParamMap{{"max_depth", "0"}}); }, "max_depth");
  expect_input_error(
      [] {
        RandomForestClassifier(ParamMap{{"n_estimators", "0"}});
      },
      "n_estimators");
  expect_input_error([] { RandomForestClassifier(ParamMap{{"max_bins", "1"}}); }, "max_bins");
  expect_input_error([] { RandomForestClassifier(ParamMap{{"max_bins", "257"}}); }, "max_bins");
  expect_input_error(
      [] {
        RandomForestClassifier(ParamMap{{"criterion", "squared_error"}});
      },
      "criterion");
  expect_input_error([] { RandomForestRegressor(ParamMap{{"criterion", "gini"}}); }, "criterion");
  expect_input_error(
      [] {
        RandomForestClassifier(ParamMap{{"max_features", "0.0"}});
      },
      "max_features");
  expect_input_error(
      [] {
        RandomForestClassifier(ParamMap{{"min_samples_leaf", "0"}});
      },
      "min_samples_leaf");
  expect_input_error([] { RandomForestClassifier(ParamMap{{"bootstrap", "maybe"}}); }, "bootstrap");
  expect_input_error([] { RandomForestClassifier(ParamMap{{"max_depht", "3"}}); }, "max_depht");
  expect_input_error(
      [] {
        RandomForestClassifier(ParamMap{{"bootstrap", "false"}, {"oob_score", "true"}});
      },
      "oob_score");
}

TEST(Forest, BadDataIsRefusedClearly) {
  const Table t = synthetic(100, 3, true, 10, 0.0);
  expect_input_error(
      [&] {
        RandomForestClassifier(ParamMap{{"max_features", "4"}}).fit(cpu(), t.fit(2));
      },
      "max_features=4 is larger than the number of features (3)");
  Table one = t;
  std::fill(one.y.begin(), one.y.end(), 1.0);
  expect_input_error([&] { RandomForestClassifier().fit(cpu(), one.fit(2)); }, "has one class");
  Table nan_column = t;
  for (std::int64_t i = 0; i < t.rows; ++i)
    nan_column.x[static_cast<std::size_t>(i * 3 + 1)] = kNaN;
  expect_input_error([&] { RandomForestClassifier().fit(cpu(), nan_column.fit(2)); }, "feature 1");
  EXPECT_THROW(RandomForestClassifier().predict(cpu(), t.view()), Error);  // not fitted
  RandomForestClassifier fitted(ParamMap{{"n_estimators", "2"}});
  fitted.fit(cpu(), t.fit(2));
  expect_input_error(
      [&] { fitted.predict(cpu(), MatrixView<const float>::row_major(t.x.data(), 10, 2)); },
      "fitted on 3 features, got 2");
}

TEST(Forest, InfinitiesTrainAsTheExtremeBins) {
  Table t{8, 1, {-kInf, 1, 2, 3, 10, 11, 12, kInf}, {0, 0, 0, 0, 1, 1, 1, 1}};
  RandomForestClassifier model(single_tree());
  model.fit(cpu(), t.fit(2));
  EXPECT_EQ(model.predict(cpu(), t.view()), t.y);
  EXPECT_FLOAT_EQ(model.model().threshold[0], 6.5f);
}

}  // namespace
}  // namespace tabula

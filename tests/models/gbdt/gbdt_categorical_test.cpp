// Native categorical splits of gradient boosting: a target that depends on a set of categories
// is learned by one split, unseen categories follow the missing side, the category sets survive
// the model file and a crafted file is refused by the field's name, categorical_features errors
// name the parameter and the column, and the model is the same on one and two threads.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "models/forest/tree_arrays.hpp"
#include "models/gbdt/gbdt_test_support.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/models/gbdt/gbdt.hpp"

namespace tabula {
namespace {

using gbdt_test::cpu;
using gbdt_test::message;

bool in_set(const ForestModel& m, std::size_t node, int category) {
  const std::int32_t set = m.category_set[node];
  return ((m.category_bits[static_cast<std::size_t>(set) * kForestCategorySetBytes +
                           static_cast<std::size_t>(category / 8)] >>
           (category % 8)) &
          1) != 0;
}

// Column 0: a category code 0..11 (row i has i % 12); column 1: noise. y = 10 when the code is
// in {1, 4, 6, 9, 11}, else 0: no threshold on the codes separates them, one set does.
struct Table {
  std::vector<float> x;
  std::vector<double> y;
  std::vector<std::string> names{"colour", "noise"};
  std::vector<std::uint8_t> categorical{1, 0};
  std::int64_t n = 0;
  FitData fit_data() const {
    FitData data;
    data.x = MatrixView<const float>::row_major(x.data(), n, 2);
    data.y = y;
    data.feature_names = names;
    data.categorical = categorical;
    return data;
  }
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), n, 2);
  }
};

bool in_target_set(int c) { return c == 1 || c == 4 || c == 6 || c == 9 || c == 11; }

Table category_table(std::int64_t n) {
  Table t;
  t.n = n;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % 12);
    t.x.push_back(static_cast<float>(c));
    t.x.push_back(u(rng));
    t.y.push_back(in_target_set(c) ? 10.0 : 0.0);
  }
  return t;
}

TEST(GbdtCategoricalTest, OneSplitLearnsACategorySet) {
  const Table t = category_table(1200);
  HistGradientBoostingRegressor model(ParamMap{
      {"max_iter", "1"}, {"learning_rate", "1"}, {"max_depth", "1"}, {"min_samples_leaf", "1"}});
  model.fit(cpu(), t.fit_data());
  const ForestModel& m = model.trees();
  ASSERT_EQ(m.n_trees(), 1);
  ASSERT_EQ(m.leaves(0), 2);
  ASSERT_EQ(m.feature[0], 0);
  ASSERT_TRUE(m.has_category_splits());
  EXPECT_EQ(model.is_categorical(), (std::vector<std::uint8_t>{1, 0}));
  // The five categories of the target's set are on one side, the seven others on the other.
  for (int c = 0; c < 12; ++c) EXPECT_EQ(in_set(m, 0, c), in_set(m, 0, 1) == in_target_set(c)) << c;
  // One depth-1 split fits it (up to the fixed-point rounding of the gradients).
  const std::vector<double> fitted = model.predict(cpu(), t.view());
  for (std::size_t i = 0; i < t.y.size(); ++i) ASSERT_NEAR(fitted[i], t.y[i], 1e-9) << i;

  // A category the fit never saw (12, 200), a negative code and a fraction go where missing
  // values go: right, as no training row was missing.
  EXPECT_EQ(m.missing_left[0], 0);
  const std::vector<float> unseen{12, 0.5f, 200, 0.5f, -1, 0.5f, 2.5f, 0.5f, NAN, 0.5f};
  const std::vector<double> p =
      model.predict(cpu(), MatrixView<const float>::row_major(unseen.data(), 5, 2));
  const double right = model.predict(cpu(), t.view())[in_set(m, 0, 1) ? 0 : 1];
  for (double v : p) EXPECT_EQ(v, right);
}

TEST(GbdtCategoricalTest, MissingIsACategoryOfItsOwn) {
  // Missing rows share the target of the set's categories: the split puts them on its side,
  // and at predict time an unseen category follows them.
  Table t = category_table(1200);
  for (std::int64_t i = 0; i < t.n; i += 12) {  // rows of category 0 (y = 0) become missing, y = 10
    t.x[static_cast<std::size_t>(2 * i)] = NAN;
    t.y[static_cast<std::size_t>(i)] = 10.0;
  }
  HistGradientBoostingRegressor model(ParamMap{
      {"max_iter", "1"}, {"learning_rate", "1"}, {"max_depth", "1"}, {"min_samples_leaf", "1"}});
  model.fit(cpu(), t.fit_data());
  const std::vector<double> fitted = model.predict(cpu(), t.view());
  for (std::size_t i = 0; i < t.y.size(); ++i) ASSERT_NEAR(fitted[i], t.y[i], 1e-9) << i;
  const std::vector<float> unseen{0, 0.5f, 77, 0.5f};  // 0: never seen once missing took it
  const std::vector<double> p =
      model.predict(cpu(), MatrixView<const float>::row_major(unseen.data(), 2, 2));
  EXPECT_NEAR(p[0], 10.0, 1e-9);
  EXPECT_NEAR(p[1], 10.0, 1e-9);
}

TEST(GbdtCategoricalTest, CategoricalFeaturesSpellings) {
  const Table t = category_table(600);
  const auto flags = [&](const std::string& spec) {
    HistGradientBoostingRegressor model(
        ParamMap{{"max_iter", "2"}, {"categorical_features", spec}});
    model.fit(cpu(), t.fit_data());
    return model.is_categorical();
  };
  const std::vector<std::uint8_t> first{1, 0};
  EXPECT_EQ(flags("from_dtype"), first);
  EXPECT_EQ(flags("colour"), first);
  EXPECT_EQ(flags("[\"colour\"]"), first);
  EXPECT_EQ(flags("0"), first);
  EXPECT_EQ(flags("[0]"), first);
  EXPECT_EQ(flags("true,false"), first);
  EXPECT_EQ(flags("None"), std::vector<std::uint8_t>{});
  HistGradientBoostingRegressor model(ParamMap{{"categorical_features", "colour,noise"}});
  EXPECT_EQ(model.params()["categorical_features"], nlohmann::json({"colour", "noise"}));
}

TEST(GbdtCategoricalTest, BadCategoricalFeaturesAreNamed) {
  Table t = category_table(600);
  const auto fit_error = [&](const std::string& spec, const std::string& max_bins = "255") {
    return message([&] {
      HistGradientBoostingRegressor model(
          ParamMap{{"max_iter", "1"}, {"categorical_features", spec}, {"max_bins", max_bins}});
      model.fit(cpu(), t.fit_data());
    });
  };
  std::string m = fit_error("colour,size");
  EXPECT_NE(m.find("categorical_features"), std::string::npos) << m;
  EXPECT_NE(m.find("'size'"), std::string::npos) << m;
  m = fit_error("5");
  EXPECT_NE(m.find("column 5"), std::string::npos) << m;
  m = fit_error("true,false,true");
  EXPECT_NE(m.find("mask of 3"), std::string::npos) << m;
  m = fit_error("noise");  // fractions are no codes
  EXPECT_NE(m.find("'noise'"), std::string::npos) << m;
  EXPECT_NE(m.find("category code"), std::string::npos) << m;
  m = fit_error("colour", "10");  // 12 categories, 10 bins
  EXPECT_NE(m.find("max_bins=10"), std::string::npos) << m;
  EXPECT_NE(m.find("'colour'"), std::string::npos) << m;
  EXPECT_NE(m.find("12 categories"), std::string::npos) << m;
  m = message([] { HistGradientBoostingRegressor(ParamMap{{"categorical_features", "a,,b"}}); });
  EXPECT_NE(m.find("categorical_features"), std::string::npos) << m;
}

TEST(GbdtCategoricalTest, SameModelOnOneAndTwoThreads) {
  // Many categories with noisy targets, early stopping on (validation rows binned like the
  // training rows), a classifier: the category sets and every value bit for bit.
  Table t;
  t.n = 12000;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (std::int64_t i = 0; i < t.n; ++i) {
    const int c = static_cast<int>(rng() % 40);
    t.x.push_back(i % 13 == 0 ? NAN : static_cast<float>(c));
    t.x.push_back(u(rng));
    t.y.push_back((c % 3 == 0) != (u(rng) < 0.2f) ? 1.0 : 0.0);
  }
  const auto fit = [&](int threads) {
    set_thread_count(threads);
    HistGradientBoostingClassifier model(ParamMap{{"max_iter", "20"}, {"random_state", "2"}});
    FitData data = t.fit_data();
    data.n_classes = 2;
    model.fit(cpu(), data);
    EXPECT_TRUE(model.trees().has_category_splits());
    std::vector<double> out = model.decision_function(cpu(), t.view());
    out.insert(out.end(), model.trees().values.begin(), model.trees().values.end());
    for (std::uint8_t b : model.trees().category_bits) out.push_back(b);
    return out;
  };
  const int before = thread_count();
  const std::vector<double> one = fit(1), two = fit(2);
  set_thread_count(before);
  ASSERT_EQ(one.size(), two.size());
  for (std::size_t i = 0; i < one.size(); ++i)
    ASSERT_EQ(std::bit_cast<std::uint64_t>(one[i]), std::bit_cast<std::uint64_t>(two[i])) << i;
}

TEST(GbdtCategoricalTest, CategorySetsRoundTripAndCraftedFilesAreRefused) {
  const Table t = category_table(1200);
  HistGradientBoostingRegressor model(ParamMap{{"max_iter", "5"}});
  model.fit(cpu(), t.fit_data());
  ASSERT_TRUE(model.trees().has_category_splits());
  const std::string path = testing::unique_temp_path("gbdt-cat.tbl").string();
  ArtifactWriter writer;
  model.save(writer);
  writer.write(path);
  const ArtifactReader reader(path);
  EXPECT_EQ(reader.header()["format"]["version"], 3);  // older readers must refuse it
  HistGradientBoostingRegressor loaded;
  loaded.load(reader);
  EXPECT_EQ(loaded.trees().category_set, model.trees().category_set);
  EXPECT_EQ(loaded.trees().category_bits, model.trees().category_bits);
  EXPECT_EQ(loaded.is_categorical(), model.is_categorical());
  EXPECT_EQ(loaded.predict(cpu(), t.view()), model.predict(cpu(), t.view()));

  const auto refused = [&](const std::function<void(ForestModel&, nlohmann::json&)>& damage,
                           const char* field) {
    ForestModel trees = model.trees();
    ArtifactWriter w;
    model.save(w);
    nlohmann::json fitted = w.header()["fitted"];
    damage(trees, fitted);
    // The threshold arrays as write_trees writes them, the sets as damaged (any length).
    ForestModel plain = trees;
    plain.category_set.clear();
    plain.category_bits.clear();
    ArtifactWriter crafted;
    forest::write_trees(crafted, "gbdt", plain);
    crafted.add("gbdt.category_set", std::span<const std::int32_t>(trees.category_set),
                {static_cast<std::int64_t>(trees.category_set.size())});
    crafted.add("gbdt.category_bits", std::span<const std::uint8_t>(trees.category_bits),
                {static_cast<std::int64_t>(trees.category_bits.size())});
    crafted.add("gbdt.baseline", std::span<const double>(model.baseline()), {1});
    crafted.set("fitted", fitted);
    crafted.write(path);
    const std::string m =
        message([&] { HistGradientBoostingRegressor().load(ArtifactReader(path)); });
    EXPECT_NE(m.find(field), std::string::npos) << m;
  };
  refused([](ForestModel& m, nlohmann::json&) { m.category_set[0] = 1000; }, "gbdt.category_set");
  refused([](ForestModel& m, nlohmann::json&) { m.category_set[0] = -2; }, "gbdt.category_set");
  refused([](ForestModel& m, nlohmann::json&) { m.category_set.pop_back(); }, "gbdt.category_set");
  refused(
      [](ForestModel& m, nlohmann::json&) { m.category_bits.resize(m.category_bits.size() - 1); },
      "gbdt.category_bits");
  refused(
      [](ForestModel& m, nlohmann::json&) {  // two nodes sharing one set
        for (std::size_t g = 1; g < m.category_set.size(); ++g)
          if (m.category_set[g] >= 0) m.category_set[g] = m.category_set[0];
      },
      "gbdt.category_set");
  refused([](ForestModel& m, nlohmann::json&) { m.category_set[0] = -1; },
          "gbdt.category_set");  // a threshold split on the categorical column
  refused([](ForestModel&, nlohmann::json& f) { f["is_categorical_"] = {true}; },
          "is_categorical_");
  refused([](ForestModel&, nlohmann::json& f) { f["is_categorical_"] = nullptr; },
          "gbdt.category_set");
}

}  // namespace
}  // namespace tabula

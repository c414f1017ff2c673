// Pipeline fit/transform: each transformer's statistics and outputs on small tables, the
// training-rows-only rule, the errors policy, and the saved form.
#include "tabula/pipeline/pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "pipeline/pipeline_test_data.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

using testing::kMissing;
using testing::numeric_column;
using testing::table;
using testing::text_column;

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

PipelineSpec spec_of(std::vector<BranchSpec> branches, std::vector<StepSpec> after = {}) {
  PipelineSpec s;
  s.branches = std::move(branches);
  s.after = std::move(after);
  return s;
}

BranchSpec numeric(std::vector<StepSpec> steps) {
  return {"numeric", {{}, ColumnType::kNumeric}, std::move(steps)};
}
BranchSpec categorical(std::vector<StepSpec> steps) {
  return {"categorical", {{}, ColumnType::kCategorical}, std::move(steps)};
}

TEST(Pipeline, ImputeThenStandardScaleMatchesTheFormulas) {
  const Dataset d =
      table({numeric_column("a", {1, kMissing, 3, 10}), numeric_column("b", {2, 2, 2, 2})});
  for (const std::string strategy : {"mean", "median", "most_frequent", "constant"}) {
    Pipeline p(spec_of({numeric({{"SimpleImputer", {{"strategy", strategy}, {"fill_value", "-1"}}},
                                 {"StandardScaler", {}}})}));
    p.fit(cpu(), d);
    const double fill = strategy == "mean"       ? 14.0 / 3
                        : strategy == "median"   ? 3.0
                        : strategy == "constant" ? -1.0
                                                 : 1.0;  // most_frequent: smallest of ties
    const std::vector<double> a = {1, fill, 3, 10};
    double mean = 0, var = 0;
    for (double v : a) mean += v / 4;
    for (double v : a) var += (v - mean) * (v - mean) / 4;
    const std::vector<float> x = p.transform(cpu(), d);
    ASSERT_EQ(x.size(), 8u) << strategy;
    for (int i = 0; i < 4; ++i) {
      EXPECT_NEAR(x[i * 2], (a[i] - mean) / std::sqrt(var), 1e-6) << strategy;
      EXPECT_EQ(x[i * 2 + 1], 0.0f) << "a constant column is centred, not divided by zero";
    }
  }
}

TEST(Pipeline, MinMaxScalerUsesTheFeatureRange) {
  const Dataset d = table({numeric_column("a", {2, 4, kMissing, 6})});
  Pipeline p(spec_of({numeric({{"MinMaxScaler", {{"feature_range", "-1,1"}}}})}));
  p.fit(cpu(), d);
  const std::vector<float> x = p.transform(cpu(), d);
  EXPECT_FLOAT_EQ(x[0], -1.0f);
  EXPECT_FLOAT_EQ(x[1], 0.0f);
  EXPECT_TRUE(std::isnan(x[2])) << "a scaler keeps missing values missing";
  EXPECT_FLOAT_EQ(x[3], 1.0f);
}

TEST(Pipeline, OneHotEncodesByTextWithSortedCategoriesAndNames) {
  const Dataset train = table({text_column("color", {"red", "blue", "", "red", "green"}),
                               numeric_column("n", {1, 2, 3, 4, 5})});
  Pipeline p(
      spec_of({numeric({}), categorical({{"SimpleImputer", {{"strategy", "most_frequent"}}},
                                         {"OneHotEncoder", {{"handle_unknown", "ignore"}}}})}));
  p.fit(cpu(), train);
  const std::vector<std::string> names = {"n", "color=blue", "color=green", "color=red"};
  EXPECT_EQ(p.output_names(), names);
  ASSERT_EQ(p.input_columns().size(), 2u);
  EXPECT_EQ(p.input_columns()[0].first, "color");  // file order
  // New data numbers its categories differently; matching is by text, unseen -> zeros.
  const Dataset chunk =
      table({numeric_column("n", {7, 8, 9}), text_column("color", {"red", "purple", ""}),
             numeric_column("extra", {0, 0, 0})});
  const std::vector<float> x = p.transform(cpu(), chunk);
  const std::vector<float> expected = {7, 0, 0, 1, 8, 0, 0, 0, 9, 0, 0, 1};
  EXPECT_EQ(x, expected);
}

TEST(Pipeline, InfrequentCategoriesShareOneOutputAsScikitLearn) {
  // counts: a=5, b=3, c=1, d=1 ; min_frequency=2 -> c, d infrequent.
  std::vector<std::string> v = {"a", "a", "a", "a", "a", "b", "b", "b", "c", "d"};
  const Dataset d = table({text_column("k", v)});
  Pipeline p(spec_of({categorical(
      {{"OneHotEncoder", {{"handle_unknown", "infrequent_if_exist"}, {"min_frequency", "2"}}}})}));
  p.fit(cpu(), d);
  const std::vector<std::string> names = {"k=a", "k=b", "k=infrequent_sklearn"};
  EXPECT_EQ(p.output_names(), names);
  const std::vector<float> x = p.transform(cpu(), table({text_column("k", {"c", "zzz", "b"})}));
  const std::vector<float> expected = {0, 0, 1, 0, 0, 1, 0, 1, 0};
  EXPECT_EQ(x, expected) << "unseen values go to the infrequent bucket under infrequent_if_exist";
  // max_categories=2: one frequent (the most common) + the bucket.
  Pipeline q(spec_of({categorical({{"OneHotEncoder", {{"max_categories", "2"}}}})}));
  q.fit(cpu(), d);
  const std::vector<std::string> q_names = {"k=a", "k=infrequent_sklearn"};
  EXPECT_EQ(q.output_names(), q_names);
  EXPECT_FALSE(q.notes().empty());
}

TEST(Pipeline, OrdinalEncoderCodesAndUnknownValue) {
  const Dataset d = table({text_column("k", {"x", "y", "z", ""})});
  Pipeline p(spec_of({categorical(
      {{"OrdinalEncoder", {{"handle_unknown", "use_encoded_value"}, {"unknown_value", "-1"}}}})}));
  p.fit(cpu(), d);
  const std::vector<float> x = p.transform(cpu(), table({text_column("k", {"z", "w", "", "x"})}));
  EXPECT_EQ(x[0], 2.0f);
  EXPECT_EQ(x[1], -1.0f);
  EXPECT_TRUE(std::isnan(x[2]));  // encoded_missing_value = nan
  EXPECT_EQ(x[3], 0.0f);
}

TEST(Pipeline, AfterStepsAndPcaComposeOverTheConcatenation) {
  std::vector<double> a, b;
  std::vector<std::string> k;
  for (int i = 0; i < 40; ++i) {
    a.push_back(std::sin(i * 0.7) * 3 + i * 0.1);
    b.push_back(std::cos(i * 1.3) + (i % 3));
    k.push_back(i % 4 == 0 ? "p" : "q");
  }
  const Dataset d = table({numeric_column("a", a), numeric_column("b", b), text_column("k", k)});
  Pipeline p(spec_of({numeric({{"StandardScaler", {}}}), categorical({{"OneHotEncoder", {}}})},
                     {{"StandardScaler", {}}, {"PCA", {{"n_components", "2"}}}}));
  p.fit(cpu(), d);
  EXPECT_EQ(p.n_outputs(), 2);
  EXPECT_EQ(p.output_names()[1], "pc2");
  const std::vector<float> z = p.transform(cpu(), d);
  // Principal components of standardised data: centred, uncorrelated, variance descending.
  double m0 = 0, m1 = 0, v0 = 0, v1 = 0, c01 = 0;
  for (int i = 0; i < 40; ++i) m0 += z[i * 2] / 40, m1 += z[i * 2 + 1] / 40;
  for (int i = 0; i < 40; ++i) {
    v0 += z[i * 2] * z[i * 2];
    v1 += z[i * 2 + 1] * z[i * 2 + 1];
    c01 += z[i * 2] * z[i * 2 + 1];
  }
  EXPECT_NEAR(m0, 0.0, 1e-5);
  EXPECT_NEAR(m1, 0.0, 1e-5);
  EXPECT_NEAR(c01 / std::sqrt(v0 * v1), 0.0, 1e-4);
  EXPECT_GE(v0, v1);
}

TEST(Pipeline, FittedOnTrainingRowsOnly) {
  std::vector<double> a;
  std::vector<std::string> k;
  for (int i = 0; i < 30; ++i) {
    a.push_back(i % 5 == 0 ? kMissing : i * 1.5);
    k.push_back(i % 3 == 0 ? "" : (i % 2 ? "u" : "v"));
  }
  const std::vector<std::int64_t> train = {0, 1, 2, 3, 5, 8, 13, 21, 22, 23, 24, 25, 26};
  const Dataset d = table({numeric_column("a", a), text_column("k", k)});
  // The other rows get wild values and a category of their own.
  std::vector<double> a2 = a;
  std::vector<std::string> k2 = k;
  for (int i = 0; i < 30; ++i)
    if (std::find(train.begin(), train.end(), i) == train.end()) {
      a2[i] = 1e6 + i;
      k2[i] = "only-in-test";
    }
  const Dataset d2 = table({numeric_column("a", a2), text_column("k", k2)});
  const PipelineSpec spec = PipelineSpec::defaults("ridge");
  Pipeline p1(spec), p2(spec);
  p1.fit(cpu(), d, train);
  p2.fit(cpu(), d2, train);
  EXPECT_EQ(p1.summary().dump(), p2.summary().dump());
  EXPECT_EQ(p1.transform(cpu(), d, train), p2.transform(cpu(), d2, train));
  // And the rows do matter: fitting on every row gives other statistics.
  Pipeline p3(spec);
  p3.fit(cpu(), d2);
  EXPECT_NE(p1.summary().dump(), p3.summary().dump());
}

TEST(Pipeline, ErrorsNameColumnRowAndValue) {
  const Dataset train = table({numeric_column("n", {1, 2, 3}), text_column("k", {"a", "b", "a"})});
  Pipeline p(
      spec_of({numeric({}), categorical({{"OneHotEncoder", {{"handle_unknown", "error"}}}})}));
  p.fit(cpu(), train);
  // A missing column.
  try {
    p.transform(cpu(), table({numeric_column("n", {1})}));
    FAIL() << "missing column accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'k'"), std::string::npos) << e.what();
  }
  // An unseen category under error: column, row and value named.
  const Dataset bad = table({numeric_column("n", {1, 2, 3}), text_column("k", {"a", "c", "b"})});
  try {
    p.transform(cpu(), bad);
    FAIL() << "unseen category accepted";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'k'"), std::string::npos) << m;
    EXPECT_NE(m.find("row 2"), std::string::npos) << m;
    EXPECT_NE(m.find("'c'"), std::string::npos) << m;
  }
  // Text in a numeric column, with an errors vector: the row is NaN, the rest goes on.
  const Dataset mixed =
      table({text_column("n", {"1.5", "oops", "3"}), text_column("k", {"a", "b", "c"})});
  std::vector<RowError> errors;
  const std::vector<float> x = p.transform(cpu(), mixed, {}, &errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].row, 1);
  EXPECT_EQ(errors[0].column, "n");
  EXPECT_NE(errors[0].reason.find("'oops'"), std::string::npos);
  EXPECT_EQ(errors[1].row, 2);
  EXPECT_EQ(errors[1].column, "k");
  EXPECT_FLOAT_EQ(x[0], 1.5f);
  EXPECT_FLOAT_EQ(x[1], 1.0f);
  EXPECT_TRUE(std::isnan(x[3]) && std::isnan(x[4]));
  EXPECT_TRUE(std::isnan(x[6]));
}

TEST(Pipeline, FitRefusesWhatCannotWork) {
  const Dataset d = table({numeric_column("n", {1, 2}), text_column("k", {"a", "b"}),
                           numeric_column("empty", {kMissing, kMissing})});
  auto fails = [&](PipelineSpec spec, const std::string& needle) {
    Pipeline p(std::move(spec));
    try {
      p.fit(cpu(), d);
      ADD_FAILURE() << "accepted; expected an error with " << needle;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  fails(spec_of({{"x", {{"nope"}, {}}, {}}}), "'nope'");
  fails(spec_of({{"x", {{"k"}, {}}, {{"StandardScaler", {}}}}}), "categorical");
  fails(spec_of({{"x", {{"empty"}, {}}, {{"SimpleImputer", {{"strategy", "median"}}}}}}),
        "'empty'");
  fails(
      spec_of(
          {{"x", {{"k"}, {}}, {{"SimpleImputer", {{"strategy", "mean"}}}, {"OneHotEncoder", {}}}}}),
      "most_frequent");
  fails(spec_of({{"x", {{"n"}, {}}, {}}}, {{"PCA", {{"n_components", "5"}}}}), "n_components");
  fails(spec_of({numeric({{"StandardScaler", {{"bogus", "1"}}}})}), "'bogus'");
}

TEST(Pipeline, SaveLoadGivesBitIdenticalTransforms) {
  std::vector<double> a, b;
  std::vector<std::string> k;
  for (int i = 0; i < 50; ++i) {
    a.push_back(i % 7 == 0 ? kMissing : std::exp(0.05 * i));
    b.push_back(std::sin(i * 0.9));
    k.push_back(i % 6 == 0 ? "" : std::string(1, static_cast<char>('a' + i % 5)));
  }
  const Dataset d = table({numeric_column("a", a), numeric_column("b", b), text_column("k", k)});
  PipelineSpec spec = PipelineSpec::defaults("logistic");
  spec.branches.back().steps[1].params["min_frequency"] = "9";
  spec.after = {{"PCA", {{"n_components", "3"}, {"whiten", "true"}}}};
  Pipeline p(spec);
  p.fit(cpu(), d);
  const Pipeline q = testing::reloaded(p);
  EXPECT_EQ(q.output_names(), p.output_names());
  EXPECT_EQ(q.input_columns(), p.input_columns());
  const std::vector<float> x = p.transform(cpu(), d), y = q.transform(cpu(), d);
  ASSERT_EQ(x.size(), y.size());
  EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(float)));
  EXPECT_EQ(q.spec().to_json(), p.spec().to_json());
}

TEST(Pipeline, RowSubsetsSelectByIndex) {
  const Dataset d =
      table({numeric_column("a", {1, 2, 3, 4}), text_column("k", {"x", "y", "x", "y"})});
  Pipeline p(PipelineSpec::defaults("forest"));
  p.fit(cpu(), d);
  const std::vector<std::int64_t> rows = {3, 0};
  const std::vector<float> all = p.transform(cpu(), d), some = p.transform(cpu(), d, rows);
  const auto w = static_cast<std::size_t>(p.n_outputs());
  ASSERT_EQ(some.size(), 2 * w);
  EXPECT_TRUE(std::equal(some.begin(), some.begin() + w, all.begin() + 3 * w));
  EXPECT_TRUE(std::equal(some.begin() + w, some.end(), all.begin()));
}

}  // namespace
}  // namespace tabula

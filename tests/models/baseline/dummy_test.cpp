// Baselines: sklearn's constants and priors, parameters, and the artifact round trip.
#include "tabula/models/baseline/dummy.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/models/estimator.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

struct Data {
  std::vector<float> x;
  std::vector<double> y;
  FitData fit(int n_classes = 0) const {
    FitData d;
    d.x = MatrixView<const float>::row_major(x.data(), static_cast<std::int64_t>(y.size()), 1);
    d.y = y;
    d.n_classes = n_classes;
    d.seed = 7;
    return d;
  }
};

Data make(std::vector<double> y) { return {std::vector<float>(y.size(), 0.0f), std::move(y)}; }

double fit_regressor(const ParamMap& params, const std::vector<double>& y) {
  DummyRegressor model(DummyRegressorParams::parse(params));
  model.fit(cpu(), make(y).fit());
  return model.constant();
}

TEST(DummyRegressor, MeanMedianQuantileLikeNumPy) {
  const std::vector<double> y{1, 2, 4, 10};
  EXPECT_DOUBLE_EQ(fit_regressor({}, y), 4.25);
  EXPECT_DOUBLE_EQ(fit_regressor({{"strategy", "median"}}, y), 3.0);
  EXPECT_DOUBLE_EQ(fit_regressor({{"strategy", "median"}}, {5, 1, 3}), 3.0);
  // np.quantile([1, 2, 4, 10], 0.9) = 4 + (10 - 4) * 0.7 = 8.2
  EXPECT_NEAR(fit_regressor({{"strategy", "quantile"}, {"quantile", "0.9"}}, y), 8.2, 1e-12);
  EXPECT_DOUBLE_EQ(fit_regressor({{"strategy", "quantile"}, {"quantile", "0"}}, y), 1.0);
  EXPECT_DOUBLE_EQ(fit_regressor({{"strategy", "quantile"}, {"quantile", "1"}}, y), 10.0);
}

TEST(DummyRegressor, WeightedMeanAndParamErrors) {
  Data d = make({1, 3});
  const std::vector<double> w{3, 1};
  FitData f = d.fit();
  f.sample_weight = w;
  DummyRegressor model;
  model.fit(cpu(), f);
  EXPECT_DOUBLE_EQ(model.constant(), 1.5);
  EXPECT_EQ(model.predict(cpu(), f.x), (std::vector<double>{1.5, 1.5}));
  EXPECT_THROW(DummyRegressorParams::parse({{"strategy", "quantile"}}), InputError);
  EXPECT_THROW(DummyRegressorParams::parse({{"strategy", "prior"}}), InputError);
  EXPECT_THROW(DummyRegressorParams::parse({{"quantile", "1.5"}}), InputError);
  EXPECT_THROW(DummyRegressorParams::parse({{"alpha", "1"}}), InputError);
}

TEST(DummyClassifier, PriorAndMostFrequent) {
  const Data d = make({0, 2, 2, 1, 2, 0});
  const FitData f = d.fit(3);
  DummyClassifier prior;
  prior.fit(cpu(), f);
  EXPECT_EQ(prior.class_prior(), (std::vector<double>{2.0 / 6, 1.0 / 6, 3.0 / 6}));
  EXPECT_EQ(prior.predict(cpu(), f.x), std::vector<double>(6, 2.0));
  const std::vector<double> proba = prior.predict_proba(cpu(), f.x);
  EXPECT_DOUBLE_EQ(proba[3 * 3 + 0], 2.0 / 6);
  EXPECT_DOUBLE_EQ(proba[3 * 3 + 2], 0.5);
  DummyClassifier most(DummyClassifierParams::parse({{"strategy", "most_frequent"}}));
  most.fit(cpu(), f);
  const std::vector<double> one_hot = most.predict_proba(cpu(), f.x);
  EXPECT_EQ(one_hot[0], 0.0);
  EXPECT_EQ(one_hot[2], 1.0);
  // A tie goes to the smallest class index, like numpy.argmax.
  const Data tie = make({1, 0, 1, 0});
  DummyClassifier tied;
  tied.fit(cpu(), tie.fit(2));
  EXPECT_EQ(tied.predict(cpu(), tie.fit(2).x)[0], 0.0);
}

TEST(DummyClassifier, StratifiedFollowsPriorsAndRepeats) {
  std::vector<double> y(1000, 0.0);
  for (std::size_t i = 0; i < 300; ++i) y[i] = 1.0;
  const Data d = make(y);
  const FitData f = d.fit(2);
  DummyClassifier model(DummyClassifierParams::parse({{"strategy", "stratified"}}));
  model.fit(cpu(), f);
  const std::vector<double> a = model.predict(cpu(), f.x);
  EXPECT_EQ(a, model.predict(cpu(), f.x));
  double ones = 0;
  for (double v : a) ones += v;
  EXPECT_NEAR(ones / 1000.0, 0.3, 0.05);
  const std::vector<double> proba = model.predict_proba(cpu(), f.x);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(proba[2 * i + 1], a[i]);
}

TEST(DummyClassifier, RoundTripsThroughArtifact) {
  const auto path = testing::unique_temp_path("dummy_roundtrip.tbl").string();
  const Data d = make({0, 1, 1, 1});
  DummyClassifier model;
  model.fit(cpu(), d.fit(2));
  ArtifactWriter w;
  model.save(w);
  w.set("model", {{"kind", "dummy"}});
  w.write(path);
  ArtifactReader r(path);
  const auto loaded = make_estimator("dummy", {}, Task::kClassification);
  loaded->load(r);
  EXPECT_EQ(loaded->predict_proba(cpu(), d.fit(2).x), model.predict_proba(cpu(), d.fit(2).x));
  std::filesystem::remove(path);
}

TEST(Registry, KnowsDummyAndNamesUnknownModels) {
  EXPECT_EQ(make_estimator("dummy", {}, Task::kClassification)->task(), Task::kClassification);
  EXPECT_EQ(make_estimator("dummy", {}, Task::kRegression)->task(), Task::kRegression);
  EXPECT_THROW(make_estimator("dummy", {}, Task::kTransform), InputError);
  try {
    make_estimator("nope", {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dummy"), std::string::npos);
  }
  const auto names = estimator_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "dummy"), names.end());
  // The default optional methods refuse clearly.
  const auto regressor = make_estimator("dummy", {}, Task::kRegression);
  EXPECT_THROW(regressor->predict_proba(cpu(), {}), Error);
  EXPECT_THROW(regressor->transform(cpu(), {}), Error);
}

}  // namespace
}  // namespace tabula

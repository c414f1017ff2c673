// The resident Predictor against the old path (each Estimator method called with the backend):
// every model kind and task of the registry (the security tests' model zoo), both pipelines,
// bit for bit; the forest's arrays uploaded once per Predictor, not per call; concurrent calls.
#include "tabula/scoring/predictor.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "security/model_zoo.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

// The bits of each value: bit-identical results, NaN (rows the pipeline refused) included.
std::vector<std::uint64_t> bits(const std::vector<double>& values) {
  std::vector<std::uint64_t> out;
  for (double v : values) out.push_back(std::bit_cast<std::uint64_t>(v));
  return out;
}

// The values a call returns, or the message it throws: both paths must agree on either.
struct Outcome {
  std::vector<double> values;
  std::vector<double> proba;
  std::optional<std::string> error;
  bool operator==(const Outcome& o) const {
    return bits(values) == bits(o.values) && bits(proba) == bits(o.proba) && error == o.error;
  }
};

Outcome outcome_of(const std::function<std::vector<double>(std::vector<double>&)>& call) {
  Outcome out;
  try {
    out.values = call(out.proba);
  } catch (const Error& e) {
    out.error = e.what();
  }
  return out;
}

// The zoo's models, written once for the whole suite.
class PredictorZoo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::ScopedTempDir("zoo");
    zoo_ = new std::vector<testing::ZooModel>(testing::write_model_zoo(dir_->path()));
  }
  static void TearDownTestSuite() {
    delete zoo_;
    delete dir_;
  }
  static testing::ScopedTempDir* dir_;
  static std::vector<testing::ZooModel>* zoo_;
};
testing::ScopedTempDir* PredictorZoo::dir_ = nullptr;
std::vector<testing::ZooModel>* PredictorZoo::zoo_ = nullptr;

// The training table and the probe rows (missing, extreme and unseen values), as features.
std::vector<std::vector<float>> feature_sets(const Predictor& predictor, const LoadedModel& model) {
  std::vector<std::vector<float>> out;
  out.push_back(predictor.features(testing::zoo_table()));
  std::vector<RowError> errors;  // unseen categories: their rows are NaN, as the server sends
  out.push_back(predictor.features(testing::zoo_probe_rows(model.schema), {}, &errors));
  out.push_back({});  // no rows
  return out;
}

TEST_F(PredictorZoo, EveryModelScoresBitIdenticalToTheEstimatorCalls) {
  ASSERT_GE(zoo_->size(), 10u);  // every kind x task x pipeline
  for (const testing::ZooModel& z : *zoo_) {
    SCOPED_TRACE(z.name);
    const LoadedModel model = load_model(z.path);
    const Predictor predictor(cpu(), model);
    const Estimator& est = *model.estimator;
    const std::int64_t d = predictor.n_features();
    std::size_t checked = 0;
    for (const std::vector<float>& x : feature_sets(predictor, model)) {
      const auto view =
          MatrixView<const float>::row_major(x.data(), static_cast<std::int64_t>(x.size()) / d, d);
      using P = std::vector<double>&;
      EXPECT_EQ(outcome_of([&](P) { return predictor.predict(view); }),
                outcome_of([&](P) { return est.predict(cpu(), view); }));
      EXPECT_EQ(outcome_of([&](P) { return predictor.predict_proba(view); }),
                outcome_of([&](P) { return est.predict_proba(cpu(), view); }));
      EXPECT_EQ(outcome_of([&](P p) { return predictor.predict_with_proba(view, p); }),
                outcome_of([&](P p) { return est.predict_with_proba(cpu(), view, p); }));
      EXPECT_EQ(outcome_of([&](P) { return predictor.transform(view); }),
                outcome_of([&](P) { return est.transform(cpu(), view); }));
      // The comparison is not vacuous: the model's own task produces values.
      const Outcome own = outcome_of([&](P) {
        return est.task() == Task::kTransform ? predictor.transform(view) : predictor.predict(view);
      });
      EXPECT_FALSE(own.error.has_value()) << *own.error;
      checked += own.values.size();
    }
    EXPECT_GT(checked, 0u);
  }
}

TEST_F(PredictorZoo, ForestUploadsOncePerPredictorNotPerCall) {
  int forests = 0;
  for (const testing::ZooModel& z : *zoo_) {
    const LoadedModel model = load_model(z.path);
    if (dynamic_cast<const RandomForest*>(model.estimator.get()) == nullptr) continue;
    SCOPED_TRACE(z.name);
    ++forests;
    const std::int64_t before = RandomForest::array_uploads();
    const Predictor predictor(cpu(), model);
    EXPECT_EQ(RandomForest::array_uploads(), before + 1);
    const std::vector<float> x = predictor.features(testing::zoo_table());
    const auto view = MatrixView<const float>::row_major(
        x.data(), static_cast<std::int64_t>(x.size()) / predictor.n_features(),
        predictor.n_features());
    std::vector<double> proba;
    for (int call = 0; call < 4; ++call) {
      (void)predictor.predict(view);
      if (predictor.task() == Task::kClassification) {
        (void)predictor.predict_proba(view);
        (void)predictor.predict_with_proba(view, proba);
      }
    }
    EXPECT_EQ(RandomForest::array_uploads(), before + 1);
    // The hook sees what the old path does: one upload per call.
    (void)model.estimator->predict(cpu(), view);
    (void)model.estimator->predict(cpu(), view);
    EXPECT_EQ(RandomForest::array_uploads(), before + 3);
  }
  EXPECT_GE(forests, 2);  // a classifier and a regressor at least
}

TEST_F(PredictorZoo, ConcurrentCallsOnOnePredictorAgree) {
  for (const testing::ZooModel& z : *zoo_) {
    const LoadedModel model = load_model(z.path);
    if (model.estimator->task() == Task::kTransform) continue;
    SCOPED_TRACE(z.name);
    const Predictor predictor(cpu(), model);
    const std::vector<float> x = predictor.features(testing::zoo_table());
    const auto view = MatrixView<const float>::row_major(
        x.data(), static_cast<std::int64_t>(x.size()) / predictor.n_features(),
        predictor.n_features());
    const std::vector<std::uint64_t> expected = bits(model.estimator->predict(cpu(), view));
    constexpr int kThreads = 4;
    std::vector<std::vector<std::uint64_t>> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int call = 0; call < 8; ++call)
          got[static_cast<std::size_t>(t)] = bits(predictor.predict(view));
      });
    for (std::thread& t : threads) t.join();
    for (const std::vector<std::uint64_t>& g : got) EXPECT_EQ(g, expected);
  }
}

TEST(Predictor, WithoutAPipelineRefusesRawRowsAndAnUnfittedForestRefusesToUpload) {
  const auto est = make_estimator("dummy", {}, Task::kRegression);
  FitData fit;
  const std::vector<float> x = {1, 2, 3};
  const std::vector<double> y = {1, 2, 6};
  fit.x = MatrixView<const float>::row_major(x.data(), 3, 1);
  fit.y = y;
  est->fit(cpu(), fit);
  const Predictor predictor(cpu(), *est);
  EXPECT_EQ(predictor.predict(fit.x), est->predict(cpu(), fit.x));
  EXPECT_THROW((void)predictor.features(testing::zoo_table()), Error);
  EXPECT_THROW((void)predictor.n_features(), Error);

  const auto forest = make_estimator("forest", {}, Task::kClassification);
  EXPECT_THROW(Predictor(cpu(), *forest), Error);
}

}  // namespace
}  // namespace tabula

// The drift profile of a fit over ranks (reference_profile_over_ranks): every rank sends its rows
// of the one-process profile sample, so the profile equals the one process's, beyond
// kMaxProfileRows rows (where the sample is every n/kMaxProfileRows-th row) and below.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "pipeline/pipeline_test_data.hpp"
#include "support/thread_communicator.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/models/registry.hpp"
#include "tabula/monitoring/profile.hpp"

namespace tabula::monitoring {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

struct Raw {
  std::vector<double> x, y;
  std::vector<std::string> city;
  Dataset rows_between(std::size_t begin, std::size_t end) const {
    return testing::table(
        {testing::numeric_column("x", {x.begin() + begin, x.begin() + end}),
         testing::text_column("city", {city.begin() + begin, city.begin() + end})});
  }
};

Raw raw_table(std::size_t n) {
  Raw raw;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    raw.x.push_back(i % 17 == 0 ? testing::kMissing : std::round(normal(rng) * 100.0) / 10.0);
    // "zurich" only in the last rows; "" missing now and then.
    raw.city.push_back(i % 23 == 0      ? ""
                       : i > n - n / 10 ? "zurich"
                                        : (i % 3 == 0 ? "bern" : "basel"));
    raw.y.push_back(std::isnan(raw.x.back()) ? 0.0 : 2.0 * raw.x.back() + (i % 3));
  }
  return raw;
}

void expect_ranks_profile_as_one_process(std::size_t n) {
  const Raw raw = raw_table(n);
  const Dataset all = raw.rows_between(0, n);
  Pipeline pipeline(PipelineSpec::defaults("ridge"));
  pipeline.fit(cpu(), all);
  const std::vector<float> x = pipeline.transform(cpu(), all);
  const auto model = make_estimator("ridge", {}, Task::kRegression);
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), static_cast<std::int64_t>(n),
                                             pipeline.n_outputs());
  fit.y = raw.y;
  model->fit(cpu(), fit);
  ModelSchema schema;
  std::vector<std::int64_t> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = static_cast<std::int64_t>(i);
  const DriftProfile alone = reference_profile(cpu(), pipeline, *model, schema, all, rows, {});

  const std::vector<std::size_t> cuts{0, 1000, n / 2 + 7, n};
  std::vector<DriftProfile> got(3);
  testing::run_ranks(3, [&](Communicator& comm) {
    const auto r = static_cast<std::size_t>(comm.rank());
    const Dataset share = raw.rows_between(cuts[r], cuts[r + 1]);
    got[r] = reference_profile_over_ranks(comm, cpu(), pipeline, *model, schema, share);
  });
  for (std::size_t r = 0; r < got.size(); ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    EXPECT_EQ(got[r], alone);
  }
  EXPECT_EQ(alone.rows, std::min<std::int64_t>(static_cast<std::int64_t>(n), kMaxProfileRows));
}

TEST(ProfileOverRanks, IsTheOneProcessProfileOfTheSampledRows) {
  expect_ranks_profile_as_one_process(static_cast<std::size_t>(kMaxProfileRows) + 20011);
}

TEST(ProfileOverRanks, IsTheOneProcessProfileOfEveryRow) {
  expect_ranks_profile_as_one_process(5000);
}

}  // namespace
}  // namespace tabula::monitoring

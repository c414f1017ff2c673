// The data-parallel forest without MPI: ranks as threads of one process sharing a small
// communicator, each fitting its share of the rows; every rank's forest must be the forest one
// process fits on all the rows, bit for bit (docs/distributed.md, "What is exact").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/same_forest.hpp"
#include "support/thread_communicator.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/distributed/communicator.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

using testing::RankGroup;
using testing::ThreadCommunicator;

struct Table {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> x;
  std::vector<double> y;
};

// Rounded values (ties), some missing; a target from the first two features.
Table synthetic(std::int64_t n, std::int64_t d, bool classification, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Table t{n, d, std::vector<float>(static_cast<std::size_t>(n * d)),
          std::vector<double>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n; ++i) {
    float* row = t.x.data() + i * d;
    for (std::int64_t j = 0; j < d; ++j) row[j] = std::round(u(rng) * 500) / 500;
    const double score = row[0] + row[1] + 0.3 * u(rng);
    t.y[static_cast<std::size_t>(i)] =
        classification ? std::min(2.0, std::floor(score * 1.5)) : score * score;
    for (std::int64_t j = 0; j < d; ++j)
      if (u(rng) < 0.05) row[j] = std::numeric_limits<float>::quiet_NaN();
  }
  return t;
}

RandomForest fit(const Table& t, Task task, const ParamMap& params, std::int64_t first,
                 std::int64_t rows, Communicator* comm) {
  RandomForest forest(task, ForestParams::parse(params, task));
  FitData data;
  data.x = MatrixView<const float>::row_major(t.x.data() + first * t.cols, rows, t.cols);
  data.y = std::span<const double>(t.y).subspan(static_cast<std::size_t>(first),
                                                static_cast<std::size_t>(rows));
  data.n_classes = task == Task::kClassification ? 3 : 0;
  data.seed = 11;
  data.comm = comm;
  forest.fit(cpu(), data);
  return forest;
}

// Fits t over ranks whose shares start at `cuts` (ascending, from 0, ending at t.rows) and
// checks every rank's forest against one process's.
void expect_ranks_fit_one_process_forest(const Table& t, Task task, const ParamMap& params,
                                         const std::vector<std::int64_t>& cuts) {
  const RandomForest alone = fit(t, task, params, 0, t.rows, nullptr);
  ASSERT_GT(alone.model().n_nodes(), 3 * alone.model().n_trees());
  const int ranks = static_cast<int>(cuts.size()) - 1;
  RankGroup group(ranks);
  std::vector<std::unique_ptr<RandomForest>> forests(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(group, r);
      const auto at = static_cast<std::size_t>(r);
      forests[at] = std::make_unique<RandomForest>(
          fit(t, task, params, cuts[at], cuts[at + 1] - cuts[at], &comm));
    });
  for (std::thread& thread : threads) thread.join();
  for (int r = 0; r < ranks; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r) + " of " + std::to_string(ranks));
    testing::expect_same_forest(*forests[static_cast<std::size_t>(r)], alone);
  }
}

TEST(ForestDistributed, RanksGrowTheOneProcessTreesBitForBit) {
  const Table cls = synthetic(3000, 5, true, 3);
  const Table reg = synthetic(3000, 5, false, 4);
  const ParamMap base{{"n_estimators", "4"}};
  const std::vector<ParamMap> variants{
      {},
      {{"max_features", "2"}, {"class_weight", "balanced_subsample"}},
      {{"max_samples", "0.6"}, {"min_samples_leaf", "3"}, {"max_depth", "7"}},
      {{"max_leaf_nodes", "30"}, {"bootstrap", "false"}},
  };
  for (const bool classification : {true, false}) {
    for (const ParamMap& variant : variants) {
      if (!classification && variant.contains("class_weight")) continue;
      ParamMap params = base;
      params.insert(variant.begin(), variant.end());
      for (const std::vector<std::int64_t>& cuts :
           {std::vector<std::int64_t>{0, 3000}, {0, 1, 3000}, {0, 1100, 1900, 3000}}) {
        SCOPED_TRACE("classification " + std::to_string(classification) + ", " +
                     std::to_string(variant.size()) + " params, " +
                     std::to_string(cuts.size() - 1) + " ranks");
        expect_ranks_fit_one_process_forest(
            classification ? cls : reg, classification ? Task::kClassification : Task::kRegression,
            params, cuts);
      }
    }
  }
}

TEST(ForestDistributed, BinningSampleSpansTheRanksAsOneProcessSamples) {
  // More rows than the binning sample (200,000): the sampled rows fall in every rank's share.
  const Table t = synthetic(230000, 3, false, 5);
  const ParamMap params{{"n_estimators", "2"}, {"max_depth", "6"}, {"max_bins", "64"}};
  expect_ranks_fit_one_process_forest(t, Task::kRegression, params, {0, 70001, 230000});
}

}  // namespace
}  // namespace tabula

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
#include "tabula/core/error.hpp"
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

// Sets an environment variable for one scope (tests of one process: no other thread reads it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ForestDistributed, ReduceScatteredLevelsGrowTheOneProcessTrees) {
  // 0: every batch reduce-scattered over (node, feature) units, overlapped with the next node
  // batch's building where no histogram is kept; 60,000 bytes: batches of 240,000 bytes and
  // more overlapped, of 60,000 and more reduce-scattered, the small ones all-reduced (all in
  // one tree). Classification sends int32, regression int64; all features drawn keeps
  // histograms for subtraction (reduce-scattered, not overlapped).
  const Table cls = synthetic(3000, 5, true, 6);
  const Table reg = synthetic(3000, 5, false, 7);
  for (const char* min_bytes : {"0", "60000"}) {
    const ScopedEnv env("TABULA_FOREST_SCATTER_MIN_BYTES", min_bytes);
    for (const ParamMap& params :
         {ParamMap{{"n_estimators", "3"}}, ParamMap{{"n_estimators", "3"}, {"max_features", "2"}},
          ParamMap{{"n_estimators", "2"}, {"max_leaf_nodes", "25"}, {"max_features", "3"}}}) {
      for (const bool classification : {true, false}) {
        SCOPED_TRACE(std::string("min bytes ") + min_bytes + ", classification " +
                     std::to_string(classification) + ", " + std::to_string(params.size()) +
                     " params");
        for (const std::vector<std::int64_t>& cuts : {std::vector<std::int64_t>{0, 3000},
                                                      {0, 1500, 3000},
                                                      {0, 1, 1900, 3000},
                                                      {0, 700, 1400, 2100, 3000}})
          expect_ranks_fit_one_process_forest(
              classification ? cls : reg,
              classification ? Task::kClassification : Task::kRegression, params, cuts);
      }
    }
  }
}

TEST(ForestDistributed, BlockedBootstrapOverRanksDrawsTheOneProcessSample) {
  // More rows than a bootstrap block (65,536): shares cut inside blocks draw only the blocks
  // they overlap and get one process's counts.
  const Table t = synthetic(70001, 4, true, 8);
  const ParamMap params{{"n_estimators", "2"},    {"max_depth", "5"},
                        {"max_features", "sqrt"}, {"max_samples", "0.8"},
                        {"max_bins", "32"},       {"class_weight", "balanced_subsample"}};
  expect_ranks_fit_one_process_forest(t, Task::kClassification, params, {0, 30000, 65537, 70001});
}

TEST(ForestDistributed, ReductionKnobsMustBeWholeNumbers) {
  const Table t = synthetic(200, 3, true, 9);
  for (const char* name : {"TABULA_FOREST_SCATTER_MIN_BYTES", "TABULA_FOREST_OVERLAP_BATCHES"}) {
    for (const char* bad : {"-1", "4k", "x"}) {
      const ScopedEnv env(name, bad);
      RankGroup group(1);
      ThreadCommunicator comm(group, 0);
      try {
        fit(t, Task::kClassification, {{"n_estimators", "1"}}, 0, t.rows, &comm);
        ADD_FAILURE() << name << "=" << bad << " was accepted";
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      }
    }
    // One process never reads them.
    const ScopedEnv env(name, "x");
    EXPECT_NO_THROW(fit(t, Task::kClassification, {{"n_estimators", "1"}}, 0, t.rows, nullptr));
  }
}

TEST(ForestDistributed, ReduceScatterSumsEachRanksPart) {
  // The base class's reduce_scatter_sum (all-reduce, keep the part) and int32 all-reduce over
  // thread ranks; counts that do not add up are refused on every rank.
  const int ranks = 3;
  RankGroup group(ranks);
  std::vector<std::vector<std::int64_t>> got64(ranks);
  std::vector<std::vector<std::int32_t>> got32(ranks), sum32(ranks);
  std::vector<int> refused(ranks, 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(group, r);
      Communicator& base = comm;
      const std::vector<std::int64_t> counts{2, 0, 3};
      std::vector<std::int64_t> send(5);
      for (std::size_t i = 0; i < send.size(); ++i)
        send[i] = (r + 1) * 10 + static_cast<std::int64_t>(i);
      got64[r].resize(static_cast<std::size_t>(counts[static_cast<std::size_t>(r)]));
      base.reduce_scatter_sum(std::span<const std::int64_t>(send), counts,
                              std::span<std::int64_t>(got64[r]));
      const std::vector<std::int32_t> send32(send.begin(), send.end());
      got32[r].resize(got64[r].size());
      base.reduce_scatter_sum(std::span<const std::int32_t>(send32), counts,
                              std::span<std::int32_t>(got32[r]));
      sum32[r] = send32;
      base.all_reduce_sum(std::span<std::int32_t>(sum32[r]));
      try {
        base.reduce_scatter_sum(std::span<const std::int64_t>(send),
                                std::vector<std::int64_t>{2, 2, 2},
                                std::span<std::int64_t>(got64[r].data(), 2));
      } catch (const DistributedError&) {
        refused[static_cast<std::size_t>(r)] = 1;
      }
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(got64[0], (std::vector<std::int64_t>{60, 63}));
  EXPECT_TRUE(got64[1].empty());
  EXPECT_EQ(got64[2], (std::vector<std::int64_t>{66, 69, 72}));
  EXPECT_EQ(got32[2], (std::vector<std::int32_t>{66, 69, 72}));
  EXPECT_EQ(sum32[1], (std::vector<std::int32_t>{60, 63, 66, 69, 72}));
  EXPECT_EQ(refused, (std::vector<int>{1, 1, 1}));
}

}  // namespace
}  // namespace tabula

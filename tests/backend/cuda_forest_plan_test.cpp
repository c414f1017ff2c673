// The CUDA forest's launch decisions and upload checks (plain host code in src/backend/cuda),
// tested in every build: which memory a histogram uses, how many classes the split kernel takes
// and how, and which edge offsets and trees are refused before a kernel could read past an array.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "backend/cuda/forest_launch_plan.hpp"
#include "backend/cuda/forest_tree_check.hpp"

namespace tabula::cuda {
namespace {

constexpr std::int64_t kHopperOptIn = 227 * 1024;  // H100/H200 per-block opt-in limit

TEST(DeviceForestPlan, HistogramsOptInAboveFortyEightKilobytesOrGoGlobal) {
  // Regression (3 channels) and up to 23 classes fit the default 48 KB at 256 bins.
  EXPECT_EQ(plan_histogram(256, 3, kHopperOptIn).placement, HistogramPlacement::kShared);
  EXPECT_EQ(plan_histogram(256, 3, kHopperOptIn).shared_bytes, 256 * 3 * 8);
  EXPECT_EQ(plan_histogram(256, 24, kHopperOptIn).placement, HistogramPlacement::kShared);
  // One channel more needs the opt-in, which a device without it cannot give.
  const HistogramPlan more = plan_histogram(256, 25, kHopperOptIn);
  EXPECT_EQ(more.placement, HistogramPlacement::kSharedOptIn);
  EXPECT_EQ(more.shared_bytes, 256 * 25 * 8);
  EXPECT_EQ(plan_histogram(256, 25, kDefaultSharedBytes).placement, HistogramPlacement::kGlobal);
  EXPECT_EQ(plan_histogram(256, 25, 0).placement, HistogramPlacement::kGlobal);
  // Beyond the opt-in limit: global atomics, and no dynamic shared memory asked for.
  const HistogramPlan huge = plan_histogram(256, 200, kHopperOptIn);
  EXPECT_EQ(huge.placement, HistogramPlacement::kGlobal);
  EXPECT_EQ(huge.shared_bytes, 0);
}

TEST(DeviceForestPlan, SplitsTakeAnyClassCountWithBoundedScratch) {
  // 63 classes (64 channels): per-thread arrays, all nodes in one launch.
  const SplitPlan local = plan_best_splits(5000, kSplitLocalChannels);
  EXPECT_FALSE(local.global_scratch);
  EXPECT_EQ(local.nodes_per_launch, 5000);
  // 64 classes and more: global scratch, chunked so it stays within the budget.
  for (const std::int64_t channels : {std::int64_t{65}, std::int64_t{1001}, std::int64_t{200000}}) {
    SCOPED_TRACE(channels);
    const SplitPlan plan = plan_best_splits(4096, channels);
    EXPECT_TRUE(plan.global_scratch);
    EXPECT_EQ(plan.scratch_per_node, channels * (1 + 2 * kSplitThreads));
    EXPECT_GE(plan.nodes_per_launch, 1);
    EXPECT_LE(plan.nodes_per_launch, 4096);
    if (plan.nodes_per_launch > 1)
      EXPECT_LE(plan.nodes_per_launch * plan.scratch_per_node * 8, kSplitScratchBudget);
  }
  EXPECT_EQ(plan_best_splits(3, 65).nodes_per_launch, 3);  // never more nodes than asked for
}

TEST(DeviceForestPlan, BinOffsetsAreCheckedPerFeature) {
  const std::vector<std::int32_t> ok = {0, 254, 254, 300};
  EXPECT_NO_THROW(check_bin_offsets(ok.data(), 3, 300));
  const auto message = [](const std::vector<std::int32_t>& offsets, std::int64_t n_edges) {
    try {
      check_bin_offsets(offsets.data(), static_cast<std::int64_t>(offsets.size()) - 1, n_edges);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // 255 edges would make code 256, which wraps to 0 (missing) in uint8.
  EXPECT_NE(message({0, 10, 265}, 265).find("feature 1 has 255 edges"), std::string::npos);
  EXPECT_NE(message({0, 10, 5}, 10).find("feature 1 has -5 edges"), std::string::npos);
  EXPECT_NE(message({1, 10}, 10).find("offsets run from 1"), std::string::npos);
  EXPECT_NE(message({0, 10}, 9).find("at most 9"), std::string::npos);
}

// Two trees: tree 0 = root split on feature 1 with two leaves; tree 1 = a chain of depth 3.
struct Trees {
  std::vector<std::int64_t> offsets = {0, 3, 10};
  std::vector<std::int32_t> feature = {1, -1, -1, 0, -1, 2, -1, 0, -1, -1};
  std::vector<float> threshold = {0.5f, 0, 0, 1, 0, 2, 0, 3, 0, 0};
  std::vector<std::int32_t> left = {1, 0, 0, 1, 0, 3, 0, 5, 0, 0};
  std::vector<std::int32_t> right = {2, 0, 0, 2, 0, 4, 0, 6, 0, 0};
  HostForest view() const {
    return {offsets.data(), 2, feature.data(), threshold.data(), left.data(), right.data()};
  }
};

std::string refusal(const Trees& t, std::int64_t d) {
  try {
    check_forest_trees(t.view(), d);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DeviceForestTrees, ValidTreesGiveTheirDepthAsTheWalkBound) {
  const Trees t;
  EXPECT_EQ(check_forest_trees(t.view(), 3), 3);
  // A view of tree 1 alone (absolute offsets, arrays from its first node) is checked the same.
  const HostForest one{t.offsets.data() + 1, 1,
                       t.feature.data() + 3, t.threshold.data() + 3,
                       t.left.data() + 3,    t.right.data() + 3};
  EXPECT_EQ(check_forest_trees(one, 3), 3);
}

TEST(DeviceForestTrees, MalformedTreesAreRefusedNamingTreeAndNode) {
  const Trees good;
  EXPECT_NE(refusal(good, 2).find("tree 1 node 2 splits on feature 2 of 2"), std::string::npos);
  Trees t = good;
  t.right[3 + 2] = 7;  // tree 1 node 2: a child past the tree's 7 nodes
  EXPECT_NE(refusal(t, 3).find("tree 1 node 2 has child 7"), std::string::npos);
  t = good;
  t.left[3 + 4] = 0;  // back to the root: a cycle the walk would never leave
  EXPECT_NE(refusal(t, 3).find("tree 1 node 4 has child 0"), std::string::npos);
  t = good;
  t.right[0] = 1;  // both children the same node
  EXPECT_NE(refusal(t, 3).find("tree 0 node 0 has child 1"), std::string::npos);
  t = good;
  t.threshold[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(refusal(t, 3).find("tree 0 node 0 has a NaN threshold"), std::string::npos);
  t = good;
  t.feature[3 + 2] = -1;  // node 2 a leaf: its subtree (nodes 3 to 6) no longer reached
  EXPECT_NE(refusal(t, 3).find("tree 1 has 4 unreachable nodes"), std::string::npos);
  t = good;
  t.offsets = {0, 0, 10};  // an empty tree
  EXPECT_NE(refusal(t, 3).find("tree 0 has 0 nodes"), std::string::npos);
}

TEST(DeviceForestTrees, CategorySetIndicesAreChecked) {
  const Trees t;
  // Tree 0's root and tree 1's node 2 are categorical splits on sets 0 and 1.
  std::vector<std::int32_t> sets = {0, -1, -1, -1, -1, 1, -1, -1, -1, -1};
  HostForest v = t.view();
  v.category_set = sets.data();
  v.category_sets = 2;
  EXPECT_EQ(check_forest_trees(v, 3), 3);
  const auto message = [&]() -> std::string {
    try {
      check_forest_trees(v, 3);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  sets[5] = 2;  // past the two sets given
  EXPECT_NE(message().find("tree 1 node 2 names category set 2 of 2"), std::string::npos);
  sets[5] = -2;
  EXPECT_NE(message().find("tree 1 node 2 names category set -2"), std::string::npos);
}

}  // namespace
}  // namespace tabula::cuda

// The search strategy over one evaluate callback: what each round proposes, what survives, and
// how an incomplete round (time budget) ends the search.
#include "selection/search_rounds.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace tabula::selection {
namespace {

TuneOptions halving_options(int factor) {
  TuneOptions o;
  o.search = SearchKind::kHalving;
  o.factor = factor;
  return o;
}

/// A trial whose score is -|trial - 4|: trial 4 is best, then 3 and 5, ...
TrialResult scored(int round, std::int64_t trial) {
  TrialResult t;
  t.round = round;
  t.trial = trial;
  t.scores = {{-static_cast<double>(trial > 4 ? trial - 4 : 4 - trial)}};
  return t;
}

TEST(SearchRounds, GridIsOneRoundOfEveryCandidateOnTheFullResource) {
  const RoundPlan plan = plan_rounds(TuneOptions{}, 7, 100);
  EXPECT_EQ(plan.rounds, 1);
  EXPECT_EQ(plan.planned, 7);
  std::vector<CandidateBatch> seen;
  const SearchOutcome out = run_rounds(plan, 7, [&](const CandidateBatch& b) {
    seen.push_back(b);
    std::vector<TrialResult> r;
    for (std::int64_t t : b.trials) r.push_back(scored(b.round, t));
    return r;
  });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].trials.size(), 7u);
  EXPECT_EQ(seen[0].row_fraction, 1.0);
  EXPECT_EQ(seen[0].resource, 0);
  ASSERT_EQ(out.leaderboard.size(), 7u);
  EXPECT_EQ(out.leaderboard.front().trial, 4);
  EXPECT_FALSE(out.stopped_by_budget);
}

TEST(SearchRounds, HalvingKeepsTheBestThirdOnAGrowingResource) {
  const RoundPlan plan = plan_rounds(halving_options(3), 9, 900);
  ASSERT_EQ(plan.rounds, 3);  // 9 -> 3 -> 1
  EXPECT_EQ(plan.planned, 9 + 3 + 1);
  std::vector<CandidateBatch> seen;
  const SearchOutcome out = run_rounds(plan, 9, [&](const CandidateBatch& b) {
    seen.push_back(b);
    std::vector<TrialResult> r;
    for (std::int64_t t : b.trials) r.push_back(scored(b.round, t));
    return r;
  });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].trials, (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_EQ(seen[2].trials, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(seen[0].resource, 100);  // 900 / 9 rows
  EXPECT_EQ(seen[2].resource, 900);
  EXPECT_LT(seen[0].row_fraction, seen[1].row_fraction);
  EXPECT_EQ(out.earlier_rounds.size(), 12u);
  ASSERT_EQ(out.leaderboard.size(), 1u);
  EXPECT_EQ(out.leaderboard[0].trial, 4);
}

TEST(SearchRounds, AnIncompleteRoundStopsTheSearch) {
  const RoundPlan plan = plan_rounds(halving_options(3), 9, 900);
  int calls = 0;
  const SearchOutcome out = run_rounds(plan, 9, [&](const CandidateBatch& b) {
    ++calls;
    return std::vector<TrialResult>{scored(b.round, b.trials[0])};  // the budget ran out
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(out.stopped_by_budget);
  ASSERT_EQ(out.leaderboard.size(), 1u);
}

TEST(SearchRounds, RanksByMeanThenTrialWithNaNLast) {
  TrialResult a = scored(0, 1), b = scored(0, 7), nan = scored(0, 4);
  nan.scores = {{std::numeric_limits<double>::quiet_NaN()}};
  b.scores = a.scores;
  EXPECT_TRUE(ranks_before(a, b));
  EXPECT_FALSE(ranks_before(b, a));
  EXPECT_TRUE(ranks_before(a, nan));
}

}  // namespace
}  // namespace tabula::selection

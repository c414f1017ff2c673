#include "selection/search_rounds.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace tabula::selection {

CandidateBatch RoundPlan::batch(int round, std::vector<std::int64_t> alive) const {
  const double fraction = halving ? std::pow(factor, -(rounds - 1 - round)) : 1.0;
  CandidateBatch b;
  b.round = round;
  b.trials = std::move(alive);
  const std::int64_t trees =
      std::max<std::int64_t>(1, std::llround(static_cast<double>(max_trees) * fraction));
  b.trees = tree_resource ? trees : 0;
  b.row_fraction = tree_resource ? 1.0 : fraction;
  b.resource = !halving ? 0 : tree_resource ? trees : std::llround(std::ceil(fraction * min_train));
  return b;
}

RoundPlan plan_rounds(const TuneOptions& options, std::size_t candidates, std::int64_t min_train) {
  RoundPlan plan;
  plan.factor = options.factor;
  plan.halving = options.search == SearchKind::kHalving;
  plan.tree_resource = plan.halving && options.halving_resource == "n_estimators";
  if (auto it = options.fixed.find("n_estimators"); it != options.fixed.end())
    plan.max_trees = std::stoll(it->second);
  plan.min_train = min_train;
  if (plan.halving) {
    while (std::pow(plan.factor, plan.rounds) <= static_cast<double>(candidates)) ++plan.rounds;
    // The smallest round keeps a usable number of rows (or trees).
    const double smallest =
        options.halving_resource == "rows" ? 20.0 / min_train : 1.0 / plan.max_trees;
    while (plan.rounds > 1 && std::pow(plan.factor, -(plan.rounds - 1)) < smallest) --plan.rounds;
  }
  double alive = static_cast<double>(candidates);
  for (int r = 0; r < plan.rounds; ++r) {
    plan.planned += static_cast<std::int64_t>(alive);
    alive = std::ceil(alive / plan.factor);
  }
  return plan;
}

bool ranks_before(const TrialResult& a, const TrialResult& b) {
  const double ma = a.mean(0), mb = b.mean(0);
  const bool fa = std::isfinite(ma), fb = std::isfinite(mb);
  if (fa != fb) return fa;
  if (fa && ma != mb) return ma > mb;
  return a.trial < b.trial;
}

SearchOutcome run_rounds(const RoundPlan& plan, std::size_t candidates,
                         const EvaluateCandidates& evaluate) {
  SearchOutcome out;
  std::vector<std::int64_t> alive(candidates);
  std::iota(alive.begin(), alive.end(), 0);
  std::vector<TrialResult> round_results;
  for (int round = 0; round < plan.rounds && !out.stopped_by_budget; ++round) {
    const std::size_t proposed = alive.size();
    round_results = evaluate(plan.batch(round, alive));
    if (round_results.size() < proposed) out.stopped_by_budget = true;
    std::sort(round_results.begin(), round_results.end(), ranks_before);
    if (round + 1 < plan.rounds && !out.stopped_by_budget) {
      for (const TrialResult& t : round_results) out.earlier_rounds.push_back(t);
      const auto keep = static_cast<std::size_t>(
          std::ceil(static_cast<double>(round_results.size()) / plan.factor));
      alive.clear();
      for (std::size_t k = 0; k < keep; ++k) alive.push_back(round_results[k].trial);
      std::sort(alive.begin(), alive.end());
    }
  }
  out.leaderboard = round_results;
  if (out.leaderboard.empty() && !out.earlier_rounds.empty()) {
    out.leaderboard = std::move(out.earlier_rounds);
    out.earlier_rounds.clear();
  }
  return out;
}

}  // namespace tabula::selection

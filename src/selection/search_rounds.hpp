// How a search walks its candidates: grid and random search run every candidate once; successive
// halving runs rounds on a growing resource and keeps the best 1/factor each time. Either way
// the strategy only proposes batches of candidates to one `EvaluateCandidates` callback (as
// scikit-learn's BaseSearchCV.fit): folds, shared work, scoring and the journal live there.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tabula/selection/tuning.hpp"

namespace tabula::selection {

/// Candidates to run over every fold, with the resource of their round.
struct CandidateBatch {
  int round = 0;
  std::vector<std::int64_t> trials;  // candidate indices, ascending
  double row_fraction = 1.0;         // of each fold's training rows
  std::int64_t trees = 0;            // n_estimators for every trial; 0: the candidate's own
  std::int64_t resource = 0;         // rows per fold or trees (halving); 0 otherwise
};

/// Runs a batch; returns one result per trial that finished (fewer when the time budget ran
/// out), in any order.
using EvaluateCandidates = std::function<std::vector<TrialResult>(const CandidateBatch&)>;

/// The rounds of a search over `candidates` candidates.
struct RoundPlan {
  int rounds = 1;
  int factor = 3;
  bool halving = false;
  bool tree_resource = false;  // halving on n_estimators instead of rows
  std::int64_t max_trees = 100;
  std::int64_t min_train = 0;  // the smallest fold's training rows
  std::int64_t planned = 0;    // trials over every round

  /// Round `round`'s batch for the surviving candidates `alive`.
  CandidateBatch batch(int round, std::vector<std::int64_t> alive) const;
};

/// One round for grid and random search; for successive halving, the number of rounds that
/// leaves one candidate, reduced so that the first round keeps at least 20 rows (or one tree).
RoundPlan plan_rounds(const TuneOptions& options, std::size_t candidates, std::int64_t min_train);

/// Ranking order: higher mean of the deciding metric first (NaN last), then trial index.
bool ranks_before(const TrialResult& a, const TrialResult& b);

struct SearchOutcome {
  std::vector<TrialResult> leaderboard;     // the last round run, best first
  std::vector<TrialResult> earlier_rounds;  // halving: every earlier round, each best first
  bool stopped_by_budget = false;
};

/// Proposes each round's candidates to `evaluate`, ranks what comes back and keeps the best
/// 1/factor for the next round; stops early when a round comes back incomplete (budget).
SearchOutcome run_rounds(const RoundPlan& plan, std::size_t candidates,
                         const EvaluateCandidates& evaluate);

}  // namespace tabula::selection

// The one place trials are run (scikit-learn's evaluate_candidates): a batch of candidates from
// the search strategy goes over every fold. Trials the journal holds are read back; the others
// take the fastest path that reproduces a plain per-fold fit (shared statistics for least
// squares, one shared binning for forests, else a fit per fold), run concurrently with --jobs,
// are journalled as they finish and drawn on the progress bar. Nothing new starts once the time
// budget is spent.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "selection/cv_least_squares.hpp"
#include "selection/journal.hpp"
#include "selection/progress.hpp"
#include "selection/search_rounds.hpp"
#include "selection/shared_work.hpp"

namespace tabula::selection {

/// What every trial of a search shares; everything referenced outlives the runner.
struct SearchContext {
  Backend& backend;
  const TuneOptions& options;
  Task task;
  const std::vector<ParamMap>& candidates;     // by trial index
  const std::vector<PipelineSpec>& pipelines;  // by trial index
  std::vector<std::string> searched;           // the space's parameter names
  const CvData& cv;
  SharedWork& shared;
  const LeastSquaresPlan& least_squares;
  Journal& journal;
  std::chrono::steady_clock::time_point start;  // of the search (the budget's origin)
};

class TrialRunner {
 public:
  /// `planned`: trials over every round (the progress bar's total).
  TrialRunner(SearchContext context, std::int64_t planned);

  /// Runs `batch` (EvaluateCandidates): the finished trials, in candidate order.
  std::vector<TrialResult> evaluate(const CandidateBatch& batch);

  std::int64_t resumed() const { return resumed_; }
  std::int64_t done() const { return done_.load(); }

 private:
  bool over_budget() const;
  /// Records a finished trial: journal, best so far, progress.
  TrialResult finish(const CandidateBatch& batch, std::int64_t trial, FoldScores scores,
                     const char* path);
  /// Every pending trial at once on the shared statistics.
  std::vector<TrialResult> run_least_squares(const CandidateBatch& batch,
                                             const std::vector<std::int64_t>& pending);
  /// One trial on shared bins or plain per-fold fits; nullopt when the budget is spent.
  std::optional<TrialResult> run_one(const CandidateBatch& batch, std::int64_t trial);

  SearchContext ctx_;
  Progress progress_;
  std::atomic<std::int64_t> done_{0};
  std::int64_t resumed_ = 0;
  double best_so_far_;
  std::mutex best_mutex_;
};

}  // namespace tabula::selection

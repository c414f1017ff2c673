#include "selection/trial_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "selection/candidates.hpp"
#include "selection/spread_trials.hpp"
#include "selection/stopwatch.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::selection {

TrialRunner::TrialRunner(SearchContext context, std::int64_t planned)
    : ctx_(std::move(context)),
      progress_(ctx_.options.progress && ::isatty(2), planned),
      best_so_far_(std::numeric_limits<double>::quiet_NaN()) {}

bool TrialRunner::over_budget() const {
  return ctx_.options.time_budget > 0 && seconds_since(ctx_.start) >= ctx_.options.time_budget;
}

TrialResult TrialRunner::finish(const CandidateBatch& batch, std::int64_t trial, FoldScores scores,
                                const char* path) {
  TrialResult t;
  t.trial = trial;
  t.round = batch.round;
  t.resource = batch.resource;
  for (const std::string& name : ctx_.searched)
    t.params[name] = ctx_.candidates[static_cast<std::size_t>(trial)].at(name);
  t.scores = std::move(scores.scores);
  t.fit_seconds = scores.fit_seconds;
  t.score_seconds = scores.score_seconds;
  t.path = path;
  ctx_.journal.append(t);
  double best;
  {
    std::lock_guard lock(best_mutex_);
    const double m = t.mean(0);
    if (std::isfinite(m) && !(m <= best_so_far_)) best_so_far_ = m;
    best = best_so_far_;
  }
  progress_.update(++done_, best);
  return t;
}

std::vector<TrialResult> TrialRunner::run_least_squares(const CandidateBatch& batch,
                                                        const std::vector<std::int64_t>& pending) {
  if (over_budget()) return {};
  std::vector<LeastSquaresTrial> trials;
  for (std::int64_t trial : pending)
    trials.push_back(ctx_.least_squares.trial(
        ctx_.options.model, model_params(ctx_.candidates[static_cast<std::size_t>(trial)]),
        static_cast<std::size_t>(trial), ctx_.task));
  std::vector<FoldScores> scores = cv_least_squares(ctx_.backend, ctx_.cv, trials);
  std::vector<TrialResult> out;
  for (std::size_t k = 0; k < pending.size(); ++k)
    out.push_back(finish(batch, pending[k], std::move(scores[k]), "ridge-stats"));
  return out;
}

std::optional<TrialResult> TrialRunner::run_one(const CandidateBatch& batch, std::int64_t trial) {
  if (over_budget()) return std::nullopt;
  const auto index = static_cast<std::size_t>(trial);
  ParamMap p = model_params(ctx_.candidates[index]);
  if (batch.trees > 0) p["n_estimators"] = std::to_string(batch.trees);
  const PipelineSpec& spec = ctx_.pipelines[index];
  const TuneOptions& o = ctx_.options;
  if (const SharedBins* shared = ctx_.shared.shared_bins_for(spec, p))
    return finish(batch, trial,
                  cv_forest_shared(ctx_.backend, ctx_.cv, *shared, o.model, p, ctx_.task, o.seed,
                                   batch.row_fraction),
                  "shared-bins");
  return finish(batch, trial,
                cv_plain(ctx_.backend, ctx_.cv, ctx_.shared.encoder_for(spec), o.model, p,
                         ctx_.task, o.seed, batch.row_fraction),
                "plain");
}

std::vector<TrialResult> TrialRunner::evaluate(const CandidateBatch& batch) {
  std::map<std::int64_t, TrialResult> finished;  // by trial: results in candidate order
  std::vector<std::int64_t> pending;
  for (std::int64_t trial : batch.trials) {
    auto it = ctx_.journal.finished().find({batch.round, trial});
    if (it == ctx_.journal.finished().end()) {
      pending.push_back(trial);
      continue;
    }
    finished[trial] = it->second;
    ++resumed_;
    ++done_;
  }
  // Over MPI ranks each runs its share; the others' trials arrive with gather_trials below.
  const std::vector<std::int64_t> all_pending = std::move(pending);
  pending = share_of_trials(ctx_.options.comm, all_pending);
  std::vector<TrialResult> ran_here;
  if (ctx_.least_squares.use && !pending.empty()) {
    ran_here = run_least_squares(batch, pending);
  } else {
    std::vector<std::optional<TrialResult>> ran(pending.size());
    const auto jobs = static_cast<std::size_t>(ctx_.options.jobs);
    // Batches of `jobs` trials at once, each fit on one thread; one at a time uses every thread.
    for (std::size_t b = 0; b < pending.size(); b += jobs) {
      const std::size_t e = std::min(pending.size(), b + jobs);
      if (jobs > 1)
        parallel_for(static_cast<std::int64_t>(e - b), [&](std::int64_t k) {
          ran[b + static_cast<std::size_t>(k)] =
              run_one(batch, pending[b + static_cast<std::size_t>(k)]);
        });
      else
        ran[b] = run_one(batch, pending[b]);
    }
    for (std::optional<TrialResult>& t : ran)
      if (t) ran_here.push_back(std::move(*t));
  }
  std::vector<TrialResult> gathered = gather_trials(ctx_.options.comm, ran_here, ctx_.journal);
  done_ += static_cast<std::int64_t>(gathered.size() - ran_here.size());  // finish() counted ours
  for (TrialResult& t : gathered) finished[t.trial] = std::move(t);
  std::vector<TrialResult> out;
  for (auto& [trial, t] : finished) out.push_back(std::move(t));
  return out;
}

}  // namespace tabula::selection

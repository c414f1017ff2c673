// A search logged to an MLflow tracking store in MLflow's file-store layout (what
// `mlflow.tracking.MlflowClient(tracking_uri="file://DIR")` reads):
//   DIR/<experiment_id>/meta.yaml                      the experiment (found by name or created)
//   DIR/<experiment_id>/<run_id>/meta.yaml             one run: ids, name, times, status
//   DIR/<experiment_id>/<run_id>/params/<name>         the value, as text
//   DIR/<experiment_id>/<run_id>/metrics/<name>        "<timestamp ms> <value> <step>" lines
//   DIR/<experiment_id>/<run_id>/tags/<name>           the value, as text
//   DIR/<experiment_id>/<run_id>/artifacts/...         files
// One parent run for the search (the best trial's params, its CV and test scores, the refitted
// model file and its MLflow model directory as artifacts) and one child run per trial (tag
// mlflow.parentRunId; each metric's fold scores as a history with step = fold, and mean_/std_).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tabula/selection/tuning.hpp"

namespace tabula::selection {

/// InputError for a tracking URI that is not a local folder (file://PATH or PATH): checked
/// before the search starts.
void check_mlflow_tracking_uri(const std::string& uri);

/// Logs the finished search. Nothing already in the store is changed: runs (and an experiment
/// not found by name) get new random ids; every run's files are written before its meta.yaml,
/// which appears last and atomically, so MLflow never lists a half-written run. `started_ms`:
/// the search's start (ms since the epoch). InputError for a URI that is not a local folder
/// (file://PATH or PATH) and for an experiment of that name that is deleted; Error naming the
/// path when a write fails.
void log_search_to_mlflow(const TuneOptions& options, const TuneResult& result,
                          const nlohmann::json& info, std::int64_t started_ms);

}  // namespace tabula::selection

// The search's description (leaderboard.json's header, the model's training.search) and the
// outputs written as one set: leaderboard.csv, leaderboard.json, report.html, model.tabula.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tabula/artifact/model_file.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/selection/model_selection.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula::selection {

/// What the description says beyond the result itself.
struct SearchFacts {
  std::string scheme;
  std::vector<Fold> folds;
  std::size_t test_rows = 0, search_rows = 0;
  std::string test_split;  // "latest by time", "none", "stratified" or "shuffled"
  std::int64_t planned = 0, finished = 0;
  std::string fingerprint;
  bool least_squares = false;  // every trial ran on the shared statistics
  std::string path_note;       // why they did not (when asked for)
  nlohmann::json pipeline;     // the base pipeline
};

/// The search's summary: model, task, metrics, space, scheme, baseline, counts, notes.
nlohmann::json search_info(const TuneOptions& options, const SearchSpace& space,
                           const SearchFacts& facts, const TuneResult& result);

/// The refitted best model, its pipeline, and what its model file's metadata says of the data.
struct RefitModel {
  std::unique_ptr<Estimator> model;  // null when no trial finished
  std::unique_ptr<Pipeline> pipeline;
  ModelSchema schema;       // target and class labels; the features come from the pipeline
  nlohmann::json training;  // data file, fingerprint, rows, seed, task reason
  /// tabula evaluate's document for the test rows (null: no test rows; {"error": why} when it
  /// could not be made); report.html draws it, leaderboard.json holds it as test_evaluation.
  nlohmann::json evaluation;
  std::optional<monitoring::DriftProfile> profile;  // the training data's, for drift monitoring
};

/// Writes every output under options.out_dir, all complete under temporary names, then renamed
/// together (a failure leaves the previous set whole); sets result.model_path when a model is
/// written.
void write_search_outputs(Backend& backend, const TuneOptions& options, const nlohmann::json& info,
                          RefitModel& best, TuneResult& result);

}  // namespace tabula::selection

#include "selection/search_report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "io/atomic_file.hpp"
#include "selection/tuning_output.hpp"
#include "selection/utc_now.hpp"
#include "tabula/version.hpp"

namespace tabula::selection {
namespace {

const char* search_name(SearchKind kind) {
  return kind == SearchKind::kHalving ? "halving" : kind == SearchKind::kRandom ? "random" : "grid";
}

/// The model file's training metadata: the data, the search's summary with its top 10 trials,
/// and the test metrics.
nlohmann::json model_metadata(Backend& backend, const nlohmann::json& info, const RefitModel& best,
                              const TuneResult& result) {
  nlohmann::json training = best.training;
  training["library_version"] = kVersion;
  training["trained_at"] = utc_now();
  training["device"] = backend.device().to_string();
  nlohmann::json summary = info;
  nlohmann::json top = nlohmann::json::array();
  for (std::size_t i = 0; i < std::min<std::size_t>(10, result.leaderboard.size()); ++i) {
    const TrialResult& t = result.leaderboard[i];
    top.push_back(
        {{"trial", t.trial}, {"params", t.params}, {"mean", t.mean(0)}, {"std", t.stdev(0)}});
  }
  summary["top"] = top;
  training["search"] = summary;
  if (!result.test_metrics.is_null()) training["metrics"] = {{"model", result.test_metrics}};
  return training;
}

}  // namespace

nlohmann::json search_info(const TuneOptions& options, const SearchSpace& space,
                           const SearchFacts& facts, const TuneResult& result) {
  nlohmann::json info;
  info["model"] = options.model;
  info["task"] = std::string(to_string(result.task));
  info["metric"] = result.metric_names[0];
  info["metrics"] = result.metric_names;
  info["search"] = search_name(options.search);
  info["space"] = nlohmann::json::array();
  for (const ParamDimension& dim : space.dims) info["space"].push_back(dim.describe());
  info["fixed"] = options.fixed;
  info["seed"] = options.seed;
  info["candidates"] = result.candidates;
  info["trials_planned"] = facts.planned;
  info["trials_finished"] = facts.finished;
  info["resumed"] = result.resumed;
  info["stopped_by_budget"] = result.stopped_by_budget;
  info["fingerprint"] = facts.fingerprint;
  info["path"] = facts.least_squares           ? "ridge-stats"
                 : !result.leaderboard.empty() ? result.leaderboard.front().path
                                               : "plain";
  info["pipeline"] = facts.pipeline;
  if (!facts.path_note.empty()) info["path_note"] = facts.path_note;
  nlohmann::json fold_sizes = nlohmann::json::array();
  for (const Fold& f : facts.folds) fold_sizes.push_back({f.train.size(), f.test.size()});
  info["scheme"] = {{"kind", facts.scheme},          {"folds", options.folds},
                    {"shuffle", options.shuffle},    {"fold_sizes", fold_sizes},
                    {"test_rows", facts.test_rows},  {"search_rows", facts.search_rows},
                    {"test_split", facts.test_split}};
  if (facts.scheme == "repeated") info["scheme"]["repeats"] = options.repeats;
  info["baseline"] = {
      {"model", "dummy"}, {"mean", result.baseline.mean(0)}, {"std", result.baseline.stdev(0)}};
  if (!std::isfinite(result.baseline.mean(0))) info["baseline"]["mean"] = nullptr;
  info["notes"] = result.notes;
  return info;
}

void write_search_outputs(Backend& backend, const TuneOptions& options, const nlohmann::json& info,
                          RefitModel& best, TuneResult& result) {
  const std::filesystem::path dir(options.out_dir);
  detail::PendingFiles outputs;
  // The refitted best model's importances or coefficients, by feature name, in both reports.
  nlohmann::json report_info = info;
  if (best.model)
    report_info["best_features"] =
        ranked_feature_values(best.model->summary(), best.pipeline->output_names(), kTopFeatures);
  if (!best.evaluation.is_null()) report_info["test_evaluation"] = best.evaluation;
  outputs.add((dir / "leaderboard.csv").string(), leaderboard_csv(result));
  outputs.add((dir / "leaderboard.json").string(),
              leaderboard_json(result, report_info).dump(2) + "\n");
  outputs.add((dir / "report.html").string(), report_html(result, report_info));
  if (best.model) {
    const nlohmann::json training = model_metadata(backend, info, best, result);
    result.model_path = (dir / "model.tabula").string();
    best.schema.features.clear();
    for (const auto& [name, type] : best.pipeline->input_columns())
      best.schema.features.push_back({name, type});
    save_model(outputs.reserve(result.model_path), *best.model, *best.pipeline, best.schema,
               training, best.profile ? &*best.profile : nullptr);
  }
  outputs.commit();
}

}  // namespace tabula::selection

// What a search writes: the leaderboard (CSV and JSON) and the self-contained HTML report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tabula/selection/tuning.hpp"

namespace tabula::selection {

/// Parameter names in first-seen order over the trials (the leaderboard's param_ columns).
std::vector<std::string> param_names(const TuneResult& result);

/// One row per trial (final round first, best first), columns: rank, round, trial, resource,
/// param_<name>..., mean_<metric>, std_<metric>... , mean_fit_time, mean_score_time, path.
std::string leaderboard_csv(const TuneResult& result);

/// The leaderboard plus `info` (scheme, folds, search, baseline, test score) as one document.
nlohmann::json leaderboard_json(const TuneResult& result, const nlohmann::json& info);

/// A self-contained page: summary, score against each parameter (inline SVG, fold spread as
/// error bars, the baseline's CV score as a dashed line) and the leaderboard table.
std::string report_html(const TuneResult& result, const nlohmann::json& info);

}  // namespace tabula::selection

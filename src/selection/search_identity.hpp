// What makes two searches the same search: the data file's bytes and every option that decides
// the results, hashed into the fingerprint the journal's lines carry.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "selection/journal.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula::selection {

/// Everything that decides a search's results (docs/tuning.md, "Journal and resume").
nlohmann::json search_identity(const TuneOptions& options, const std::string& scheme,
                               const std::vector<std::string>& metrics, Task task,
                               const nlohmann::json& base_pipeline);

/// "fnv1a64:" and the hash of the identity's compact JSON.
std::string fingerprint_of(const nlohmann::json& identity);

/// The journal's check for this search: each candidate's searched parameters by trial index.
JournalCheck journal_check(const std::string& fingerprint, const SearchSpace& space,
                           const std::vector<ParamMap>& candidates, std::size_t folds,
                           const std::vector<std::string>& metrics);

}  // namespace tabula::selection

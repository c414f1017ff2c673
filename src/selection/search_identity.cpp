#include "selection/search_identity.hpp"

#include <fmt/format.h>

#include "artifact/fnv1a.hpp"
#include "tabula/artifact/model_file.hpp"
#include "training/data_fingerprint.hpp"

namespace tabula::selection {

nlohmann::json search_identity(const TuneOptions& options, const std::string& scheme,
                               const std::vector<std::string>& metrics, Task task,
                               const nlohmann::json& base_pipeline) {
  nlohmann::json identity = {{"data_hash", fmt::format("{:016x}", data_hash(options.data_path))},
                             {"target", options.target},
                             {"model", options.model},
                             {"space", options.space},
                             {"fixed", options.fixed},
                             {"search", static_cast<int>(options.search)},
                             {"n_iter", options.n_iter},
                             {"resource", options.halving_resource},
                             {"factor", options.factor},
                             {"scheme", scheme},
                             {"folds", options.folds},
                             {"repeats", options.repeats},
                             {"shuffle", options.shuffle},
                             {"gap", options.gap},
                             {"group", options.group_column},
                             {"drop", options.drop_columns},
                             {"id", options.id_column},
                             {"time", options.time_column},
                             {"test_size", options.test_size},
                             {"metrics", metrics},
                             {"seed", options.seed},
                             {"task", std::string(to_string(task))},
                             {"fast_path", options.fast_path},
                             {"pipeline", base_pipeline}};
  // How the file is read changes the table; listed only when set, so searches from before the
  // settings existed keep their fingerprints.
  if (!(options.csv == io::CsvSettings{}))
    identity["csv"] = {{"delimiter", std::string(1, options.csv.delimiter)},
                       {"decimal", std::string(1, options.csv.decimal)},
                       {"na_values", options.csv.na_values},
                       {"categorical", options.csv.categorical},
                       {"numeric", options.csv.numeric}};
  return identity;
}

std::string fingerprint_of(const nlohmann::json& identity) {
  const std::string text = identity.dump();
  return fmt::format("fnv1a64:{:016x}", detail::fnv1a64(text.data(), text.size()));
}

JournalCheck journal_check(const std::string& fingerprint, const SearchSpace& space,
                           const std::vector<ParamMap>& candidates, std::size_t folds,
                           const std::vector<std::string>& metrics) {
  JournalCheck check{fingerprint, {}, folds, metrics};
  for (const ParamMap& candidate : candidates) {
    ParamMap& searched = check.candidates.emplace_back();
    for (const ParamDimension& dim : space.dims) searched[dim.name] = candidate.at(dim.name);
  }
  return check;
}

}  // namespace tabula::selection

#include "selection/search_identity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "artifact/fnv1a.hpp"
#include "io/sql/sql_source.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::selection {

std::uint64_t file_hash(const std::string& path) {
  if (io::is_sql_url(path)) return io::sql_result_hash(path);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError("cannot read " + path);
  const auto size = static_cast<std::int64_t>(in.tellg());
  constexpr std::int64_t kChunk = 16 << 20;
  const std::int64_t chunks = (size + kChunk - 1) / kChunk;
  std::vector<std::uint64_t> hashes(static_cast<std::size_t>(chunks));
  parallel_for(chunks, [&](std::int64_t c) {
    std::ifstream part(path, std::ios::binary);
    part.seekg(c * kChunk);
    std::vector<char> bytes(static_cast<std::size_t>(std::min(kChunk, size - c * kChunk)));
    part.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (part.gcount() != static_cast<std::streamsize>(bytes.size()))
      throw InputError("cannot read " + path);
    hashes[static_cast<std::size_t>(c)] = detail::fnv1a64(bytes.data(), bytes.size());
  });
  std::uint64_t h = detail::fnv1a64(hashes.data(), hashes.size() * sizeof(std::uint64_t));
  return detail::fnv1a64(&size, sizeof size, h);
}

nlohmann::json search_identity(const TuneOptions& options, const std::string& scheme,
                               const std::vector<std::string>& metrics, Task task,
                               const nlohmann::json& base_pipeline) {
  nlohmann::json identity = {{"data_hash", fmt::format("{:016x}", file_hash(options.data_path))},
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

#include "selection/candidates.hpp"

#include <algorithm>
#include <string_view>

#include "tabula/core/error.hpp"

namespace tabula::selection {
namespace {

constexpr std::string_view kPipelinePrefix = "pipeline.";

}  // namespace

std::vector<ParamMap> propose_candidates(const SearchSpace& space, const TuneOptions& options) {
  const bool has_distribution =
      std::any_of(space.dims.begin(), space.dims.end(),
                  [](const ParamDimension& d) { return d.kind != ParamDimension::Kind::kList; });
  std::vector<ParamMap> candidates =
      options.search == SearchKind::kRandom ||
              (options.search == SearchKind::kHalving && has_distribution)
          ? space.sample(options.n_iter, options.seed)
          : space.grid();
  for (ParamMap& c : candidates)
    for (const auto& [k, v] : options.fixed)
      if (!c.count(k)) c[k] = v;
  return candidates;
}

ParamMap model_params(const ParamMap& candidate) {
  ParamMap out;
  for (const auto& [k, v] : candidate)
    if (!k.starts_with(kPipelinePrefix)) out[k] = v;
  return out;
}

PipelineSpec candidate_pipeline(const PipelineSpec& base, const ParamMap& candidate) {
  PipelineOverrides o;
  bool any = false;
  for (const auto& [k, v] : candidate) {
    if (!k.starts_with(kPipelinePrefix)) continue;
    const std::string field = k.substr(kPipelinePrefix.size());
    std::string* slot = field == "impute"           ? &o.impute
                        : field == "scale"          ? &o.scale
                        : field == "encode"         ? &o.encode
                        : field == "handle_unknown" ? &o.handle_unknown
                        : field == "min_frequency"  ? &o.min_frequency
                        : field == "max_categories" ? &o.max_categories
                                                    : nullptr;
    if (!slot)
      throw InputError("--param '" + k +
                       "': unknown pipeline parameter (known: pipeline.impute, pipeline.scale, "
                       "pipeline.encode, pipeline.handle_unknown, pipeline.min_frequency, "
                       "pipeline.max_categories)");
    *slot = v;
    any = true;
  }
  return any ? apply_overrides(base, o) : base;
}

std::vector<PipelineSpec> check_candidates(const TuneOptions& options,
                                           const std::vector<ParamMap>& candidates, Task task,
                                           const PipelineSpec& base) {
  const bool tree_resource =
      options.search == SearchKind::kHalving && options.halving_resource == "n_estimators";
  std::vector<PipelineSpec> pipelines;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    ParamMap p = model_params(candidates[i]);
    if (tree_resource) p["n_estimators"] = "1";  // the resource: set per round
    try {
      TABULA_ASSERT(make_estimator(options.model, p, task)->task() == task,
                    "the registry gave a model of another task");
      pipelines.push_back(candidate_pipeline(base, candidates[i]));
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + " (trial " + std::to_string(i) + ")");
    }
  }
  return pipelines;
}

}  // namespace tabula::selection

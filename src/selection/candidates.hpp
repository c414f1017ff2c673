// The candidates a search proposes (grid, random draws), and how one candidate splits into the
// model's parameters and its pipeline.
#pragma once

#include <vector>

#include "tabula/pipeline/pipeline.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula::selection {

/// Every candidate of the search, each completed with the fixed parameters (the space's value
/// wins): the grid, or options.n_iter seeded draws for random search and for successive halving
/// over a space with distributions.
std::vector<ParamMap> propose_candidates(const SearchSpace& space, const TuneOptions& options);

/// The model's own parameters of a candidate (without the pipeline.* entries).
ParamMap model_params(const ParamMap& candidate);

/// The candidate's pipeline: `base` with its pipeline.* entries applied. InputError naming an
/// unknown pipeline parameter or a bad value.
PipelineSpec candidate_pipeline(const PipelineSpec& base, const ParamMap& candidate);

/// Constructs every candidate's estimator (for `task`) and pipeline, so that an unknown
/// parameter or a bad value fails before any fit, naming the trial. Returns the pipelines, by
/// candidate index.
std::vector<PipelineSpec> check_candidates(const TuneOptions& options,
                                           const std::vector<ParamMap>& candidates, Task task,
                                           const PipelineSpec& base);

}  // namespace tabula::selection

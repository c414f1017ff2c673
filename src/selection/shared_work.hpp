// Work done once per search and shared by every fold and trial: a pipeline whose fitted state
// does not depend on the rows is applied once to every row; forests share one binning of the
// search rows per (pipeline, max_bins).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "selection/cv_eval.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula::selection {

/// True when the pipeline's fitted state does not depend on the rows it is fitted on (only
/// passthrough branches): its output is computed once for every row and shared by all folds.
/// Branches that select by a type the table does not have are ignored (they select nothing).
bool row_independent(const PipelineSpec& spec, const Dataset& data);

/// The fold inputs of one search. Thread-safe (trials run concurrently with --jobs). Holds
/// references to everything it is built from, which must outlive it.
class SharedWork {
 public:
  /// `pool_rows`: the search rows (every non-test row); `forest_bins`: forests may share one
  /// binning (the fast path is on and the model is a forest).
  SharedWork(Backend& backend, const Dataset& data, std::span<const double> y,
             const std::vector<std::int64_t>& pool_rows, Task task, bool forest_bins);

  /// Each fold's matrices under `spec`: rows gathered from the one shared transform of every
  /// row when the pipeline is row-independent, else the pipeline fitted on the fold's
  /// training rows.
  FoldEncoder encoder_for(const PipelineSpec& spec);

  /// The shared binning for a forest trial with `params` under `spec`, built on first use; null
  /// when forests do not share bins here (another model, a row-dependent pipeline).
  /// The edges see the validation folds' feature values (never their labels).
  const SharedBins* shared_bins_for(const PipelineSpec& spec, const ParamMap& params);

 private:
  std::unique_ptr<SharedBins> build_bins(const PipelineSpec& spec, int max_bins);

  Backend& backend_;
  const Dataset& data_;
  std::span<const double> y_;
  const std::vector<std::int64_t>& pool_rows_;
  Task task_;
  bool forest_bins_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const FoldMatrices>> full_cache_;
  std::map<std::string, std::unique_ptr<SharedBins>> bins_cache_;
  std::vector<std::unique_ptr<BinnedMatrix>> bins_owned_;
  std::vector<std::unique_ptr<std::vector<float>>> pool_matrices_;
};

}  // namespace tabula::selection

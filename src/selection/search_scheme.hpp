// The cross-validation scheme of a search: which one `auto` means, and its folds over the search
// rows (every non-test row).
#pragma once

#include <string>
#include <vector>

#include "tabula/selection/tuning.hpp"
#include "training/labelled_table.hpp"

namespace tabula::selection {

/// `options.scheme`, with "auto" resolved: time with a time column, group with a group column,
/// stratified for classification, else kfold.
std::string canonical_scheme(const TuneOptions& options, Task task);

/// The folds of `scheme` over `pool_rows`, as table rows (ascending within each fold, except in
/// time order for the time scheme). InputError for an unknown scheme, a scheme whose column is
/// missing, stratified folds of a regression target, and whatever the splitter refuses (fewer
/// rows than folds, a class with fewer members than folds, one group).
std::vector<Fold> search_folds(const std::string& scheme, const TuneOptions& options,
                               const LabelledTable& table,
                               const std::vector<std::int64_t>& pool_rows);

}  // namespace tabula::selection

#include "selection/search_scheme.hpp"

#include <algorithm>

#include "tabula/core/error.hpp"

namespace tabula::selection {
namespace {

/// The folds over positions 0..n_pool-1 of the pool.
std::vector<Fold> pool_folds(const std::string& scheme, const TuneOptions& options,
                             const LabelledTable& table,
                             const std::vector<std::int64_t>& pool_rows) {
  const auto n_pool = static_cast<std::int64_t>(pool_rows.size());
  if (scheme == "kfold") return kfold(n_pool, options.folds, options.shuffle, options.seed);
  if (scheme == "stratified") {
    if (table.choice.task != Task::kClassification)
      throw InputError("--scheme stratified needs a classification target");
    std::vector<double> classes(pool_rows.size());
    for (std::size_t i = 0; i < pool_rows.size(); ++i) classes[i] = table.y[pool_rows[i]];
    return stratified_kfold(classes, options.folds, options.shuffle, options.seed);
  }
  if (scheme == "group") {
    if (!table.group) throw InputError("--scheme group needs --group-column");
    return group_kfold(group_ids(*table.group, pool_rows), options.folds);
  }
  if (scheme == "time") {
    if (!table.time) throw InputError("--scheme time needs --time-column");
    return time_series_split(n_pool, options.folds, options.gap);
  }
  if (scheme == "repeated")
    return repeated_kfold(n_pool, options.folds, options.repeats, options.seed);
  throw InputError("--scheme must be auto, kfold, stratified, group, time or repeated, got '" +
                   scheme + "'");
}

}  // namespace

std::string canonical_scheme(const TuneOptions& o, Task task) {
  if (o.scheme != "auto") return o.scheme;
  if (!o.time_column.empty()) return "time";
  if (!o.group_column.empty()) return "group";
  return task == Task::kClassification ? "stratified" : "kfold";
}

std::vector<Fold> search_folds(const std::string& scheme, const TuneOptions& options,
                               const LabelledTable& table,
                               const std::vector<std::int64_t>& pool_rows) {
  std::vector<Fold> folds = pool_folds(scheme, options, table, pool_rows);
  // Positions map to pool rows.
  for (Fold& f : folds) {
    for (auto& r : f.train) r = pool_rows[static_cast<std::size_t>(r)];
    for (auto& r : f.test) r = pool_rows[static_cast<std::size_t>(r)];
    if (scheme != "time") {
      std::sort(f.train.begin(), f.train.end());
      std::sort(f.test.begin(), f.test.end());
    }
  }
  return folds;
}

}  // namespace tabula::selection

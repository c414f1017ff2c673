// What an estimator learns, and the names the command line, spec files and model files use for
// it. Its own header so that training, selection, the file format and the CLI all read it from
// the models layer instead of calling into one another.
#pragma once

#include <string_view>

namespace tabula {

// kClustering: unsupervised, predict() gives a cluster index per row and transform() one
// value per cluster (k-means: the distances to the centres).
enum class Task { kRegression, kClassification, kTransform, kClustering };

/// "regression", "classification", "transform", "clustering".
std::string_view to_string(Task task);
/// Parses the names above; InputError otherwise.
Task parse_task(std::string_view text);
/// Transforms and clustering: fitted without a target.
constexpr bool is_unsupervised(Task task) {
  return task == Task::kTransform || task == Task::kClustering;
}

}  // namespace tabula

// What the model registry (src/models/registry.cpp) can tell about its entries beyond
// make_estimator and estimator_names (tabula/models/estimator.hpp).
#pragma once

#include <string_view>
#include <vector>

#include "tabula/models/estimator.hpp"

namespace tabula {

/// The tasks the registered model `name` can do with its default parameters, in the order
/// classification, regression, transform, clustering. InputError for an unknown name. Tests that
/// must cover every model and task enumerate estimator_names() × estimator_tasks().
std::vector<Task> estimator_tasks(std::string_view name);

}  // namespace tabula

// The explicit model registry: one line per model family, no static self-registration.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/models/baseline/dummy.hpp"
#include "tabula/models/cluster/kmeans.hpp"
#include "tabula/models/cluster/minibatch_kmeans.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/models/forest/forest.hpp"
#include "tabula/models/gbdt/gbdt.hpp"
#include "tabula/models/linear/linear.hpp"
#include "tabula/models/linear/logistic.hpp"
#include "tabula/models/linear/pca.hpp"
#include "tabula/models/registry.hpp"

namespace tabula {
namespace {

using Factory = std::function<std::unique_ptr<Estimator>(const ParamMap&, Task task_hint)>;

struct Entry {
  std::string name;
  Factory make;
};

const std::vector<Entry>& entries() {
  // Each factory parses and validates its Params; task_hint only matters to families that
  // serve both tasks (dummy, forest).
  static const std::vector<Entry> kEntries = {
      {"dummy", [](const ParamMap& p, Task t) { return make_dummy(p, t); }},
      // forest: classifier or regressor by the task hint (from the target); the explicit
      // names fix the task.
      {"forest",
       [](const ParamMap& p, Task t) -> std::unique_ptr<Estimator> {
         if (t == Task::kClassification) return std::make_unique<RandomForestClassifier>(p);
         return std::make_unique<RandomForestRegressor>(p);
       }},
      {"forest-classifier",
       [](const ParamMap& p, Task) -> std::unique_ptr<Estimator> {
         return std::make_unique<RandomForestClassifier>(p);
       }},
      {"forest-regressor",
       [](const ParamMap& p, Task) -> std::unique_ptr<Estimator> {
         return std::make_unique<RandomForestRegressor>(p);
       }},
      // gbdt: named like the forest (task from the target, or fixed by the explicit names).
      {"gbdt",
       [](const ParamMap& p, Task t) -> std::unique_ptr<Estimator> {
         if (t == Task::kClassification) return std::make_unique<HistGradientBoostingClassifier>(p);
         return std::make_unique<HistGradientBoostingRegressor>(p);
       }},
      {"gbdt-classifier",
       [](const ParamMap& p, Task) -> std::unique_ptr<Estimator> {
         return std::make_unique<HistGradientBoostingClassifier>(p);
       }},
      {"gbdt-regressor",
       [](const ParamMap& p, Task) -> std::unique_ptr<Estimator> {
         return std::make_unique<HistGradientBoostingRegressor>(p);
       }},
      {"linear",
       [](const ParamMap& p, Task) {
         return std::make_unique<LinearRegression>(LinearRegressionParams::parse(p));
       }},
      {"ridge",
       [](const ParamMap& p, Task) { return std::make_unique<Ridge>(RidgeParams::parse(p)); }},
      {"logistic",
       [](const ParamMap& p, Task) {
         return std::make_unique<LogisticRegression>(LogisticRegressionParams::parse(p));
       }},
      {"pca", [](const ParamMap& p, Task) { return std::make_unique<Pca>(PcaParams::parse(p)); }},
      {"kmeans",
       [](const ParamMap& p, Task) { return std::make_unique<KMeans>(KMeansParams::parse(p)); }},
      {"minibatch-kmeans",
       [](const ParamMap& p, Task) {
         return std::make_unique<MiniBatchKMeans>(MiniBatchKMeansParams::parse(p));
       }},
  };
  return kEntries;
}

int rank(Task task) {
  switch (task) {
    case Task::kClassification:
      return 0;
    case Task::kRegression:
      return 1;
    case Task::kTransform:
      return 2;
    case Task::kClustering:
      return 3;
  }
  return 4;
}

}  // namespace

std::unique_ptr<Estimator> make_estimator(std::string_view name, const ParamMap& params,
                                          Task task_hint) {
  for (const Entry& entry : entries())
    if (entry.name == name) return entry.make(params, task_hint);
  std::string known;
  for (const Entry& entry : entries()) known += (known.empty() ? "" : ", ") + entry.name;
  throw InputError("unknown model '" + std::string(name) + "' (known: " + known + ")");
}

std::vector<std::string> estimator_names() {
  std::vector<std::string> names;
  for (const Entry& entry : entries()) names.push_back(entry.name);
  return names;
}

std::vector<Task> estimator_tasks(std::string_view name) {
  // A family that serves several tasks picks one by the hint; asking with every hint finds
  // them all. A family may refuse a hint (dummy has no transform): that task is not its own.
  std::vector<Task> tasks;
  for (Task hint :
       {Task::kClassification, Task::kRegression, Task::kTransform, Task::kClustering}) {
    std::unique_ptr<Estimator> model;
    try {
      model = make_estimator(name, {}, hint);
    } catch (const InputError&) {
      continue;
    }
    if (std::find(tasks.begin(), tasks.end(), model->task()) == tasks.end())
      tasks.push_back(model->task());
  }
  if (tasks.empty()) make_estimator(name, {}, Task::kRegression);  // names the problem
  std::sort(tasks.begin(), tasks.end(), [](Task a, Task b) { return rank(a) < rank(b); });
  return tasks;
}

}  // namespace tabula

#include "tabula/models/task.hpp"

#include <string>

#include "tabula/core/error.hpp"

namespace tabula {

std::string_view to_string(Task task) {
  switch (task) {
    case Task::kRegression:
      return "regression";
    case Task::kClassification:
      return "classification";
    case Task::kTransform:
      return "transform";
    case Task::kClustering:
      return "clustering";
  }
  return "?";
}

Task parse_task(std::string_view text) {
  for (Task t : {Task::kRegression, Task::kClassification, Task::kTransform, Task::kClustering})
    if (text == to_string(t)) return t;
  throw InputError("unknown task '" + std::string(text) +
                   "' (expected regression, classification, transform or clustering)");
}

}  // namespace tabula

// Scorers by scikit-learn scorer name: the one place mapping a name to a metric and its sign.
#include <string>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {

const std::vector<Scorer>& scorers() {
  static const std::vector<Scorer> kScorers = {
      {"accuracy", ScorerTask::kClassification, false},
      {"balanced_accuracy", ScorerTask::kClassification, false},
      {"f1", ScorerTask::kClassification, false},
      {"f1_macro", ScorerTask::kClassification, false},
      {"f1_weighted", ScorerTask::kClassification, false},
      {"precision", ScorerTask::kClassification, false},
      {"precision_macro", ScorerTask::kClassification, false},
      {"precision_weighted", ScorerTask::kClassification, false},
      {"recall", ScorerTask::kClassification, false},
      {"recall_macro", ScorerTask::kClassification, false},
      {"recall_weighted", ScorerTask::kClassification, false},
      {"roc_auc", ScorerTask::kClassification, true},
      {"neg_log_loss", ScorerTask::kClassification, true},
      {"r2", ScorerTask::kRegression, false},
      {"neg_mean_squared_error", ScorerTask::kRegression, false},
      {"neg_root_mean_squared_error", ScorerTask::kRegression, false},
      {"neg_mean_absolute_error", ScorerTask::kRegression, false},
      {"explained_variance", ScorerTask::kRegression, false},
      {"silhouette", ScorerTask::kClustering, false},
      {"neg_inertia", ScorerTask::kClustering, false},
      {"neg_davies_bouldin", ScorerTask::kClustering, false},
  };
  return kScorers;
}

const Scorer& scorer(std::string_view name) {
  for (const Scorer& s : scorers())
    if (s.name == name) return s;
  std::string known;
  for (const Scorer& s : scorers()) known += (known.empty() ? "" : ", ") + s.name;
  throw InputError("unknown metric '" + std::string(name) + "' (known: " + known + ")");
}

double score(std::string_view name, std::span<const double> y_true, std::span<const double> y_pred,
             std::span<const double> proba, std::int64_t k, Rows x) {
  const Scorer& s = scorer(name);
  if (s.task == ScorerTask::kClustering) {
    if (x.values.empty() || y_pred.empty())
      throw InputError("metric " + s.name + " needs the rows and their cluster labels");
    if (s.name == "silhouette") return silhouette(x, y_pred);
    return s.name == "neg_inertia" ? -inertia(x, y_pred) : -davies_bouldin(x, y_pred);
  }
  if (s.needs_proba) {
    if (proba.empty()) throw InputError("metric " + s.name + " needs predicted probabilities");
    return s.name == "roc_auc" ? roc_auc_ovr(y_true, proba, k) : -log_loss(y_true, proba, k);
  }
  if (y_pred.empty()) throw InputError("metric " + s.name + " needs predictions");
  auto averaged = [&](auto metric, const std::string& base) {
    if (s.name == base) return metric(y_true, y_pred, Average::kBinary);
    if (s.name == base + "_macro") return metric(y_true, y_pred, Average::kMacro);
    return metric(y_true, y_pred, Average::kWeighted);
  };
  if (s.name == "accuracy") return accuracy(y_true, y_pred);
  if (s.name == "balanced_accuracy") return balanced_accuracy(y_true, y_pred);
  if (s.name.starts_with("f1")) return averaged(f1, "f1");
  if (s.name.starts_with("precision")) return averaged(precision, "precision");
  if (s.name.starts_with("recall")) return averaged(recall, "recall");
  if (s.name == "r2") return r2(y_true, y_pred);
  if (s.name == "neg_mean_squared_error") return -mean_squared_error(y_true, y_pred);
  if (s.name == "neg_root_mean_squared_error") return -root_mean_squared_error(y_true, y_pred);
  if (s.name == "neg_mean_absolute_error") return -mean_absolute_error(y_true, y_pred);
  return explained_variance(y_true, y_pred);
}

}  // namespace tabula::metrics

// The interface every model implements. Algorithms are written once against Backend&; an
// estimator never branches on the device kind.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/matrix.hpp"
#include "tabula/models/task.hpp"

namespace tabula {

class ArtifactWriter;
class ArtifactReader;
class Communicator;
class RowPasses;

/// Hyperparameters by scikit-learn name as text ("alpha" -> "0.5"), from `--param key=value`.
/// Each estimator parses its own Params struct from this map and throws InputError naming any
/// unknown parameter or bad value.
using ParamMap = std::map<std::string, std::string, std::less<>>;

/// What fit() receives. Features are host memory, row-major float32, n x d, NaN = missing.
/// Targets are float64: the value for regression, the class index 0..n_classes-1 for
/// classification, empty for transforms. Sample weights are empty (unit) or n non-negative.
struct FitData {
  MatrixView<const float> x;
  std::span<const double> y;
  std::span<const double> sample_weight;
  int n_classes = 0;  // classification only
  std::uint64_t seed = 0;
  /// Optional (empty: unnamed): the names of x's d columns, the pipeline's output names.
  std::span<const std::string> feature_names;
  /// Optional (empty: none): per column of x, 1 when it holds the category codes of a text
  /// column (Pipeline::categorical_outputs), what categorical_features="from_dtype" reads.
  std::span<const std::uint8_t> categorical;
  /// Optional (null: one process): the ranks of a data-parallel fit, each holding its share of
  /// the rows in x. A model that supports it (Estimator::fits_distributed) reduces its
  /// statistics over the ranks and every rank ends with the same fitted state.
  Communicator* comm = nullptr;
};

/// A fitted estimator's state kept on one backend for repeated scoring, as FAISS's GpuIndex
/// keeps its data resident: made once by Estimator::make_resident, after which only the rows
/// move per call. The methods mirror Estimator's (same results, bit for bit) and are safe to
/// call from several threads at once. It refers to its estimator and backend: both must outlive
/// it, and the estimator must not be fitted or loaded again while it lives.
class ResidentEstimator {
 public:
  virtual ~ResidentEstimator() = default;
  virtual std::vector<double> predict(MatrixView<const float> x) const = 0;
  virtual std::vector<double> predict_proba(MatrixView<const float> x) const = 0;
  virtual std::vector<double> predict_with_proba(MatrixView<const float> x,
                                                 std::vector<double>& proba) const = 0;
  virtual std::vector<double> transform(MatrixView<const float> x) const = 0;
};

class Estimator {
 public:
  virtual ~Estimator() = default;

  /// Registry name: "linear", "ridge", "logistic", "pca", "dummy", "forest", ...
  virtual std::string name() const = 0;
  virtual Task task() const = 0;
  /// Parameters with scikit-learn names and their values (defaults included).
  virtual nlohmann::json params() const = 0;

  virtual void fit(Backend& backend, const FitData& data) = 0;
  /// True when fit() honours FitData::comm (a data-parallel fit over several ranks gives the
  /// single-process model); the others refuse a distributed fit before reading any data.
  virtual bool fits_distributed() const { return false; }
  /// True when fit_passes() fits from passes over rows it never holds at once (mini-batch
  /// k-means): `tabula train` then streams the file instead of reading it whole.
  virtual bool fits_in_passes() const { return false; }
  /// Fits from `rows` (RowPasses: a sample, then passes over every row); `seed` as FitData's.
  /// The same rows give the model fit() gives. Default: Error (fits_in_passes() is false).
  virtual void fit_passes(Backend& backend, RowPasses& rows, std::uint64_t seed);
  /// One more step of an incremental fit on data (scikit-learn's partial_fit). Default: Error.
  virtual void partial_fit(Backend& backend, const FitData& data);

  /// Regression: predicted values. Classification: predicted class indices (as double).
  /// x: host, row-major float32, n x d. Returns n values.
  virtual std::vector<double> predict(Backend& backend, MatrixView<const float> x) const = 0;
  /// Classification only: n x n_classes row-major probabilities, rows sum to 1.
  virtual std::vector<double> predict_proba(Backend& backend, MatrixView<const float> x) const;
  /// Classification: predict() and predict_proba() of the same rows, from one pass where the
  /// model allows it (a forest's classes are the argmax of its probabilities, so one traversal
  /// gives both). The results equal the two separate calls. Default: the two calls.
  virtual std::vector<double> predict_with_proba(Backend& backend, MatrixView<const float> x,
                                                 std::vector<double>& proba) const;
  /// Transforms only (PCA): n x n_outputs() row-major.
  virtual std::vector<double> transform(Backend& backend, MatrixView<const float> x) const;
  virtual std::int64_t n_outputs() const { return 1; }
  /// Classification: the number of classes the fitted model scores (its probability columns);
  /// 0 for other tasks. load_model checks a file's class labels against it.
  virtual std::int64_t class_count() const { return 0; }

  /// The fitted state made resident on `backend` (see ResidentEstimator). Default: calls this
  /// estimator's methods on `backend`, for models whose state is a few coefficients; models with
  /// large arrays (forests) override it to upload them once.
  virtual std::unique_ptr<ResidentEstimator> make_resident(Backend& backend) const;

  /// Stores the fitted state as plain arrays plus JSON; load() restores it exactly.
  virtual void save(ArtifactWriter& out) const = 0;
  virtual void load(const ArtifactReader& in) = 0;
  /// What `tabula inspect` shows: fitted attributes (coef_, n_components_, trees...).
  virtual nlohmann::json summary() const = 0;
};

/// The explicit model registry (src/models/registry.cpp): a new, unfitted estimator by
/// registry name, with parameters parsed and validated. Throws InputError for an unknown
/// name (listing the known ones) or a bad parameter (naming it).
std::unique_ptr<Estimator> make_estimator(std::string_view name, const ParamMap& params,
                                          Task task_hint = Task::kRegression);
/// Registry names, for help texts and messages.
std::vector<std::string> estimator_names();

}  // namespace tabula

// The device interface. Algorithms are written once against Backend&; only these coarse
// primitives have a CPU version (the reference, in src/backend/cpu) and a CUDA version
// (src/backend/cuda). No CUDA type appears here.
//
// Conventions for every primitive:
// - Every pointer and view lives in this backend's device memory (views are checked).
// - Work is ordered on the backend's stream; results are ready for copy_to_host, which
//   synchronizes. Nothing else synchronizes implicitly.
// - Sums over rows accumulate in float64 whatever the input type, in an order that does not
//   depend on the number of threads, so a result is reproducible bit for bit on one device.
// - Shapes that do not fit throw tabula::Error naming the primitive and the shapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "tabula/core/device.hpp"
#include "tabula/core/matrix.hpp"

namespace tabula {

enum class Op { kNone, kTranspose };

// ---- Histogram forest: shared argument types (see the forest primitives below) -------------
/// Split criteria. kEntropy also serves scikit-learn's "log_loss" (identical for trees).
enum class ForestCriterion { kGini, kEntropy, kSquaredError };

/// A batch of tree nodes. Node i owns the rows rows[begin[i] .. end[i]) of the row index array
/// and, for histograms and splits, the `features_per_node` features
/// features[i * features_per_node ...]. All views in backend memory; `nodes` entries each.
struct ForestBatch {
  std::int64_t nodes = 0;
  VectorView<const std::int32_t> begin;
  VectorView<const std::int32_t> end;
  VectorView<const std::int32_t> features;  // nodes x features_per_node
  std::int64_t features_per_node = 0;
};

/// Histogram shape: `bins` slots per feature (bin 0 = missing) and `channels` int64 sums per
/// bin. Channel 0 counts rows; classification: channel 1 + c = weight of class c; regression:
/// channel 1 = weight, channel 2 = weight x quantised target. Integer sums make the result
/// independent of summation order (threads, devices).
struct ForestHistShape {
  std::int64_t bins = 0;
  std::int64_t channels = 0;
  /// int64 values per node: features_per_node x bins x channels.
  std::int64_t node_size(std::int64_t features_per_node) const {
    return features_per_node * bins * channels;
  }
};

/// Constraints a split must meet, and how channels are read.
struct ForestSplitRule {
  ForestCriterion criterion = ForestCriterion::kGini;
  std::int64_t min_samples_leaf = 1;  // rows (channel 0) on each side
};

/// Best split per node (written by forest_best_splits), backend memory, `nodes` entries each.
/// feature = -1 when the node has no valid split. A row goes left when its bin is in
/// 1..bin, or it is missing (bin 0) and missing_left is 1. left and total: nodes x channels.
struct ForestSplits {
  VectorView<std::int32_t> feature;
  VectorView<std::int32_t> bin;
  VectorView<std::uint8_t> missing_left;
  VectorView<double> gain;  // weighted impurity decrease, in channel units
  MatrixView<std::int64_t> left;
  MatrixView<std::int64_t> total;
};

/// Where a backend may keep what it derives from a forest's arrays for traversal (the CPU's
/// breadth-first walk layout) from one call to the next. Owned by whoever owns the arrays
/// (RandomForest), who replaces it whenever they change. Safe to use from concurrent calls.
class ForestTraversalCache {
 public:
  /// The entry a backend stored under `key` (its own tag for what it derived), or null.
  std::shared_ptr<const void> find(std::uint64_t key) const {
    std::lock_guard lock(mutex_);
    return key == key_ ? entry_ : nullptr;
  }
  void store(std::uint64_t key, std::shared_ptr<const void> entry) {
    std::lock_guard lock(mutex_);
    key_ = key;
    entry_ = std::move(entry);
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t key_ = 0;
  std::shared_ptr<const void> entry_;
};

/// Trees as plain arrays (backend memory), nodes of all trees concatenated; tree t owns nodes
/// offsets[t] .. offsets[t + 1]. Children are indices within the tree; feature -1 marks a leaf.
/// A row goes left when x <= threshold, or x is NaN and missing_left is 1. values holds
/// value_size float64 per node (class probabilities or the regression value).
struct ForestTrees {
  VectorView<const std::int64_t> offsets;  // n_trees + 1
  VectorView<const std::int32_t> feature;
  VectorView<const float> threshold;
  VectorView<const std::int32_t> left;
  VectorView<const std::int32_t> right;
  VectorView<const std::uint8_t> missing_left;
  VectorView<const double> values;  // nodes x value_size
  std::int64_t value_size = 1;
  /// Optional (host memory): lets forest_predict / forest_apply reuse their preparation of these
  /// exact arrays across calls. Leave null for a view of part of a forest or of arrays that
  /// change while the cache lives.
  ForestTraversalCache* cache = nullptr;
  std::int64_t n_trees() const { return offsets.size - 1; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  /// The concrete device this backend runs on (never auto).
  virtual Device device() const = 0;

  // ---- Memory -------------------------------------------------------------------------------
  /// Allocates `bytes` (aligned to at least 256 bytes) of device memory. Throws DeviceError
  /// when out of memory. Prefer Buffer<T>, which owns the allocation.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* ptr, std::size_t bytes) noexcept = 0;
  /// Host -> device, device -> host and device -> device copies of `bytes`.
  /// copy_to_host returns once the data is in host memory.
  virtual void copy_from_host(void* device_dst, const void* host_src, std::size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) = 0;
  virtual void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes) = 0;
  /// Sets `bytes` bytes to zero.
  virtual void fill_zero(void* device_ptr, std::size_t bytes) = 0;
  /// Waits until all queued work is done.
  virtual void synchronize() = 0;
  /// True when this device's memory is host memory (the CPU): host data can then be used in
  /// place rather than copied (see ResidentMatrix).
  virtual bool uses_host_memory() const { return false; }

  // ---- Sufficient statistics ----------------------------------------------------------------
  /// out (d x d, float64, both triangles) = Xᵀ diag(w) X over the selected rows of x (n x d).
  /// `weights` (length n, indexed by row number, non-negative) may be empty for unit weights.
  virtual void gram(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
                    MatrixView<double> out) = 0;
  virtual void gram(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
                    MatrixView<double> out) = 0;

  /// out (d x k, float64) = Xᵀ diag(w) Y over the selected rows of x (n x d) and y (n x k).
  virtual void cross_product(MatrixView<const float> x, MatrixView<const double> y,
                             VectorView<const double> weights, RowSubset rows,
                             MatrixView<double> out) = 0;
  virtual void cross_product(MatrixView<const double> x, MatrixView<const double> y,
                             VectorView<const double> weights, RowSubset rows,
                             MatrixView<double> out) = 0;

  /// Weighted column means and population variances (ddof = 0) of the selected rows, both
  /// length d, float64, computed in two passes (mean first) so large offsets do not cancel.
  /// With zero total weight, means and variances are NaN.
  virtual void column_moments(MatrixView<const float> x, VectorView<const double> weights,
                              RowSubset rows, VectorView<double> means,
                              VectorView<double> variances) = 0;
  virtual void column_moments(MatrixView<const double> x, VectorView<const double> weights,
                              RowSubset rows, VectorView<double> means,
                              VectorView<double> variances) = 0;

  // ---- Dense linear algebra -----------------------------------------------------------------
  /// c = alpha * op(a) * op(b) + beta * c. Any mix of layouts.
  virtual void gemm(Op op_a, Op op_b, float alpha, MatrixView<const float> a,
                    MatrixView<const float> b, float beta, MatrixView<float> c) = 0;
  virtual void gemm(Op op_a, Op op_b, double alpha, MatrixView<const double> a,
                    MatrixView<const double> b, double beta, MatrixView<double> c) = 0;

  /// y = alpha * op(a) * x + beta * y.
  virtual void gemv(Op op_a, float alpha, MatrixView<const float> a, VectorView<const float> x,
                    float beta, VectorView<float> y) = 0;
  virtual void gemv(Op op_a, double alpha, MatrixView<const double> a, VectorView<const double> x,
                    double beta, VectorView<double> y) = 0;

  /// Solves A X = B for symmetric positive definite A (n x n) and B (n x k), both column-major.
  /// A is overwritten by its Cholesky factor and B by the solution. Returns false, leaving B
  /// unspecified, when A is not numerically positive definite.
  virtual bool cholesky_solve(MatrixView<double> a, MatrixView<double> b) = 0;

  /// Eigendecomposition of symmetric A (n x n, column-major): eigenvalues in ascending order;
  /// A is overwritten by the orthonormal eigenvectors, one per column (signs are arbitrary).
  virtual void symmetric_eigen(MatrixView<double> a, VectorView<double> eigenvalues) = 0;

  // ---- Logistic regression (issue 3: LogisticRegression's Newton and L-BFGS steps) ----------
  /// The weighted log-loss L = Σ_i w_i · logloss_i of a linear logistic model over the selected
  /// rows of x (n x d), its gradient and, optionally, its Hessian in the coefficients.
  /// - y: length n, the class index of each row (0 .. n_classes-1, stored as double).
  /// - n_classes == 2: binary, m = 1 score per row z = θ·[x, 1] and P(class 1) = sigmoid(z).
  ///   n_classes > 2: multinomial, m = n_classes scores z_c = θ_c·[x, 1] and a softmax.
  /// - coef: m * p values, class-major (θ_c = coef[c*p, (c+1)*p)), where p = d + 1 with
  ///   fit_intercept (the intercept is the last entry of each class block) and p = d without.
  /// - gradient: m * p values, overwritten with ∂L/∂coef (same layout as coef).
  /// - hessian: (m*p) x (m*p) column-major, overwritten with ∂²L/∂coef² (both triangles); an
  ///   empty view (data == nullptr) skips it (what L-BFGS needs).
  /// Sums over rows accumulate in float64 in a thread-count-independent order. Returns L on the
  /// host (this synchronizes). No penalty is included: the caller adds it.
  /// The base-class version is the reference: it runs on host memory
  /// (src/backend/cpu/logistic_cpu.cpp) and throws DeviceError for views on another device.
  virtual double logistic_gradient_hessian(MatrixView<const float> x, VectorView<const double> y,
                                           VectorView<const double> weights, RowSubset rows,
                                           int n_classes, bool fit_intercept,
                                           VectorView<const double> coef,
                                           VectorView<double> gradient, MatrixView<double> hessian);

  // ---- Histogram forest (issue 4) -----------------------------------------------------------
  // The base-class versions are the reference: they run on host memory
  // (src/backend/cpu/forest_cpu.cpp) and throw DeviceError when a view is on another device,
  // so a device backend that does not override them fails loudly instead of reading device
  // pointers on the host. Results are bit-identical for any thread count.

  /// codes (n x d, row-major uint8) = bin of x(i, j): 0 when NaN, else 1 + the number of
  /// feature j's edges strictly below x(i, j) (so -inf is bin 1, +inf the last bin). Feature j's
  /// ascending edges are edges[offsets[j] .. offsets[j + 1]) (offsets: d + 1 entries, at most
  /// 254 edges per feature).
  virtual void forest_bin(MatrixView<const float> x, VectorView<const float> edges,
                          VectorView<const std::int32_t> offsets, MatrixView<std::uint8_t> codes);

  /// hist (batch.nodes x node_size) = per node, feature (of the node's list) and bin, the sums
  /// of channels (n x channels, row-major int64) over the node's rows. Overwrites hist.
  virtual void forest_histograms(MatrixView<const std::uint8_t> codes,
                                 VectorView<const std::int32_t> rows,
                                 MatrixView<const std::int64_t> channels, const ForestBatch& batch,
                                 ForestHistShape shape, VectorView<std::int64_t> hist);

  /// Histogram subtraction: hist[dst[i]] = parent_hist[parent[i]] - hist[child[i]] for each i,
  /// where [k] is the k-th slot of `slot_size` values.
  virtual void forest_hist_subtract(VectorView<const std::int64_t> parent_hist,
                                    VectorView<const std::int32_t> parent,
                                    VectorView<const std::int32_t> child,
                                    VectorView<const std::int32_t> dst, std::int64_t slot_size,
                                    VectorView<std::int64_t> hist);

  /// Best split per node of the batch from its histograms (batch.begin/end unused).
  /// n_bins (d entries): bins in use per feature, missing bin included. Ties go to the earlier
  /// feature of the node's list, then the lower bin, then missing-right.
  virtual void forest_best_splits(VectorView<const std::int64_t> hist, const ForestBatch& batch,
                                  ForestHistShape shape, VectorView<const std::int32_t> n_bins,
                                  ForestSplitRule rule, const ForestSplits& out);

  /// Stable in-place partition of each node's rows (batch.features unused): rows going left
  /// (see ForestSplits) first. feature, bin, missing_left: batch.nodes entries; feature >= 0.
  virtual void forest_partition(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                                const ForestBatch& batch, VectorView<const std::int32_t> feature,
                                VectorView<const std::int32_t> bin,
                                VectorView<const std::uint8_t> missing_left);

  /// out (n x value_size, row-major) = mean over trees of the leaf values reached by each row
  /// of x (n x d, float32, NaN = missing). Trees are summed in order, so results do not depend
  /// on the thread count.
  virtual void forest_predict(MatrixView<const float> x, const ForestTrees& trees,
                              MatrixView<double> out);

  /// leaves (n x n_trees, row-major) = index within its tree of the leaf each row reaches.
  virtual void forest_apply(MatrixView<const float> x, const ForestTrees& trees,
                            MatrixView<std::int32_t> leaves);
};

}  // namespace tabula

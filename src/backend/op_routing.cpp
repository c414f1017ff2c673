#include "backend/op_routing.hpp"

#include <spdlog/spdlog.h>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cpu/cpu_backend.hpp"
#include "backend/view_checks.hpp"

namespace tabula {

Backend& host_backend() {
  static cpu::CpuBackend backend;
  return backend;
}

namespace {

// Passes an op's arguments through unchanged: the backend runs the op itself.
struct SameArguments {
  template <typename T>
  T operator()(T value) const {
    return value;
  }
};

// One declined op's arguments as host copies for the CPU backend: every view is copied from the
// device (outputs too: some ops read them first, and the copy back writes the whole span), and
// finish() copies the outputs back. Scalars are passed to the op as they are, not through here.
// Each view is checked with the backend's own view checks before its extent is trusted.
class HostCopies {
 public:
  HostCopies(Backend& device, const char* op) : device_(device), op_(op) {}

  template <typename T>
  MatrixView<T> operator()(MatrixView<T> view) {
    // An absent optional matrix (no Hessian wanted) holds no memory, so it has no device.
    if (view.data != nullptr || !view.empty()) check_matrix(view, device_.device(), op_);
    view.data = mirror(view.data, span(view));
    view.device = Device::cpu();
    return view;
  }
  template <typename T>
  VectorView<T> operator()(VectorView<T> view) {
    check_vector(view, device_.device(), op_);
    view.data = mirror(view.data, static_cast<std::size_t>(view.size));
    view.device = Device::cpu();
    return view;
  }
  RowSubset operator()(RowSubset rows) { return {(*this)(rows.indices)}; }
  ForestBatch operator()(const ForestBatch& batch) {
    ForestBatch out = batch;
    out.begin = (*this)(batch.begin);
    out.end = (*this)(batch.end);
    out.features = (*this)(batch.features);
    return out;
  }
  ForestSplits operator()(const ForestSplits& splits) {
    return {(*this)(splits.feature), (*this)(splits.bin),  (*this)(splits.missing_left),
            (*this)(splits.gain),    (*this)(splits.left), (*this)(splits.total)};
  }
  ForestTrees operator()(const ForestTrees& trees) {
    ForestTrees out = trees;
    out.offsets = (*this)(trees.offsets);
    out.feature = (*this)(trees.feature);
    out.threshold = (*this)(trees.threshold);
    out.left = (*this)(trees.left);
    out.right = (*this)(trees.right);
    out.missing_left = (*this)(trees.missing_left);
    out.values = (*this)(trees.values);
    out.cache = nullptr;  // the copies die with this call: nothing derived from them may stay
    return out;
  }

  /// Copies every output back to the device, in the order the views were given.
  void finish() {
    for (const Output& output : outputs_)
      device_.copy_from_host(output.device_data, output.host_data, output.bytes);
  }

 private:
  struct Output {
    void* device_data;
    const void* host_data;
    std::size_t bytes;
  };

  // Elements from the first to the last of a checked view.
  template <typename T>
  static std::size_t span(const MatrixView<T>& view) {
    if (view.data == nullptr || view.empty()) return 0;
    const std::int64_t outer = view.is_row_major() ? view.rows : view.cols;
    const std::int64_t inner = view.is_row_major() ? view.cols : view.rows;
    return static_cast<std::size_t>((outer - 1) * view.stride + inner);
  }

  // A host copy of `count` elements at `data` in device memory; outputs are remembered.
  template <typename T>
  T* mirror(T* data, std::size_t count) {
    if (data == nullptr || count == 0) return data;
    const std::size_t bytes = count * sizeof(T);
    auto& copy = copies_.emplace_back(std::make_unique<std::byte[]>(bytes));
    device_.copy_to_host(copy.get(), data, bytes);
    if constexpr (!std::is_const_v<T>) outputs_.push_back({data, copy.get(), bytes});
    return reinterpret_cast<T*>(copy.get());
  }

  Backend& device_;
  const char* op_;
  std::vector<std::unique_ptr<std::byte[]>> copies_;
  std::vector<Output> outputs_;
};

// Runs `op` through `call(ops, arguments)`: on the backend's own family when it supports the
// op, else on the CPU backend's with host copies of the arguments.
template <typename Family, typename Call>
decltype(auto) route(OpRouting& routing, Family* native, Family& (Backend::*family)(), BackendOp op,
                     Call&& call) {
  if (native != nullptr && routing.runs_natively(op)) return call(*native, SameArguments{});
  HostCopies copies(routing.backend(), to_string(op));
  Family& host = (host_backend().*family)();
  if constexpr (std::is_void_v<decltype(call(host, copies))>) {
    call(host, copies);
    copies.finish();
  } else {
    auto result = call(host, copies);
    copies.finish();
    return result;
  }
}

// A family's router: each op runs through run(op, call), natively or on the CPU (route).
template <typename Family, Family& (Backend::*kFamily)()>
class Router : public Family {
 public:
  Router(OpRouting& routing, Family* native) : routing_(routing), native_(native) {}

 protected:
  template <typename Call>
  decltype(auto) run(BackendOp op, Call&& call) {
    return route(routing_, native_, kFamily, op, std::forward<Call>(call));
  }

 private:
  OpRouting& routing_;
  Family* native_;
};

class LinalgRouter final : public Router<LinalgOps, &Backend::linalg> {
 public:
  using Router::Router;

  void gram(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
            MatrixView<double> out) override {
    run(BackendOp::kGram,
        [&](LinalgOps& ops, auto&& a) { ops.gram(a(x), a(weights), a(rows), a(out)); });
  }
  void gram(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
            MatrixView<double> out) override {
    run(BackendOp::kGram,
        [&](LinalgOps& ops, auto&& a) { ops.gram(a(x), a(weights), a(rows), a(out)); });
  }
  void cross_product(MatrixView<const float> x, MatrixView<const double> y,
                     VectorView<const double> weights, RowSubset rows,
                     MatrixView<double> out) override {
    run(BackendOp::kCrossProduct, [&](LinalgOps& ops, auto&& a) {
      ops.cross_product(a(x), a(y), a(weights), a(rows), a(out));
    });
  }
  void cross_product(MatrixView<const double> x, MatrixView<const double> y,
                     VectorView<const double> weights, RowSubset rows,
                     MatrixView<double> out) override {
    run(BackendOp::kCrossProduct, [&](LinalgOps& ops, auto&& a) {
      ops.cross_product(a(x), a(y), a(weights), a(rows), a(out));
    });
  }
  void column_moments(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
                      VectorView<double> means, VectorView<double> variances) override {
    run(BackendOp::kColumnMoments, [&](LinalgOps& ops, auto&& a) {
      ops.column_moments(a(x), a(weights), a(rows), a(means), a(variances));
    });
  }
  void column_moments(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
                      VectorView<double> means, VectorView<double> variances) override {
    run(BackendOp::kColumnMoments, [&](LinalgOps& ops, auto&& a) {
      ops.column_moments(a(x), a(weights), a(rows), a(means), a(variances));
    });
  }
  void gemm(Op op_a, Op op_b, float alpha, MatrixView<const float> a_, MatrixView<const float> b,
            float beta, MatrixView<float> c) override {
    run(BackendOp::kGemm,
        [&](LinalgOps& ops, auto&& a) { ops.gemm(op_a, op_b, alpha, a(a_), a(b), beta, a(c)); });
  }
  void gemm(Op op_a, Op op_b, double alpha, MatrixView<const double> a_, MatrixView<const double> b,
            double beta, MatrixView<double> c) override {
    run(BackendOp::kGemm,
        [&](LinalgOps& ops, auto&& a) { ops.gemm(op_a, op_b, alpha, a(a_), a(b), beta, a(c)); });
  }
  void gemv(Op op_a, float alpha, MatrixView<const float> a_, VectorView<const float> x, float beta,
            VectorView<float> y) override {
    run(BackendOp::kGemv,
        [&](LinalgOps& ops, auto&& a) { ops.gemv(op_a, alpha, a(a_), a(x), beta, a(y)); });
  }
  void gemv(Op op_a, double alpha, MatrixView<const double> a_, VectorView<const double> x,
            double beta, VectorView<double> y) override {
    run(BackendOp::kGemv,
        [&](LinalgOps& ops, auto&& a) { ops.gemv(op_a, alpha, a(a_), a(x), beta, a(y)); });
  }
  bool cholesky_solve(MatrixView<double> a_, MatrixView<double> b) override {
    return run(BackendOp::kCholeskySolve,
               [&](LinalgOps& ops, auto&& a) { return ops.cholesky_solve(a(a_), a(b)); });
  }
  void symmetric_eigen(MatrixView<double> a_, VectorView<double> eigenvalues) override {
    run(BackendOp::kSymmetricEigen,
        [&](LinalgOps& ops, auto&& a) { ops.symmetric_eigen(a(a_), a(eigenvalues)); });
  }
};

class LogisticRouter final : public Router<LogisticOps, &Backend::logistic> {
 public:
  using Router::Router;

  double gradient_hessian(MatrixView<const float> x, VectorView<const double> y,
                          VectorView<const double> weights, RowSubset rows, int n_classes,
                          bool fit_intercept, VectorView<const double> coef,
                          VectorView<double> gradient, MatrixView<double> hessian) override {
    return run(BackendOp::kLogisticGradientHessian, [&](LogisticOps& ops, auto&& a) {
      return ops.gradient_hessian(a(x), a(y), a(weights), a(rows), n_classes, fit_intercept,
                                  a(coef), a(gradient), a(hessian));
    });
  }
};

class ForestRouter final : public Router<ForestOps, &Backend::forest> {
 public:
  using Router::Router;

  void bin(MatrixView<const float> x, VectorView<const float> edges,
           VectorView<const std::int32_t> offsets, MatrixView<std::uint8_t> codes) override {
    run(BackendOp::kForestBin,
        [&](ForestOps& ops, auto&& a) { ops.bin(a(x), a(edges), a(offsets), a(codes)); });
  }
  void histograms(MatrixView<const std::uint8_t> codes, VectorView<const std::int32_t> rows,
                  MatrixView<const std::int64_t> channels, const ForestBatch& batch,
                  ForestHistShape shape, VectorView<std::int64_t> hist) override {
    run(BackendOp::kForestHistograms, [&](ForestOps& ops, auto&& a) {
      ops.histograms(a(codes), a(rows), a(channels), a(batch), shape, a(hist));
    });
  }
  void hist_subtract(VectorView<const std::int64_t> parent_hist,
                     VectorView<const std::int32_t> parent, VectorView<const std::int32_t> child,
                     VectorView<const std::int32_t> dst, std::int64_t slot_size,
                     VectorView<std::int64_t> hist) override {
    run(BackendOp::kForestHistSubtract, [&](ForestOps& ops, auto&& a) {
      ops.hist_subtract(a(parent_hist), a(parent), a(child), a(dst), slot_size, a(hist));
    });
  }
  void best_splits(VectorView<const std::int64_t> hist, const ForestBatch& batch,
                   ForestHistShape shape, VectorView<const std::int32_t> n_bins,
                   ForestSplitRule rule, const ForestSplits& out) override {
    run(BackendOp::kForestBestSplits, [&](ForestOps& ops, auto&& a) {
      ops.best_splits(a(hist), a(batch), shape, a(n_bins), rule, a(out));
    });
  }
  void partition(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                 const ForestBatch& batch, VectorView<const std::int32_t> feature,
                 VectorView<const std::int32_t> bin,
                 VectorView<const std::uint8_t> missing_left) override {
    run(BackendOp::kForestPartition, [&](ForestOps& ops, auto&& a) {
      ops.partition(a(codes), a(rows), a(batch), a(feature), a(bin), a(missing_left));
    });
  }
  void predict(MatrixView<const float> x, const ForestTrees& trees,
               MatrixView<double> out) override {
    run(BackendOp::kForestPredict,
        [&](ForestOps& ops, auto&& a) { ops.predict(a(x), a(trees), a(out)); });
  }
  void apply(MatrixView<const float> x, const ForestTrees& trees,
             MatrixView<std::int32_t> leaves) override {
    run(BackendOp::kForestApply,
        [&](ForestOps& ops, auto&& a) { ops.apply(a(x), a(trees), a(leaves)); });
  }
};

// Whether `backend` runs every op of `family` itself.
bool supports_family(const Backend& backend, BackendOpFamily family) {
  for (const BackendOpInfo& op : kBackendOps)
    if (op.family == family && !backend.supports(op.op)) return false;
  return true;
}

// The backend's own family where it runs all of it, else a router owned by `router`.
template <typename Family, typename Router>
Family* resolve(OpRouting& routing, Family* native, BackendOpFamily family,
                std::unique_ptr<Family>& router) {
  if (native != nullptr && supports_family(routing.backend(), family)) return native;
  router = std::make_unique<Router>(routing, native);
  return router.get();
}

}  // namespace

OpRouting::OpRouting(Backend& backend) : backend_(backend) {
  linalg_ = resolve<LinalgOps, LinalgRouter>(*this, backend.native_linalg(),
                                             BackendOpFamily::kLinalg, linalg_router_);
  logistic_ = resolve<LogisticOps, LogisticRouter>(*this, backend.native_logistic(),
                                                   BackendOpFamily::kLogistic, logistic_router_);
  forest_ = resolve<ForestOps, ForestRouter>(*this, backend.native_forest(),
                                             BackendOpFamily::kForest, forest_router_);
}

OpRouting::~OpRouting() = default;

bool OpRouting::runs_natively(BackendOp op) {
  if (backend_.supports(op)) return true;
  std::call_once(logged_[static_cast<std::size_t>(op)], [&] {
    spdlog::info("{}: {} runs on the CPU (this backend does not support it)",
                 backend_.device().to_string(), to_string(op));
  });
  return false;
}

// ---- Backend's op access --------------------------------------------------------------------

Backend::Backend() = default;
Backend::~Backend() = default;

OpRouting& Backend::routing() {
  std::call_once(routing_once_, [&] { routing_ = std::make_unique<OpRouting>(*this); });
  return *routing_;
}

LinalgOps& Backend::linalg() { return routing().linalg(); }
LogisticOps& Backend::logistic() { return routing().logistic(); }
ForestOps& Backend::forest() { return routing().forest(); }

}  // namespace tabula

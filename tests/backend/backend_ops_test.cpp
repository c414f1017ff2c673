// Every backend op, on every backend that can run it, against the CPU backend (as ggml's
// test-backend-ops does). The table below has one entry per BackendOp, and a test fails when an
// op has none, so a new op is tested by being registered. Each entry builds its inputs on a
// backend from a seed and a shape number, runs the op and returns its outputs as doubles.
//
// The backends: a CUDA device where one is usable (else its cases skip and say why), and two
// host test backends with memory of their own that each run half the ops and decline the other
// half. A declined op must run on the CPU through host copies (Backend::supports), give the
// CPU's results bit for bit, and log one line per op; a supported op must not copy.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "backend/cpu/cpu_backend.hpp"
#include "backend/op_routing.hpp"
#include "parity_data.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
// How gtest prints an op in failure messages.
void PrintTo(BackendOp op, std::ostream* os) { *os << to_string(op); }
}  // namespace tabula

namespace tabula::testing {
namespace {

// ---- A host backend that runs only some ops ---------------------------------------------------

// Memory of its own (not used in place: uses_host_memory() is false), every copy counted, and
// the CPU's ops for the ones it supports.
class PartialBackend final : public Backend {
 public:
  explicit PartialBackend(std::function<bool(BackendOp)> supported)
      : supported_(std::move(supported)) {}

  Device device() const override { return Device::cpu(); }
  void* allocate(std::size_t bytes) override { return inner_.allocate(bytes); }
  void deallocate(void* ptr, std::size_t bytes) noexcept override { inner_.deallocate(ptr, bytes); }
  void copy_from_host(void* dst, const void* src, std::size_t bytes) override {
    ++copies;
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void copy_to_host(void* dst, const void* src, std::size_t bytes) override {
    ++copies;
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void copy_on_device(void* dst, const void* src, std::size_t bytes) override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void fill_zero(void* ptr, std::size_t bytes) override {
    if (bytes > 0) std::memset(ptr, 0, bytes);
  }
  void synchronize() override {}
  bool supports(BackendOp op) const override { return supported_(op); }

  std::int64_t copies = 0;

 protected:
  LinalgOps* native_linalg() override { return &inner_.linalg(); }
  LogisticOps* native_logistic() override { return &inner_.logistic(); }
  ForestOps* native_forest() override { return &inner_.forest(); }

 private:
  std::function<bool(BackendOp)> supported_;
  cpu::CpuBackend inner_;
};

// ---- Inputs ------------------------------------------------------------------------------------

template <typename T>
Buffer<T> upload(Backend& b, const std::vector<T>& host) {
  return Buffer<T>::from_host(b, std::span<const T>(host));
}
template <typename T>
std::vector<double> as_doubles(const Buffer<T>& buffer) {
  const std::vector<T> host = buffer.to_host();
  return {host.begin(), host.end()};
}
void append(std::vector<double>& out, const std::vector<double>& more) {
  out.insert(out.end(), more.begin(), more.end());
}
template <typename T>
std::vector<T> uniform(std::int64_t n, std::mt19937_64& rng, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (T& x : v) x = static_cast<T>(u(rng));
  return v;
}
template <typename T>
std::vector<T> integers(std::int64_t n, std::int64_t lo, std::int64_t hi, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> u(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (T& x : v) x = static_cast<T>(u(rng));
  return v;
}

// Three shapes per op: tiny, odd, and large enough to span several CPU row blocks.
constexpr int kShapes = 3;
std::int64_t rows_for(int shape) { return shape == 0 ? 1 : shape == 1 ? 37 : 5000; }
std::int64_t cols_for(int shape) { return shape == 0 ? 3 : shape == 1 ? 5 : 17; }

// One op's case: inputs from (shape, seed) on a backend, the call, the outputs.
using OpRun = std::function<std::vector<double>(Backend&, int shape, std::mt19937_64& rng)>;

struct OpEntry {
  BackendOp op;
  double tolerance;  // relative, for backends whose arithmetic differs from the CPU's; 0: exact
  OpRun run;
};

// ---- Linear algebra ----------------------------------------------------------------------------

template <typename T>
std::vector<double> run_statistics(Backend& b, int shape, std::mt19937_64& rng, BackendOp op) {
  const std::int64_t n = rows_for(shape), d = cols_for(shape);
  const Layout layout = shape == 1 ? Layout::kColMajor : Layout::kRowMajor;
  const auto x = upload(b, uniform<T>(n * d, rng));
  const MatrixView<const T> xv = x.matrix(n, d, layout);
  auto w = upload(b, uniform<double>(n, rng, 0.0, 2.0));
  auto rows = upload(b, integers<std::int64_t>(2 * n, 0, n - 1, rng));
  const VectorView<const double> weights = shape == 0 ? VectorView<const double>{} : w.view();
  const RowSubset subset = shape == 2 ? RowSubset{rows.view()} : RowSubset::all();
  std::vector<double> out;
  if (op == BackendOp::kGram) {
    auto g = Buffer<double>::zeros(b, d * d);
    b.linalg().gram(xv, weights, subset, g.matrix(d, d, Layout::kColMajor));
    out = as_doubles(g);
  } else if (op == BackendOp::kCrossProduct) {
    auto y = upload(b, uniform<double>(n * 2, rng));
    auto c = Buffer<double>::zeros(b, d * 2);
    b.linalg().cross_product(xv, std::as_const(y).matrix(n, 2, layout), weights, subset,
                             c.matrix(d, 2, Layout::kColMajor));
    out = as_doubles(c);
  } else {
    auto means = Buffer<double>::zeros(b, d), variances = Buffer<double>::zeros(b, d);
    b.linalg().column_moments(xv, weights, subset, means.view(), variances.view());
    out = as_doubles(means);
    append(out, as_doubles(variances));
  }
  return out;
}

template <typename T>
std::vector<double> run_gemm(Backend& b, int shape, std::mt19937_64& rng) {
  const std::int64_t m = cols_for(shape), n = cols_for(shape) + 2, k = rows_for(shape) % 97 + 1;
  const Op op_a = shape == 1 ? Op::kTranspose : Op::kNone;
  auto a = upload(b, uniform<T>(m * k, rng));
  auto bb = upload(b, uniform<T>(k * n, rng));
  auto c = upload(b, uniform<T>(m * n, rng));
  const auto av = op_a == Op::kNone ? std::as_const(a).matrix(m, k, Layout::kColMajor)
                                    : std::as_const(a).matrix(k, m, Layout::kRowMajor);
  b.linalg().gemm(op_a, Op::kNone, T(1.5), av, std::as_const(bb).matrix(k, n, Layout::kColMajor),
                  T(0.5), c.matrix(m, n, Layout::kColMajor));
  return as_doubles(c);
}

template <typename T>
std::vector<double> run_gemv(Backend& b, int shape, std::mt19937_64& rng) {
  const std::int64_t m = rows_for(shape) % 101 + 1, n = cols_for(shape);
  const Op op = shape == 2 ? Op::kTranspose : Op::kNone;
  auto a = upload(b, uniform<T>(m * n, rng));
  auto x = upload(b, uniform<T>(op == Op::kNone ? n : m, rng));
  auto y = upload(b, uniform<T>(op == Op::kNone ? m : n, rng));
  b.linalg().gemv(op, T(2), std::as_const(a).matrix(m, n, Layout::kRowMajor), x.view(), T(-1),
                  y.view());
  return as_doubles(y);
}

// A symmetric positive definite n x n matrix (column-major): B Bᵀ + n I.
std::vector<double> spd(std::int64_t n, std::mt19937_64& rng) {
  const std::vector<double> m = uniform<double>(n * n, rng);
  std::vector<double> a(static_cast<std::size_t>(n * n), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = i == j ? static_cast<double>(n) : 0.0;
      for (std::int64_t t = 0; t < n; ++t) s += m[i * n + t] * m[j * n + t];
      a[j * n + i] = s;
    }
  return a;
}

std::vector<double> run_cholesky(Backend& b, int shape, std::mt19937_64& rng) {
  const std::int64_t n = cols_for(shape) + 1, k = shape + 1;
  auto a = upload(b, spd(n, rng));
  auto rhs = upload(b, uniform<double>(n * k, rng));
  const bool ok = b.linalg().cholesky_solve(a.matrix(n, n, Layout::kColMajor),
                                            rhs.matrix(n, k, Layout::kColMajor));
  std::vector<double> out{ok ? 1.0 : 0.0};
  append(out, as_doubles(rhs));
  return out;
}

std::vector<double> run_eigen(Backend& b, int shape, std::mt19937_64& rng) {
  const std::int64_t n = cols_for(shape) + 1;
  auto a = upload(b, spd(n, rng));
  auto values = Buffer<double>::zeros(b, n);
  b.linalg().symmetric_eigen(a.matrix(n, n, Layout::kColMajor), values.view());
  // Eigenvector signs are arbitrary: compare |v|.
  std::vector<double> out = as_doubles(values);
  for (double v : as_doubles(a)) out.push_back(std::abs(v));
  return out;
}

// ---- Logistic ----------------------------------------------------------------------------------

std::vector<double> run_logistic(Backend& b, int shape, std::mt19937_64& rng) {
  const std::int64_t n = rows_for(shape), d = cols_for(shape);
  const int classes = shape == 1 ? 3 : 2;
  const bool intercept = shape != 0;
  const std::int64_t p = d + (intercept ? 1 : 0), mp = (classes == 2 ? 1 : classes) * p;
  auto x = upload(b, uniform<float>(n * d, rng));
  auto y = upload(b, integers<double>(n, 0, classes - 1, rng));
  auto w = upload(b, uniform<double>(n, rng, 0.0, 2.0));
  auto coef = upload(b, uniform<double>(mp, rng, -0.5, 0.5));
  auto gradient = Buffer<double>::zeros(b, mp);
  auto hessian = Buffer<double>::zeros(b, mp * mp);
  const double loss = b.logistic().gradient_hessian(
      std::as_const(x).matrix(n, d, Layout::kRowMajor), y.view(), w.view(), RowSubset::all(),
      classes, intercept, coef.view(), gradient.view(), hessian.matrix(mp, mp, Layout::kColMajor));
  std::vector<double> out{loss};
  append(out, as_doubles(gradient));
  append(out, as_doubles(hessian));
  return out;
}

// ---- Forest ------------------------------------------------------------------------------------

constexpr std::int64_t kBins = 8;  // bins per feature in the generated codes, missing bin 0

// Codes (n x d) in 0..kBins-1, channels (n x k: count, then class weights), all rows in one
// node per `nodes` equal parts, features drawn per node.
struct ForestInputs {
  std::int64_t n = 0, d = 0, k = 0, nodes = 0, m = 0;
  Buffer<std::uint8_t> codes;
  Buffer<std::int32_t> rows, begin, end, features;
  Buffer<std::int64_t> channels;
};

ForestInputs forest_inputs(Backend& b, int shape, std::mt19937_64& rng) {
  ForestInputs in;
  in.n = rows_for(shape) + 3;
  in.d = cols_for(shape);
  in.k = 3 + shape;
  in.nodes = shape + 1;
  in.m = std::min<std::int64_t>(in.d, 2 + shape);
  in.codes = upload(b, integers<std::uint8_t>(in.n * in.d, 0, kBins - 1, rng));
  std::vector<std::int32_t> rows(static_cast<std::size_t>(in.n));
  for (std::int64_t i = 0; i < in.n; ++i) rows[i] = static_cast<std::int32_t>(in.n - 1 - i);
  in.rows = upload(b, rows);
  std::vector<std::int32_t> begin, end, features;
  for (std::int64_t t = 0; t < in.nodes; ++t) {
    begin.push_back(static_cast<std::int32_t>(in.n * t / in.nodes));
    end.push_back(static_cast<std::int32_t>(in.n * (t + 1) / in.nodes));
    std::vector<std::int32_t> all(static_cast<std::size_t>(in.d));
    for (std::int64_t j = 0; j < in.d; ++j) all[j] = static_cast<std::int32_t>(j);
    std::shuffle(all.begin(), all.end(), rng);
    features.insert(features.end(), all.begin(), all.begin() + in.m);
  }
  in.begin = upload(b, begin);
  in.end = upload(b, end);
  in.features = upload(b, features);
  std::vector<std::int64_t> channels = integers<std::int64_t>(in.n * in.k, 0, 5, rng);
  for (std::int64_t i = 0; i < in.n; ++i) channels[i * in.k] = 1;  // channel 0 counts rows
  in.channels = upload(b, channels);
  return in;
}

ForestBatch batch_of(const ForestInputs& in) {
  return {in.nodes, in.begin.view(), in.end.view(), in.features.view(), in.m};
}

Buffer<std::int64_t> histograms_of(Backend& b, const ForestInputs& in) {
  const ForestHistShape shape{kBins, in.k};
  auto hist = Buffer<std::int64_t>::zeros(b, in.nodes * shape.node_size(in.m));
  b.forest().histograms(in.codes.matrix(in.n, in.d, Layout::kRowMajor), in.rows.view(),
                        in.channels.matrix(in.n, in.k, Layout::kRowMajor), batch_of(in), shape,
                        hist.view());
  return hist;
}

std::vector<double> run_bin(Backend& b, int shape, std::mt19937_64& rng) {
  const std::int64_t n = rows_for(shape), d = cols_for(shape);
  std::vector<float> x = uniform<float>(n * d, rng, -3.0, 3.0);
  for (std::int64_t i = 0; i < n * d; i += 7) x[i] = std::nanf("");
  std::vector<float> edges;
  std::vector<std::int32_t> offsets{0};
  for (std::int64_t j = 0; j < d; ++j) {
    std::vector<float> e = uniform<float>(j % 4 * 3, rng, -3.0, 3.0);
    std::sort(e.begin(), e.end());
    e.erase(std::unique(e.begin(), e.end()), e.end());
    edges.insert(edges.end(), e.begin(), e.end());
    offsets.push_back(static_cast<std::int32_t>(edges.size()));
  }
  auto xd = upload(b, x);
  auto ed = upload(b, edges);
  auto od = upload(b, offsets);
  auto codes = Buffer<std::uint8_t>::zeros(b, n * d);
  b.forest().bin(std::as_const(xd).matrix(n, d, Layout::kRowMajor), ed.view(), od.view(),
                 codes.matrix(n, d, Layout::kRowMajor));
  return as_doubles(codes);
}

std::vector<double> run_histograms(Backend& b, int shape, std::mt19937_64& rng) {
  const ForestInputs in = forest_inputs(b, shape, rng);
  return as_doubles(histograms_of(b, in));
}

std::vector<double> run_hist_subtract(Backend& b, int shape, std::mt19937_64& rng) {
  const std::int64_t slot = 3 + shape, slots = 4;
  auto parent = upload(b, integers<std::int64_t>(slot * slots, 10, 20, rng));
  auto hist = upload(b, integers<std::int64_t>(slot * slots, 0, 9, rng));
  auto pi = upload(b, std::vector<std::int32_t>{3, 1});
  auto ci = upload(b, std::vector<std::int32_t>{0, 2});
  auto di = upload(b, std::vector<std::int32_t>{1, 3});
  b.forest().hist_subtract(parent.view(), pi.view(), ci.view(), di.view(), slot, hist.view());
  return as_doubles(hist);
}

std::vector<double> run_best_splits(Backend& b, int shape, std::mt19937_64& rng) {
  const ForestInputs in = forest_inputs(b, shape, rng);
  Buffer<std::int64_t> hist = histograms_of(b, in);
  std::vector<std::int32_t> n_bins(static_cast<std::size_t>(in.d), kBins);
  auto nb = upload(b, n_bins);
  auto feature = Buffer<std::int32_t>::zeros(b, in.nodes);
  auto bin = Buffer<std::int32_t>::zeros(b, in.nodes);
  auto missing_left = Buffer<std::uint8_t>::zeros(b, in.nodes);
  auto gain = Buffer<double>::zeros(b, in.nodes);
  auto left = Buffer<std::int64_t>::zeros(b, in.nodes * in.k);
  auto total = Buffer<std::int64_t>::zeros(b, in.nodes * in.k);
  const ForestSplitRule rule{shape == 2 ? ForestCriterion::kEntropy : ForestCriterion::kGini, 1};
  b.forest().best_splits(std::as_const(hist).view(), batch_of(in), {kBins, in.k}, nb.view(), rule,
                         {feature.view(), bin.view(), missing_left.view(), gain.view(),
                          left.matrix(in.nodes, in.k, Layout::kRowMajor),
                          total.matrix(in.nodes, in.k, Layout::kRowMajor)});
  std::vector<double> out = as_doubles(feature);
  for (const auto& part : {as_doubles(bin), as_doubles(missing_left), as_doubles(gain),
                           as_doubles(left), as_doubles(total)})
    append(out, part);
  return out;
}

std::vector<double> run_partition(Backend& b, int shape, std::mt19937_64& rng) {
  ForestInputs in = forest_inputs(b, shape, rng);
  auto feature = upload(b, integers<std::int32_t>(in.nodes, 0, in.d - 1, rng));
  auto bin = upload(b, integers<std::int32_t>(in.nodes, 1, kBins - 2, rng));
  auto missing_left = upload(b, integers<std::uint8_t>(in.nodes, 0, 1, rng));
  // Odd shapes: categorical splits, a random bin set per node instead of bin and missing_left.
  auto left_bins =
      upload(b, integers<std::uint8_t>(in.nodes * kForestCategorySetBytes, 0, 255, rng));
  ForestBatch batch = batch_of(in);
  if (shape % 2 == 1) batch.left_bins = std::as_const(left_bins).view();
  b.forest().partition(in.codes.matrix(in.n, in.d, Layout::kRowMajor), in.rows.view(), batch,
                       feature.view(), bin.view(), missing_left.view());
  return as_doubles(in.rows);
}

// Complete trees of depth 3 (7 nodes, breadth-first), `trees` of them, values of size 2; with
// `categorical`, every other split node a categorical split with a random category set.
struct TreeArrays {
  std::int64_t trees;
  Buffer<std::int64_t> offsets;
  Buffer<std::int32_t> feature, left, right;
  Buffer<float> threshold;
  Buffer<std::uint8_t> missing_left;
  Buffer<double> values;
  Buffer<std::int32_t> category_set;
  Buffer<std::uint8_t> category_bits;

  ForestTrees view() const {
    return {offsets.view(),      feature.view(),      threshold.view(), left.view(),
            right.view(),        missing_left.view(), values.view(),    2,
            category_set.view(), category_bits.view()};
  }
};

TreeArrays random_trees(Backend& b, std::int64_t trees, std::int64_t d, std::mt19937_64& rng,
                        bool categorical = false) {
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> feature, left, right;
  std::vector<float> threshold;
  std::vector<std::uint8_t> missing_left;
  std::vector<std::int32_t> category_set;
  std::int32_t sets = 0;
  for (std::int64_t t = 0; t < trees; ++t) {
    for (std::int32_t i = 0; i < 7; ++i) {
      const bool leaf = i >= 3;
      feature.push_back(leaf ? -1 : static_cast<std::int32_t>(rng() % d));
      left.push_back(leaf ? -1 : 2 * i + 1);
      right.push_back(leaf ? -1 : 2 * i + 2);
      threshold.push_back(leaf ? 0.0f : static_cast<float>(uniform<double>(1, rng)[0]));
      missing_left.push_back(static_cast<std::uint8_t>(rng() % 2));
      if (categorical) category_set.push_back(!leaf && i % 2 == 0 ? sets++ : -1);
    }
    offsets.push_back(offsets.back() + 7);
  }
  return {trees,
          upload(b, offsets),
          upload(b, feature),
          upload(b, left),
          upload(b, right),
          upload(b, threshold),
          upload(b, missing_left),
          upload(b, uniform<double>(trees * 7 * 2, rng, 0.0, 1.0)),
          upload(b, category_set),
          upload(b, integers<std::uint8_t>(sets * kForestCategorySetBytes, 0, 255, rng))};
}

std::vector<double> run_traversal(Backend& b, int shape, std::mt19937_64& rng, BackendOp op) {
  const std::int64_t n = rows_for(shape), d = cols_for(shape), trees = 1 + 4 * shape;
  // Odd shapes: categorical splits, read on codes 0..299 with some negatives and fractions.
  const bool categorical = shape % 2 == 1;
  const TreeArrays forest = random_trees(b, trees, d, rng, categorical);
  std::vector<float> x = uniform<float>(n * d, rng);
  if (categorical)
    for (std::int64_t i = 0; i < n * d; ++i)
      x[i] = i % 11 == 3 ? -1.0f : i % 13 == 4 ? 2.5f : std::floor(x[i] * 300.0f);
  for (std::int64_t i = 0; i < n * d; i += 5) x[i] = std::nanf("");
  auto xd = upload(b, x);
  const auto xv = std::as_const(xd).matrix(n, d, Layout::kRowMajor);
  if (op == BackendOp::kForestPredict) {
    auto out = Buffer<double>::zeros(b, n * 2);
    b.forest().predict(xv, forest.view(), out.matrix(n, 2, Layout::kRowMajor));
    return as_doubles(out);
  }
  auto leaves = Buffer<std::int32_t>::zeros(b, n * trees);
  b.forest().apply(xv, forest.view(), leaves.matrix(n, trees, Layout::kRowMajor));
  return as_doubles(leaves);
}

// ---- The table
// -----------------------------------------------------------------------------------

std::vector<OpEntry> op_table() {
  auto both_types = [](auto run_float, auto run_double) -> OpRun {
    return [=](Backend& b, int shape, std::mt19937_64& rng) {
      std::vector<double> out = run_float(b, shape, rng);
      append(out, run_double(b, shape, rng));
      return out;
    };
  };
  auto stats = [both_types](BackendOp op) {
    return both_types(
        [op](Backend& b, int s, std::mt19937_64& r) { return run_statistics<float>(b, s, r, op); },
        [op](Backend& b, int s, std::mt19937_64& r) {
          return run_statistics<double>(b, s, r, op);
        });
  };
  auto traversal = [](BackendOp op) -> OpRun {
    return [op](Backend& b, int s, std::mt19937_64& r) { return run_traversal(b, s, r, op); };
  };
  return {
      {BackendOp::kGram, 1e-10, stats(BackendOp::kGram)},
      {BackendOp::kCrossProduct, 1e-10, stats(BackendOp::kCrossProduct)},
      {BackendOp::kColumnMoments, 1e-10, stats(BackendOp::kColumnMoments)},
      {BackendOp::kGemm, 1e-5, both_types(run_gemm<float>, run_gemm<double>)},
      {BackendOp::kGemv, 1e-5, both_types(run_gemv<float>, run_gemv<double>)},
      {BackendOp::kCholeskySolve, 1e-10, run_cholesky},
      {BackendOp::kSymmetricEigen, 1e-9, run_eigen},
      {BackendOp::kLogisticGradientHessian, 1e-10, run_logistic},
      {BackendOp::kForestBin, 0.0, run_bin},
      {BackendOp::kForestHistograms, 0.0, run_histograms},
      {BackendOp::kForestHistSubtract, 0.0, run_hist_subtract},
      {BackendOp::kForestBestSplits, 0.0, run_best_splits},
      {BackendOp::kForestPartition, 0.0, run_partition},
      {BackendOp::kForestPredict, 0.0, traversal(BackendOp::kForestPredict)},
      {BackendOp::kForestApply, 0.0, traversal(BackendOp::kForestApply)},
  };
}

const OpEntry* entry_for(BackendOp op) {
  static const std::vector<OpEntry> table = op_table();
  for (const OpEntry& e : table)
    if (e.op == op) return &e;
  return nullptr;
}

std::vector<double> run_case(const OpEntry& entry, Backend& backend, int shape) {
  std::mt19937_64 rng(1000 + 17 * static_cast<std::uint64_t>(entry.op) + shape);
  return entry.run(backend, shape, rng);
}

void expect_close(const std::vector<double>& want, const std::vector<double>& got,
                  double tolerance) {
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (tolerance == 0.0 || std::isnan(want[i])) {
      ASSERT_TRUE(want[i] == got[i] || (std::isnan(want[i]) && std::isnan(got[i])))
          << "element " << i << ": cpu " << want[i] << ", got " << got[i];
    } else {
      ASSERT_NEAR(want[i], got[i], tolerance * std::max(1.0, std::abs(want[i]))) << "element " << i;
    }
  }
}

// Log lines of spdlog's default logger while this lives.
class CapturedLog {
 public:
  CapturedLog()
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_)),
        previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("captured", sink_);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// ---- Tests
// ---------------------------------------------------------------------------------------

TEST(BackendOps, EveryOpHasATableEntry) {
  for (const BackendOpInfo& op : kBackendOps)
    EXPECT_NE(entry_for(op.op), nullptr) << "no test entry for backend op " << op.name;
}

// The fallback trusts no view's extent: its size decides how much is copied, so a malformed view
// is refused by the backends' view checks (tabula::Error naming the fault), never turned into a
// huge allocation or a copy past the data.
TEST(BackendOps, DeclinedOpsCheckViewsBeforeCopying) {
  PartialBackend partial([](BackendOp op) { return op != BackendOp::kGram; });
  auto x = upload(partial, std::vector<float>(12, 1.0f));
  auto out = Buffer<double>::zeros(partial, 16);
  MatrixView<const float> bad = std::as_const(x).matrix(3, 4, Layout::kRowMajor);
  bad.stride = 2;  // shorter than a row
  try {
    partial.linalg().gram(bad, {}, RowSubset::all(), out.matrix(4, 4, Layout::kColMajor));
    FAIL() << "a view with a stride shorter than its rows was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stride"), std::string::npos) << e.what();
  }
  VectorView<const double> negative = std::as_const(out).view();
  negative.size = -1;
  try {
    partial.linalg().gram(std::as_const(x).matrix(3, 4, Layout::kRowMajor), negative,
                          RowSubset::all(), out.matrix(4, 4, Layout::kColMajor));
    FAIL() << "a vector of size -1 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("negative size"), std::string::npos) << e.what();
  }
}

class BackendOpsTest : public ::testing::TestWithParam<BackendOp> {};

// Each op twice on backends whose memory is not used in place: declined alone (it must run on
// the CPU through host copies, log once, and give the CPU's results), and supported alone (the
// router must still send it to the backend's own implementation). Inputs and outputs cross by
// copies too, so copies are compared with a backend that differs from the tested one only in
// this op.
TEST_P(BackendOpsTest, DeclinedOpsRunOnTheCpuAndMatchIt) {
  const BackendOp tested = GetParam();
  const OpEntry& entry = *entry_for(tested);
  for (const bool declined : {true, false}) {
    SCOPED_TRACE(declined ? "declined alone" : "supported alone");
    PartialBackend backend([&](BackendOp op) { return (op == tested) != declined; });
    PartialBackend reference([&](BackendOp op) { return declined; });
    CapturedLog log;
    for (int shape = 0; shape < kShapes; ++shape) {
      SCOPED_TRACE("shape " + std::to_string(shape));
      const std::vector<double> want = run_case(entry, host_backend(), shape);
      const std::int64_t before = backend.copies, reference_before = reference.copies;
      expect_close(want, run_case(entry, backend, shape), 0.0);
      expect_close(want, run_case(entry, reference, shape), 0.0);
      const std::int64_t copies = backend.copies - before;
      const std::int64_t reference_copies = reference.copies - reference_before;
      if (declined)
        EXPECT_GT(copies, reference_copies) << "a declined op must run through host copies";
      else
        EXPECT_LT(copies, reference_copies) << "a supported op must run where its data is";
    }
    const std::string line = std::string(to_string(tested)) + " runs on the CPU";
    // Declined alone: one line for the op on the tested backend. Supported alone: one, from
    // the reference backend, which declines everything.
    EXPECT_EQ(count_of(log.text(), line), 1u) << log.text();
  }
}

// Every op on each usable CUDA device against the CPU; the case skips and says why without one.
TEST_P(BackendOpsTest, CudaMatchesCpu) {
  Backend* cuda = nullptr;
  for (const DeviceInfo& info : DeviceRegistry::instance().devices())
    if (info.device.is_cuda()) cuda = &DeviceRegistry::instance().backend(info.device);
  if (cuda == nullptr) {
    const std::string reason = DeviceRegistry::instance().cuda_unavailable_reason();
    const char* require = std::getenv("TABULA_REQUIRE_GPU");
    if (require != nullptr && std::string(require) == "1")
      FAIL() << "TABULA_REQUIRE_GPU=1 but no CUDA device is usable: " << reason;
    GTEST_SKIP() << "no CUDA device: " << reason;
  }
  ASSERT_TRUE(cuda->supports(GetParam())) << "the CUDA backend declines " << to_string(GetParam());
  const OpEntry& entry = *entry_for(GetParam());
  for (int shape = 0; shape < kShapes; ++shape) {
    SCOPED_TRACE("shape " + std::to_string(shape));
    expect_close(run_case(entry, host_backend(), shape), run_case(entry, *cuda, shape),
                 entry.tolerance);
  }
}

std::vector<BackendOp> all_ops() {
  std::vector<BackendOp> ops;
  for (const BackendOpInfo& op : kBackendOps) ops.push_back(op.op);
  return ops;
}

INSTANTIATE_TEST_SUITE_P(Ops, BackendOpsTest, ::testing::ValuesIn(all_ops()),
                         [](const ::testing::TestParamInfo<BackendOp>& info) {
                           return std::string(to_string(info.param));
                         });

}  // namespace
}  // namespace tabula::testing

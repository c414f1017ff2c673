// The CPU backend's logistic op (LogisticOps): loss, gradient and Hessian, the reference the
// other backends are tested against. Rows are cut into fixed blocks
// grouped into a number of slots that depends only on the problem size; each slot is summed by
// one task and the slots are reduced in order, so results do not depend on the thread count.
// Dense products go to the CPU backend's single-threaded BLAS wrappers (blas.hpp).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/blas.hpp"
#include "backend/cpu/cpu_backend.hpp"
#include "tabula/backend/backend.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

constexpr const char* kName = "logistic_gradient_hessian";
// Rows per tile: the float64 tile (rows x p) stays in L1/L2 for the products that read it.
constexpr std::int64_t kTileRows = 512;
constexpr std::int64_t kMaxSlots = 64;
constexpr std::int64_t kSlotBudgetBytes = std::int64_t{64} << 20;

void require_host(const Backend& backend, Device device) {
  if (!device.is_cpu())
    throw DeviceError(std::string(kName) + ": the " + backend.device().to_string() +
                      " backend got memory on " + device.to_string());
}

// log(1 + exp(z)) without overflow.
inline double softplus(double z) {
  return z > 0.0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

inline double sigmoid(double z) {
  if (z >= 0.0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

struct Problem {
  MatrixView<const float> x;
  const double* y;
  const double* weights;        // nullptr = unit
  const std::int64_t* indices;  // nullptr = all rows
  std::int64_t selected;
  int n_classes;
  std::int64_t m;  // scores per row
  std::int64_t d;
  std::int64_t p;
  bool intercept;
  bool hessian;
};

// One slot's accumulators: loss, gradient (m x p row-major = class-major) and the upper
// triangles of the Hessian's p x p blocks (mp x mp column-major); blocks below the diagonal are
// complete (they come from gemm).
struct Slot {
  double loss = 0.0;
  std::vector<double> gradient;
  std::vector<double> hessian;
};

// Work arrays of one task, reused from tile to tile.
struct Scratch {
  std::vector<double> a;      // tile rows x p, row-major: [x_i, 1]
  std::vector<double> b;      // the same rows scaled for a Hessian block
  std::vector<double> prob;   // tile rows x m, row-major
  std::vector<double> scale;  // tile rows: binary Hessian scale
  std::vector<double> z;      // m scores of one row
};

std::int64_t class_of(const Problem& pr, std::int64_t i) {
  const double v = pr.y[i];
  const auto c = static_cast<std::int64_t>(v);
  if (!(v >= 0.0) || static_cast<double>(c) != v || c >= pr.n_classes)
    throw InputError(std::string(kName) + ": label of row " + std::to_string(i) + " is " +
                     std::to_string(v) + ", not a class index in [0, " +
                     std::to_string(pr.n_classes) + ")");
  return c;
}

// One pass over the tile's rows does the scores, the loss and the gradient; the Hessian blocks
// are then rank-k updates through single-threaded BLAS on the (scaled) row-major tile, which
// read column-major is the p x rows matrix Aᵀ: Σ_r a_r a_rᵀ = Aᵀ A.
// long: the inner loop of the logistic fit over one tile: binary and multinomial scores, loss
// and gradient in one pass over the rows, then the Hessian's rank updates on the same tile.
void accumulate_tile(const Problem& pr, const double* theta, std::int64_t begin, std::int64_t end,
                     Slot& slot, Scratch& s) {
  const std::int64_t rows = end - begin, p = pr.p, m = pr.m, mp = m * p;
  s.a.resize(static_cast<std::size_t>(rows * p));
  s.prob.resize(static_cast<std::size_t>(rows * m));
  s.scale.resize(static_cast<std::size_t>(rows));
  s.z.resize(static_cast<std::size_t>(m));
  double* grad = slot.gradient.data();
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t i = begin + r;
    if (pr.indices != nullptr) {
      i = pr.indices[i];
      if (i < 0 || i >= pr.x.rows)
        throw Error(std::string(kName) + ": row subset entry " + std::to_string(begin + r) +
                    " is " + std::to_string(i) + ", outside [0, " + std::to_string(pr.x.rows) +
                    ")");
    }
    double* a = s.a.data() + r * p;
    if (pr.x.layout == Layout::kRowMajor) {
      const float* xi = pr.x.data + i * pr.x.stride;
      for (std::int64_t j = 0; j < pr.d; ++j) a[j] = static_cast<double>(xi[j]);
    } else {
      for (std::int64_t j = 0; j < pr.d; ++j) a[j] = static_cast<double>(pr.x(i, j));
    }
    if (pr.intercept) a[pr.d] = 1.0;
    const std::int64_t label = class_of(pr, i);
    const double w = pr.weights == nullptr ? 1.0 : pr.weights[i];
    if (!(std::isfinite(w) && w >= 0.0))
      throw InputError(std::string(kName) + ": weight of row " + std::to_string(i) + " is " +
                       std::to_string(w) + "; weights must be finite and non-negative");
    for (std::int64_t c = 0; c < m; ++c) {
      const double* t = theta + c * p;
      double z = 0.0;
      for (std::int64_t j = 0; j < p; ++j) z += t[j] * a[j];
      s.z[c] = z;
    }
    if (m == 1) {
      const double z = s.z[0], y = static_cast<double>(label);
      slot.loss += w * (softplus(z) - y * z);
      const double prob = sigmoid(z);
      const double residual = w * (prob - y);
      for (std::int64_t j = 0; j < p; ++j) grad[j] += residual * a[j];
      s.scale[r] = std::sqrt(w * prob * (1.0 - prob));
      continue;
    }
    double top = s.z[0];
    for (std::int64_t c = 1; c < m; ++c) top = std::max(top, s.z[c]);
    double sum = 0.0;
    for (std::int64_t c = 0; c < m; ++c) sum += std::exp(s.z[c] - top);
    const double log_sum = top + std::log(sum);
    slot.loss += w * (log_sum - s.z[label]);
    for (std::int64_t c = 0; c < m; ++c) {
      const double prob = std::exp(s.z[c] - log_sum);
      s.prob[r * m + c] = prob;
      const double residual = w * (prob - (c == label ? 1.0 : 0.0));
      double* g = grad + c * p;
      for (std::int64_t j = 0; j < p; ++j) g[j] += residual * a[j];
    }
    s.scale[r] = w;  // the multinomial scales are built per pair of classes below
  }
  if (!pr.hessian) return;
  s.b.resize(s.a.size());
  auto scale_rows = [&](auto&& row_scale) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const double f = row_scale(r);
      const double* a = s.a.data() + r * p;
      double* b = s.b.data() + r * p;
      for (std::int64_t j = 0; j < p; ++j) b[j] = f * a[j];
    }
  };
  double* hess = slot.hessian.data();
  if (m == 1) {
    scale_rows([&](std::int64_t r) { return s.scale[r]; });
    cpu::syrk_upper(Op::kNone, p, rows, s.b.data(), p, hess, mp);
    return;
  }
  // Block (c, e) = Σ_r w p_c (δ_ce - p_e) a aᵀ: a syrk for c == e, a gemm with alpha -1 below.
  for (std::int64_t c = 0; c < m; ++c) {
    for (std::int64_t e = 0; e <= c; ++e) {
      double* block = hess + (e * p) * mp + c * p;
      if (c == e) {
        scale_rows([&](std::int64_t r) {
          const double pc = s.prob[r * m + c];
          return std::sqrt(s.scale[r] * pc * (1.0 - pc));
        });
        cpu::syrk_upper(Op::kNone, p, rows, s.b.data(), p, block, mp);
      } else {
        scale_rows([&](std::int64_t r) {
          return std::sqrt(s.scale[r] * s.prob[r * m + c] * s.prob[r * m + e]);
        });
        cpu::gemm(Op::kNone, Op::kTranspose, p, p, rows, -1.0, s.b.data(), p, s.b.data(), p, 1.0,
                  block, mp);
      }
    }
  }
}

}  // namespace

// long: the op's checks (same words as the CUDA backend's), then the slot plan and the
// reduction in slot order that keeps the sums independent of the thread count.
double cpu::CpuBackend::gradient_hessian(MatrixView<const float> x, VectorView<const double> y,
                                         VectorView<const double> weights, RowSubset rows,
                                         int n_classes, bool fit_intercept,
                                         VectorView<const double> coef, VectorView<double> gradient,
                                         MatrixView<double> hessian) {
  require_host(*this, x.device);
  require_host(*this, y.device);
  require_host(*this, coef.device);
  require_host(*this, gradient.device);
  if (weights.size > 0) require_host(*this, weights.device);
  if (!rows.is_all()) require_host(*this, rows.indices.device);
  const bool want_hessian = hessian.data != nullptr;
  if (want_hessian) require_host(*this, hessian.device);
  if (n_classes < 2)
    throw Error(std::string(kName) + ": needs at least 2 classes, got " +
                std::to_string(n_classes));

  Problem pr{x,
             y.data,
             weights.size > 0 ? weights.data : nullptr,
             rows.is_all() ? nullptr : rows.indices.data,
             rows.count(x.rows),
             n_classes,
             n_classes == 2 ? 1 : n_classes,
             x.cols,
             x.cols + (fit_intercept ? 1 : 0),
             fit_intercept,
             want_hessian};
  const std::int64_t mp = pr.m * pr.p;
  auto shape_error = [&](const std::string& what) {
    return Error(std::string(kName) + ": x is " + std::to_string(x.rows) + " x " +
                 std::to_string(x.cols) + " with " + std::to_string(n_classes) + " classes" +
                 (fit_intercept ? " and an intercept" : "") + ", but " + what);
  };
  if (x.layout != Layout::kRowMajor && x.layout != Layout::kColMajor)
    throw shape_error("bad layout");
  if (y.size != x.rows) throw shape_error("y has " + std::to_string(y.size) + " entries");
  if (weights.size != 0 && weights.size != x.rows)
    throw shape_error("weights has " + std::to_string(weights.size) + " entries");
  if (coef.size != mp)
    throw shape_error("coef has " + std::to_string(coef.size) + " entries, needs " +
                      std::to_string(mp));
  if (gradient.size != mp)
    throw shape_error("gradient has " + std::to_string(gradient.size) + " entries, needs " +
                      std::to_string(mp));
  if (want_hessian && (hessian.rows != mp || hessian.cols != mp))
    throw shape_error("hessian is " + std::to_string(hessian.rows) + " x " +
                      std::to_string(hessian.cols) + ", needs " + std::to_string(mp) + " x " +
                      std::to_string(mp));

  const std::int64_t tiles = (pr.selected + kTileRows - 1) / kTileRows;
  const std::int64_t slot_bytes = 8 * (1 + mp + (want_hessian ? mp * mp : 0));
  const std::int64_t slots =
      std::max<std::int64_t>(1, std::min({tiles, kMaxSlots, kSlotBudgetBytes / slot_bytes}));
  std::vector<Slot> partial(static_cast<std::size_t>(slots));
  parallel_for(slots, [&](std::int64_t task) {
    Slot& slot = partial[static_cast<std::size_t>(task)];
    slot.gradient.assign(static_cast<std::size_t>(mp), 0.0);
    if (want_hessian) slot.hessian.assign(static_cast<std::size_t>(mp * mp), 0.0);
    Scratch scratch;
    const std::int64_t first = task * tiles / slots, last = (task + 1) * tiles / slots;
    for (std::int64_t t = first; t < last; ++t)
      accumulate_tile(pr, coef.data, t * kTileRows, std::min(pr.selected, (t + 1) * kTileRows),
                      slot, scratch);
  });

  double loss = 0.0;
  std::vector<double> grad(static_cast<std::size_t>(mp), 0.0), hess;
  if (want_hessian) hess.assign(static_cast<std::size_t>(mp * mp), 0.0);
  for (const Slot& slot : partial) {
    loss += slot.loss;
    for (std::int64_t q = 0; q < mp; ++q) grad[q] += slot.gradient[q];
    for (std::size_t q = 0; q < hess.size(); ++q) hess[q] += slot.hessian[q];
  }
  for (std::int64_t q = 0; q < mp; ++q) gradient.data[q] = grad[q];
  if (want_hessian) {
    // Block (c, e) with c >= e is complete below the diagonal and holds its upper triangle on
    // it; every block is symmetric, so entry (a, b) of block (c, e) is entry (min, max) of
    // block (max(c, e), min(c, e)).
    const std::int64_t p = pr.p;
    for (std::int64_t c = 0; c < pr.m; ++c)
      for (std::int64_t e = 0; e < pr.m; ++e)
        for (std::int64_t bj = 0; bj < p; ++bj)
          for (std::int64_t bi = 0; bi < p; ++bi) {
            const std::int64_t hc = std::max(c, e), he = std::min(c, e);
            const std::int64_t row = hc * p + std::min(bi, bj), col = he * p + std::max(bi, bj);
            hessian(c * p + bi, e * p + bj) = hess[col * mp + row];
          }
  }
  return loss;
}

}  // namespace tabula

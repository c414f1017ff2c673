// Gram matrix, cross product and column moments: float64 sums over row blocks (row_blocks.hpp),
// each block gathered into a float64 tile and handed to the AVX-512 Gram kernel
// (gram_kernel.hpp) or to single-threaded BLAS.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "backend/cpu/blas.hpp"
#include "backend/cpu/cpu_backend.hpp"
#include "backend/cpu/gram_kernel.hpp"
#include "backend/cpu/row_blocks.hpp"
#include "backend/cpu/view_checks.hpp"
#include "core/vector_clones.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::cpu {
namespace {

using Slots = std::vector<std::vector<double>>;

// Narrower matrices go to BLAS syrk: the kernel's padding and diagonal blocks would dominate.
constexpr std::int64_t kGramKernelMinCols = 16;

// Copies the rows `rows` of x into `tile` as float64, in x's layout (row-major: rows.size() x
// d with stride d; column-major: stride rows.size()), each row multiplied by scale[r] when
// `scale` is given.
template <typename T>
void gather(const MatrixView<const T>& x, const std::vector<std::int64_t>& rows,
            const double* scale, std::vector<double>& tile) {
  const std::int64_t m = static_cast<std::int64_t>(rows.size());
  const std::int64_t d = x.cols;
  tile.resize(static_cast<std::size_t>(m * d));
  double* out = tile.data();
  if (x.layout == Layout::kRowMajor) {
    for (std::int64_t r = 0; r < m; ++r) {
      const T* src = x.data + rows[r] * x.stride;
      double* dst = out + r * d;
      if (scale == nullptr) {
        for (std::int64_t j = 0; j < d; ++j) dst[j] = static_cast<double>(src[j]);
      } else {
        const double s = scale[r];
        for (std::int64_t j = 0; j < d; ++j) dst[j] = s * static_cast<double>(src[j]);
      }
    }
  } else {
    for (std::int64_t j = 0; j < d; ++j) {
      const T* src = x.data + j * x.stride;
      double* dst = out + j * m;
      if (scale == nullptr) {
        for (std::int64_t r = 0; r < m; ++r) dst[r] = static_cast<double>(src[rows[r]]);
      } else {
        for (std::int64_t r = 0; r < m; ++r) dst[r] = scale[r] * static_cast<double>(src[rows[r]]);
      }
    }
  }
}

// dst[j] = s * src[j] for j < d, vectorised for each CPU (vector_clones.hpp): widening float32
// to float64 is a large share of a Gram on float32 data.
TABULA_VECTOR_CLONES void scale_row(const float* src, std::int64_t d, double s, double* dst) {
  for (std::int64_t j = 0; j < d; ++j) dst[j] = s * static_cast<double>(src[j]);
}
TABULA_VECTOR_CLONES void scale_row(const double* src, std::int64_t d, double s, double* dst) {
  for (std::int64_t j = 0; j < d; ++j) dst[j] = s * src[j];
}

// Copies the rows `rows` of x (any layout) into a row-major float64 tile with row stride
// `ld` >= d, each row multiplied by scale[r] when `scale` is given; columns d..ld-1 are zero.
template <typename T>
void gather_row_major(const MatrixView<const T>& x, const std::vector<std::int64_t>& rows,
                      const double* scale, std::int64_t ld, std::vector<double>& tile) {
  const std::int64_t m = static_cast<std::int64_t>(rows.size());
  const std::int64_t d = x.cols;
  tile.resize(static_cast<std::size_t>(m * ld));
  for (std::int64_t r = 0; r < m; ++r) {
    double* dst = tile.data() + r * ld;
    const double s = scale == nullptr ? 1.0 : scale[r];
    if (x.layout == Layout::kRowMajor) {
      scale_row(x.data + rows[r] * x.stride, d, s, dst);
    } else {
      const T* src = x.data + rows[r];
      for (std::int64_t j = 0; j < d; ++j) dst[j] = s * static_cast<double>(src[j * x.stride]);
    }
    for (std::int64_t j = d; j < ld; ++j) dst[j] = 0.0;
  }
}

// Adds slots 1.. into slot 0, in slot order.
std::vector<double>& reduce_in_order(Slots& slots) {
  std::vector<double>& total = slots[0];
  for (std::size_t s = 1; s < slots.size(); ++s)
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += slots[s][i];
  return total;
}

// Runs body(slot, block_begin, block_end) for every block, one task per slot, blocks of a slot
// in order; each slot's accumulator starts as `slot_size` zeros.
template <typename Body>
Slots sum_over_blocks(const RowBlocks& plan, std::int64_t slot_size, const Body& body) {
  Slots slots(static_cast<std::size_t>(plan.slots));
  parallel_for(plan.slots, [&](std::int64_t s) {
    std::vector<double>& acc = slots[static_cast<std::size_t>(s)];
    acc.assign(static_cast<std::size_t>(slot_size), 0.0);
    for (std::int64_t b = plan.first_block(s); b < plan.first_block(s + 1); ++b)
      body(acc, plan.block_begin(b), plan.block_end(b));
  });
  return slots;
}

}  // namespace

template <typename T>
void gram(MatrixView<const T> x, VectorView<const double> weights, RowSubset rows,
          MatrixView<double> out) {
  check_matrix(x, "gram: x");
  check_matrix(out, "gram: out");
  check_weights_and_rows(weights, rows, x.rows, "gram");
  const std::int64_t d = x.cols;
  check_shape(out, d, d, "gram: out (d x d for x with d columns)");
  if (d == 0) return;

  const RowSelection selection(weights, rows, x.rows, "gram");
  // Wide enough matrices on AVX-512 CPUs use the Gram kernel on a padded row-major tile and a
  // dp x dp row-major accumulator; otherwise BLAS syrk on a d x d column-major one.
  const bool use_kernel = d >= kGramKernelMinCols && gram_kernel_available();
  const std::int64_t dp = use_kernel ? gram_kernel_padded(d) : d;
  const RowBlocks plan = RowBlocks::plan(selection.selected(), dp, dp * dp * 8);
  // float64 rows with unit weights need no tile for BLAS: it reads x in place.
  const bool in_place =
      std::is_same_v<T, double> && !use_kernel && selection.all_rows() && !selection.weighted();
  const bool row_major = x.layout == Layout::kRowMajor;

  Slots slots = sum_over_blocks(
      plan, dp * dp, [&](std::vector<double>& acc, std::int64_t begin, std::int64_t end) {
        thread_local std::vector<std::int64_t> row_index;
        thread_local std::vector<double> scale;
        thread_local std::vector<double> tile;
        const std::int64_t m = end - begin;
        if constexpr (std::is_same_v<T, double>) {
          if (in_place) {
            const double* first = x.data + (row_major ? begin * x.stride : begin);
            syrk_upper(row_major ? Op::kNone : Op::kTranspose, d, m, first, x.stride, acc.data(),
                       d);
            return;
          }
        }
        selection.fetch(begin, end, row_index, scale);
        // Xᵀ diag(w) X = (diag(√w) X)ᵀ (diag(√w) X).
        if (selection.weighted())
          for (double& w : scale) w = std::sqrt(w);
        const double* row_scale = selection.weighted() ? scale.data() : nullptr;
        if (use_kernel) {
          gather_row_major(x, row_index, row_scale, dp, tile);
          // Contiguous rows: prefetch the next block's input while this one is multiplied.
          const void* next = nullptr;
          std::int64_t next_bytes = 0;
          if (selection.all_rows() && row_major && end < selection.selected()) {
            next = x.data + end * x.stride;
            next_bytes = std::min(m, selection.selected() - end) * x.stride *
                         static_cast<std::int64_t>(sizeof(T));
          }
          gram_kernel(tile.data(), m, dp, acc.data(), next, next_bytes);
        } else {
          gather(x, row_index, row_scale, tile);
          syrk_upper(row_major ? Op::kNone : Op::kTranspose, d, m, tile.data(), row_major ? d : m,
                     acc.data(), d);
        }
      });

  // Entry (i, j), i <= j, of the accumulator layout in use.
  const std::vector<double>& total = reduce_in_order(slots);
  for (std::int64_t j = 0; j < d; ++j)
    for (std::int64_t i = 0; i <= j; ++i) {
      const double v = total[static_cast<std::size_t>(use_kernel ? i * dp + j : i + j * d)];
      out(i, j) = v;
      out(j, i) = v;
    }
}

template <typename T>
void cross_product(MatrixView<const T> x, MatrixView<const double> y,
                   VectorView<const double> weights, RowSubset rows, MatrixView<double> out) {
  check_matrix(x, "cross_product: x");
  check_matrix(y, "cross_product: y");
  check_matrix(out, "cross_product: out");
  check_weights_and_rows(weights, rows, x.rows, "cross_product");
  if (y.rows != x.rows)
    throw Error("cross_product: x is " + describe(x) + " but y is " + describe(y) +
                " (both need the same number of rows)");
  const std::int64_t d = x.cols;
  const std::int64_t k = y.cols;
  check_shape(out, d, k, "cross_product: out (d x k for x n x d, y n x k)");
  if (d == 0 || k == 0) return;

  const RowSelection selection(weights, rows, x.rows, "cross_product");
  const RowBlocks plan = RowBlocks::plan(selection.selected(), d + k, d * k * 8);
  const bool x_in_place =
      std::is_same_v<T, double> && selection.all_rows() && !selection.weighted();
  const bool x_row_major = x.layout == Layout::kRowMajor;
  const bool y_row_major = y.layout == Layout::kRowMajor;

  Slots slots = sum_over_blocks(
      plan, d * k, [&](std::vector<double>& acc, std::int64_t begin, std::int64_t end) {
        thread_local std::vector<std::int64_t> row_index;
        thread_local std::vector<double> scale;
        thread_local std::vector<double> x_tile;
        thread_local std::vector<double> y_tile;
        const std::int64_t m = end - begin;
        const double* a = nullptr;
        std::int64_t lda = 0;
        const double* b = nullptr;
        std::int64_t ldb = 0;
        if (!x_in_place || !selection.all_rows()) selection.fetch(begin, end, row_index, scale);
        if constexpr (std::is_same_v<T, double>) {
          if (x_in_place) {
            a = x.data + (x_row_major ? begin * x.stride : begin);
            lda = x.stride;
          }
        }
        if (a == nullptr) {
          gather(x, row_index, selection.weighted() ? scale.data() : nullptr, x_tile);
          a = x_tile.data();
          lda = x_row_major ? d : m;
        }
        if (selection.all_rows()) {
          b = y.data + (y_row_major ? begin * y.stride : begin);
          ldb = y.stride;
        } else {
          gather(y, row_index, nullptr, y_tile);
          b = y_tile.data();
          ldb = y_row_major ? k : m;
        }
        // In column-major terms a row-major block is stored transposed.
        cpu::gemm(x_row_major ? Op::kNone : Op::kTranspose,
                  y_row_major ? Op::kTranspose : Op::kNone, d, k, m, 1.0, a, lda, b, ldb, 1.0,
                  acc.data(), d);
      });

  const std::vector<double>& total = reduce_in_order(slots);
  for (std::int64_t j = 0; j < k; ++j)
    for (std::int64_t i = 0; i < d; ++i) out(i, j) = total[static_cast<std::size_t>(i + j * d)];
}

template <typename T>
void column_moments(MatrixView<const T> x, VectorView<const double> weights, RowSubset rows,
                    VectorView<double> means, VectorView<double> variances) {
  check_matrix(x, "column_moments: x");
  check_vector(means, "column_moments: means");
  check_vector(variances, "column_moments: variances");
  check_weights_and_rows(weights, rows, x.rows, "column_moments");
  const std::int64_t d = x.cols;
  if (means.size != d || variances.size != d)
    throw Error("column_moments: x is " + describe(x) + ", so means and variances need " +
                std::to_string(d) + " elements; got " + std::to_string(means.size) + " and " +
                std::to_string(variances.size));
  if (d == 0) return;

  const RowSelection selection(weights, rows, x.rows, "column_moments");
  const RowBlocks plan = RowBlocks::plan(selection.selected(), d, (d + 1) * 8);
  const bool row_major = x.layout == Layout::kRowMajor;

  // Adds, per column j, sum_r w_r f(x_rj) to acc[j] over the block, rows in order.
  auto accumulate = [&](std::vector<double>& acc, std::int64_t begin, std::int64_t end,
                        const auto& f) {
    thread_local std::vector<std::int64_t> row_index;
    thread_local std::vector<double> w;
    selection.fetch(begin, end, row_index, w);
    const std::int64_t m = end - begin;
    if (row_major) {
      for (std::int64_t r = 0; r < m; ++r) {
        const T* src = x.data + row_index[r] * x.stride;
        for (std::int64_t j = 0; j < d; ++j) acc[j] += w[r] * f(static_cast<double>(src[j]), j);
      }
    } else {
      for (std::int64_t j = 0; j < d; ++j) {
        const T* src = x.data + j * x.stride;
        double sum = acc[j];
        for (std::int64_t r = 0; r < m; ++r)
          sum += w[r] * f(static_cast<double>(src[row_index[r]]), j);
        acc[j] = sum;
      }
    }
    return std::span<const double>(w.data(), w.size());
  };

  // Pass 1: weighted sums (acc[0..d)) and the total weight (acc[d]).
  Slots sums = sum_over_blocks(
      plan, d + 1, [&](std::vector<double>& acc, std::int64_t begin, std::int64_t end) {
        for (double w : accumulate(acc, begin, end, [](double v, std::int64_t) { return v; }))
          acc[d] += w;
      });
  const std::vector<double>& total = reduce_in_order(sums);
  const double total_weight = total[d];
  if (!(total_weight > 0.0)) {
    for (std::int64_t j = 0; j < d; ++j)
      means[j] = variances[j] = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  std::vector<double> mean(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j) mean[j] = total[j] / total_weight;

  // Pass 2: weighted squared deviations from the mean, so large offsets do not cancel.
  Slots squares =
      sum_over_blocks(plan, d, [&](std::vector<double>& acc, std::int64_t begin, std::int64_t end) {
        accumulate(acc, begin, end, [&](double v, std::int64_t j) {
          const double dev = v - mean[j];
          return dev * dev;
        });
      });
  const std::vector<double>& deviations = reduce_in_order(squares);
  for (std::int64_t j = 0; j < d; ++j) {
    means[j] = mean[j];
    variances[j] = deviations[j] / total_weight;
  }
}

template void gram(MatrixView<const float>, VectorView<const double>, RowSubset,
                   MatrixView<double>);
template void gram(MatrixView<const double>, VectorView<const double>, RowSubset,
                   MatrixView<double>);
template void cross_product(MatrixView<const float>, MatrixView<const double>,
                            VectorView<const double>, RowSubset, MatrixView<double>);
template void cross_product(MatrixView<const double>, MatrixView<const double>,
                            VectorView<const double>, RowSubset, MatrixView<double>);
template void column_moments(MatrixView<const float>, VectorView<const double>, RowSubset,
                             VectorView<double>, VectorView<double>);
template void column_moments(MatrixView<const double>, VectorView<const double>, RowSubset,
                             VectorView<double>, VectorView<double>);

}  // namespace tabula::cpu

#include "models/cluster/distances.hpp"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <limits>

#include "tabula/core/thread_pool.hpp"

namespace tabula::cluster {
namespace {

// A block's products (rows x k float32) stay near this many elements: a few MiB of device
// memory and host copy, whatever n.
constexpr std::int64_t kBlockElements = std::int64_t{1} << 20;
constexpr std::int64_t kMinBlockRows = 1024;
// Rows per task of the host loops.
constexpr std::int64_t kHostRows = 2048;
// A host tile's products (rows x k float32, 64 KiB) and its shifted rows stay in L2.
constexpr std::int64_t kTileElements = std::int64_t{1} << 14;
constexpr std::int64_t kMinTileRows = 64;
constexpr std::int64_t kMaxTileRows = 2048;
// A shift whose squared norm is at most this fraction of the data's variance is not applied.
constexpr double kSmallShift = 0.01;
// Rows per block of `nearest`.
constexpr std::int64_t kNearestBlockRows = 8192;

std::int64_t tile_rows(std::int64_t k) {
  return std::clamp(kTileElements / k, kMinTileRows, kMaxTileRows);
}

// The minimum over q < k of norms[q] + dots[q] (float32; eight at a time where SSE2 is there).
float min_sum(const float* dots, const float* norms, std::int64_t k) {
  std::int64_t q = 0;
  float best = norms[0] + dots[0];
#if defined(__SSE2__)
  if (k >= 8) {
    __m128 m0 = _mm_add_ps(_mm_loadu_ps(norms), _mm_loadu_ps(dots));
    __m128 m1 = _mm_add_ps(_mm_loadu_ps(norms + 4), _mm_loadu_ps(dots + 4));
    for (q = 8; q + 8 <= k; q += 8) {
      m0 = _mm_min_ps(m0, _mm_add_ps(_mm_loadu_ps(norms + q), _mm_loadu_ps(dots + q)));
      m1 = _mm_min_ps(m1, _mm_add_ps(_mm_loadu_ps(norms + q + 4), _mm_loadu_ps(dots + q + 4)));
    }
    m0 = _mm_min_ps(m0, m1);
    m0 = _mm_min_ps(m0, _mm_shuffle_ps(m0, m0, _MM_SHUFFLE(1, 0, 3, 2)));
    m0 = _mm_min_ps(m0, _mm_shuffle_ps(m0, m0, _MM_SHUFFLE(2, 3, 0, 1)));
    best = _mm_cvtss_f32(m0);
  }
#endif
  for (; q < k; ++q) best = std::min(best, norms[q] + dots[q]);
  return best;
}

// The q < k minimising norms[q] + dots[q] (float32), the lower q on a tie: the minimum first,
// then the first q that reaches it (four at a time where SSE2 is there).
std::int32_t arg_min(const float* dots, const float* norms, std::int64_t k) {
  const float best = min_sum(dots, norms, k);
  std::int64_t q = 0;
#if defined(__SSE2__)
  const __m128 target = _mm_set1_ps(best);
  for (; q + 4 <= k; q += 4) {
    const int hit = _mm_movemask_ps(
        _mm_cmpeq_ps(_mm_add_ps(_mm_loadu_ps(norms + q), _mm_loadu_ps(dots + q)), target));
    if (hit != 0) return static_cast<std::int32_t>(q + __builtin_ctz(static_cast<unsigned>(hit)));
  }
#endif
  for (; q < k; ++q)
    if (norms[q] + dots[q] == best) return static_cast<std::int32_t>(q);
  return 0;  // not reached: best is one of the values
}

// labels[i] for i < rows: the nearest centre of row i, whose k products are dots[i * k + q];
// -1 where they are NaN (a row with a missing value: the centres are finite).
void nearest_in(const float* dots, std::int64_t rows, const std::vector<float>& norms,
                std::int32_t* labels) {
  const auto k = static_cast<std::int64_t>(norms.size());
  for (std::int64_t i = 0; i < rows; ++i)
    labels[i] = std::isnan(dots[i * k]) ? -1 : arg_min(dots + i * k, norms.data(), k);
}

}  // namespace

/// The centres as the products see them: shifted, rounded to float32, on the backend; their
/// norms from the rounded values so that a row equal to a centre is at distance 0.
struct Points::Centres {
  Centres(Backend& backend, std::span<const double> centres, std::int64_t k,
          const std::vector<double>& shift)
      : norms(static_cast<std::size_t>(k), 0.0), norms_f(static_cast<std::size_t>(k)) {
    const std::int64_t d = static_cast<std::int64_t>(shift.size());
    std::vector<float> c(static_cast<std::size_t>(k * d));
    for (std::int64_t q = 0; q < k; ++q) {
      for (std::int64_t j = 0; j < d; ++j) {
        const float v = static_cast<float>(centres[q * d + j] - shift[j]);
        c[q * d + j] = v;
        norms[q] += static_cast<double>(v) * v;
      }
      norms_f[q] = static_cast<float>(norms[q]);
    }
    values = Buffer<float>::from_host(backend, c);
    view = std::as_const(values).matrix(k, d, Layout::kRowMajor);
  }
  std::vector<double> norms;
  std::vector<float> norms_f;
  Buffer<float> values;
  MatrixView<const float> view;
};

Points::Points(Backend& backend, MatrixView<const float> x, std::span<const double> shift,
               double spread)
    : backend_(&backend), x_(x) {
  if (!x.is_row_major()) {  // the tiles read rows: a row-major copy
    row_major_.resize(static_cast<std::size_t>(x.rows * x.cols));
    parallel_blocks(x.rows, kHostRows, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i)
        for (std::int64_t j = 0; j < x.cols; ++j) row_major_[i * x.cols + j] = x(i, j);
    });
    x_ = MatrixView<const float>::row_major(row_major_.data(), x.rows, x.cols);
  }
  double shift_norm = 0.0;
  for (double v : shift) shift_norm += v * v;
  unshifted_ = shift_norm <= kSmallShift * spread;
  // The shift is float32 so that rows shift in float32 (one rounding); the centres shift by
  // the same values.
  for (double v : shift) {
    shift_f_.push_back(unshifted_ ? 0.0f : static_cast<float>(v));
    shift_.push_back(shift_f_.back());
  }
  if (backend.uses_host_memory()) return;  // tiles are shifted where they are used
  const std::int64_t n = x.rows, d = x.cols;
  shifted_host_.resize(static_cast<std::size_t>(n * d));
  sq_norms_.resize(static_cast<std::size_t>(n));
  parallel_blocks(n, kHostRows, [&](std::int64_t begin, std::int64_t end) {
    shift_rows(begin, end - begin, shifted_host_.data() + begin * d, sq_norms_.data() + begin);
  });
  shifted_ = std::make_unique<ResidentMatrix<float>>(
      backend, MatrixView<const float>::row_major(shifted_host_.data(), n, d));
}

void Points::shift_rows(std::int64_t begin, std::int64_t rows, float* out, double* norms) const {
  const std::int64_t d = cols();
  const float* shift = shift_f_.data();
  for (std::int64_t i = 0; i < rows; ++i) {
    const float* row = x_.data + (begin + i) * x_.stride;
    float* shifted = out + i * d;
    for (std::int64_t j = 0; j < d; ++j) shifted[j] = row[j] - shift[j];
    if (norms == nullptr) continue;
    // Four partial sums: one chain of d dependent additions would cost more than the row's
    // products at small k.
    double part[4] = {0.0, 0.0, 0.0, 0.0};
    std::int64_t j = 0;
    for (; j + 4 <= d; j += 4)
      for (std::int64_t l = 0; l < 4; ++l)
        part[l] += static_cast<double>(shifted[j + l]) * shifted[j + l];
    for (; j < d; ++j) part[0] += static_cast<double>(shifted[j]) * shifted[j];
    norms[i] = (part[0] + part[1]) + (part[2] + part[3]);
  }
}

void Points::for_each_product(std::span<const double> centres, std::int64_t k,
                              const std::function<void(std::int64_t, std::int64_t, const float*,
                                                       const double*, const Centres&)>& fn) const {
  const std::int64_t n = rows(), d = cols();
  const Centres c(*backend_, centres, k, shift_);
  const std::int64_t block = std::min(n, std::max(kMinBlockRows, kBlockElements / k));
  Buffer<float> dots_dev(*backend_, block * k);
  const bool on_host = backend_->uses_host_memory();
  std::vector<float> dots(on_host ? 0 : static_cast<std::size_t>(block * k));
  std::vector<double> norms(on_host ? static_cast<std::size_t>(block) : 0);
  for (std::int64_t begin = 0; begin < n; begin += block) {
    const std::int64_t rows = std::min(block, n - begin);
    if (on_host) {
      // Tiles shifted and multiplied in parallel, the products where the GEMM wrote them.
      parallel_blocks(rows, tile_rows(k), [&](std::int64_t lo, std::int64_t hi) {
        std::vector<float> xs(static_cast<std::size_t>((hi - lo) * d));
        shift_rows(begin + lo, hi - lo, xs.data(), norms.data() + lo);
        MatrixView<float> out = MatrixView<float>::row_major(dots_dev.data() + lo * k, hi - lo, k);
        backend_->linalg().gemm(Op::kNone, Op::kTranspose, -2.0f,
                                MatrixView<const float>::row_major(xs.data(), hi - lo, d), c.view,
                                0.0f, out);
      });
      fn(begin, begin + rows, dots_dev.data(), norms.data(), c);
      continue;
    }
    const MatrixView<const float> xs = shifted_->view();
    const MatrixView<const float> x_block{xs.data + begin * d, rows,     d, d,
                                          Layout::kRowMajor,   xs.device};
    MatrixView<float> dots_view = dots_dev.matrix(block, k, Layout::kRowMajor);
    dots_view.rows = rows;
    backend_->linalg().gemm(Op::kNone, Op::kTranspose, -2.0f, x_block, c.view, 0.0f, dots_view);
    backend_->copy_to_host(dots.data(), dots_dev.data(),
                           static_cast<std::size_t>(rows * k) * sizeof(float));
    fn(begin, begin + rows, dots.data(), sq_norms_.data() + begin, c);
  }
}

void Points::for_each_block(
    std::span<const double> centres, std::int64_t k,
    const std::function<void(std::int64_t, std::int64_t, std::span<const double>)>& fn) const {
  std::vector<double> d2;
  for_each_product(centres, k,
                   [&](std::int64_t begin, std::int64_t end, const float* dots,
                       const double* row_norms, const Centres& c) {
                     const std::int64_t rows = end - begin;
                     d2.resize(static_cast<std::size_t>(rows * k));
                     parallel_blocks(rows, kHostRows, [&](std::int64_t lo, std::int64_t hi) {
                       for (std::int64_t i = lo; i < hi; ++i)
                         for (std::int64_t q = 0; q < k; ++q) {
                           // Rounding can make a distance slightly negative; a missing value keeps
                           // it NaN.
                           const double v = row_norms[i] + c.norms[q] + dots[i * k + q];
                           d2[i * k + q] = v < 0.0 ? 0.0 : v;
                         }
                     });
                     fn(begin, end,
                        std::span<const double>(d2.data(), static_cast<std::size_t>(rows * k)));
                   });
}

void Points::for_each_nearest(
    std::span<const double> centres, std::int64_t k, std::int64_t block_rows,
    const std::function<void(std::int64_t, std::int64_t, std::int64_t, const std::int32_t*)>& fn)
    const {
  const std::int64_t n = rows(), d = cols();
  const std::int64_t blocks = (n + block_rows - 1) / block_rows;
  if (!backend_->uses_host_memory()) {
    // The products come back per block; the labels are visited afterwards.
    std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
    for_each_product(
        centres, k,
        [&](std::int64_t begin, std::int64_t end, const float* dots, const double*,
            const Centres& c) {
          parallel_blocks(end - begin, kHostRows, [&](std::int64_t lo, std::int64_t hi) {
            nearest_in(dots + lo * k, hi - lo, c.norms_f, labels.data() + begin + lo);
          });
        });
    parallel_for(blocks, [&](std::int64_t b) {
      const std::int64_t begin = b * block_rows;
      fn(b, begin, std::min(n, begin + block_rows), labels.data() + begin);
    });
    return;
  }
  // Fused: per tile of rows, shift, multiply by every centre, take the arg-min and hand the
  // labels over while the rows are still in cache; the products never leave the tile.
  const Centres c(*backend_, centres, k, shift_);
  const std::int64_t tile = std::min(tile_rows(k), block_rows);
  parallel_for(blocks, [&](std::int64_t b) {
    std::vector<float> xs(unshifted_ ? 0 : static_cast<std::size_t>(tile * d));
    std::vector<float> dots(static_cast<std::size_t>(tile * k));
    std::vector<std::int32_t> labels(static_cast<std::size_t>(tile));
    const std::int64_t block_end = std::min(n, (b + 1) * block_rows);
    for (std::int64_t begin = b * block_rows; begin < block_end; begin += tile) {
      const std::int64_t rows = std::min(tile, block_end - begin);
      MatrixView<const float> tile_rows{x_.data + begin * x_.stride, rows,     d, x_.stride,
                                        Layout::kRowMajor,           x_.device};
      if (!unshifted_) {
        shift_rows(begin, rows, xs.data(), nullptr);
        tile_rows = MatrixView<const float>::row_major(xs.data(), rows, d);
      }
      MatrixView<float> out = MatrixView<float>::row_major(dots.data(), rows, k);
      backend_->linalg().gemm(Op::kNone, Op::kTranspose, -2.0f, tile_rows, c.view, 0.0f, out);
      nearest_in(dots.data(), rows, c.norms_f, labels.data());
      fn(b, begin, begin + rows, labels.data());
    }
  });
}

void Points::nearest_two(std::span<const double> centres, std::int64_t k,
                         std::span<const std::int64_t> rows, std::int32_t* labels, double* first,
                         double* second) const {
  const std::int64_t d = cols(), count = static_cast<std::int64_t>(rows.size());
  const Centres c(*backend_, centres, k, shift_);
  parallel_blocks(count, tile_rows(k), [&](std::int64_t lo, std::int64_t hi) {
    const std::int64_t n_tile = hi - lo;
    std::vector<float> xs(static_cast<std::size_t>(n_tile * d));
    std::vector<float> dots(static_cast<std::size_t>(n_tile * k));
    std::vector<double> norms(static_cast<std::size_t>(n_tile));
    for (std::int64_t r = 0; r < n_tile; ++r)
      shift_rows(rows[static_cast<std::size_t>(lo + r)], 1, xs.data() + r * d, norms.data() + r);
    MatrixView<float> out = MatrixView<float>::row_major(dots.data(), n_tile, k);
    backend_->linalg().gemm(Op::kNone, Op::kTranspose, -2.0f,
                            MatrixView<const float>::row_major(xs.data(), n_tile, d), c.view, 0.0f,
                            out);
    // The nearest as Lloyd's arg-min picks it, then the minimum over the others.
    for (std::int64_t r = 0; r < n_tile; ++r) {
      float* row = dots.data() + r * k;
      const std::int32_t label = arg_min(row, c.norms_f.data(), k);
      const float best = c.norms_f[label] + row[label];
      row[label] = std::numeric_limits<float>::infinity();
      const float next = min_sum(row, c.norms_f.data(), k);
      labels[lo + r] = label;
      first[lo + r] = std::max(0.0, norms[r] + best);
      second[lo + r] = std::max(0.0, norms[r] + next);
    }
  });
}

std::vector<std::int32_t> Points::nearest(std::span<const double> centres, std::int64_t k) const {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(rows()));
  for_each_nearest(centres, k, kNearestBlockRows,
                   [&](std::int64_t, std::int64_t begin, std::int64_t end, const std::int32_t* l) {
                     std::copy(l, l + (end - begin), labels.begin() + begin);
                   });
  return labels;
}

double ordered_sum(std::int64_t n, const std::function<double(std::int64_t)>& term) {
  const std::int64_t blocks = (n + kHostRows - 1) / kHostRows;
  std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
  parallel_for(blocks, [&](std::int64_t b) {
    double s = 0.0;
    for (std::int64_t i = b * kHostRows, end = std::min(n, (b + 1) * kHostRows); i < end; ++i)
      s += term(i);
    partial[static_cast<std::size_t>(b)] = s;
  });
  double total = 0.0;
  for (double s : partial) total += s;
  return total;
}

double exact_sq_distance(MatrixView<const float> x, std::int64_t row, const double* centre) {
  if (!x.is_row_major()) {
    double s = 0.0;
    for (std::int64_t j = 0; j < x.cols; ++j)
      s += (static_cast<double>(x(row, j)) - centre[j]) *
           (static_cast<double>(x(row, j)) - centre[j]);
    return s;
  }
  // Four partial sums (one chain of d dependent additions is latency-bound).
  const float* values = x.data + row * x.stride;
  double part[4] = {0.0, 0.0, 0.0, 0.0};
  std::int64_t j = 0;
  for (; j + 4 <= x.cols; j += 4)
    for (std::int64_t l = 0; l < 4; ++l) {
      const double diff = static_cast<double>(values[j + l]) - centre[j + l];
      part[l] += diff * diff;
    }
  for (; j < x.cols; ++j) {
    const double diff = static_cast<double>(values[j]) - centre[j];
    part[0] += diff * diff;
  }
  return (part[0] + part[1]) + (part[2] + part[3]);
}

}  // namespace tabula::cluster

#include "models/cluster/distances.hpp"

#include <algorithm>
#include <cmath>

#include "tabula/core/thread_pool.hpp"

namespace tabula::cluster {
namespace {

// A block's products (rows x k float32) stay near this many elements: a few MiB of device
// memory and host copy, whatever n.
constexpr std::int64_t kBlockElements = std::int64_t{1} << 20;
constexpr std::int64_t kMinBlockRows = 1024;
// Rows per task of the host loops.
constexpr std::int64_t kHostRows = 2048;

}  // namespace

Points::Points(Backend& backend, MatrixView<const float> x, std::span<const double> shift)
    : backend_(&backend), x_(x), shift_(shift.begin(), shift.end()) {
  const std::int64_t n = x.rows, d = x.cols;
  shifted_host_.resize(static_cast<std::size_t>(n * d));
  sq_norms_.resize(static_cast<std::size_t>(n));
  parallel_blocks(n, kHostRows, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      double norm = 0.0;
      for (std::int64_t j = 0; j < d; ++j) {
        const float v = static_cast<float>(static_cast<double>(x(i, j)) - shift_[j]);
        shifted_host_[i * d + j] = v;
        norm += static_cast<double>(v) * v;
      }
      sq_norms_[i] = norm;
    }
  });
  shifted_ = std::make_unique<ResidentMatrix<float>>(
      backend, MatrixView<const float>::row_major(shifted_host_.data(), n, d));
}

void Points::for_each_product(std::span<const double> centres, std::int64_t k,
                              const std::function<void(std::int64_t, std::int64_t, const float*,
                                                       const std::vector<double>&)>& fn) const {
  const std::int64_t n = rows(), d = cols();
  // The centres as the product sees them: shifted, rounded to float32; their norms from the
  // rounded values so that a row equal to a centre is at distance 0.
  std::vector<float> c(static_cast<std::size_t>(k * d));
  std::vector<double> c_norms(static_cast<std::size_t>(k), 0.0);
  for (std::int64_t q = 0; q < k; ++q)
    for (std::int64_t j = 0; j < d; ++j) {
      const float v = static_cast<float>(centres[q * d + j] - shift_[j]);
      c[q * d + j] = v;
      c_norms[q] += static_cast<double>(v) * v;
    }
  const Buffer<float> c_dev = Buffer<float>::from_host(*backend_, c);
  const MatrixView<const float> c_view = c_dev.matrix(k, d, Layout::kRowMajor);
  const std::int64_t block = std::min(n, std::max(kMinBlockRows, kBlockElements / k));
  Buffer<float> dots_dev(*backend_, block * k);
  // Host backends' products are read where the GEMM wrote them.
  const bool on_host = backend_->uses_host_memory();
  std::vector<float> dots(on_host ? 0 : static_cast<std::size_t>(block * k));
  const MatrixView<const float> xs = shifted_->view();
  for (std::int64_t begin = 0; begin < n; begin += block) {
    const std::int64_t rows = std::min(block, n - begin);
    const MatrixView<const float> x_block{xs.data + begin * d, rows,     d, d,
                                          Layout::kRowMajor,   xs.device};
    MatrixView<float> dots_view = dots_dev.matrix(block, k, Layout::kRowMajor);
    dots_view.rows = rows;
    backend_->linalg().gemm(Op::kNone, Op::kTranspose, -2.0f, x_block, c_view, 0.0f, dots_view);
    if (!on_host)
      backend_->copy_to_host(dots.data(), dots_dev.data(),
                             static_cast<std::size_t>(rows * k) * sizeof(float));
    fn(begin, begin + rows, on_host ? dots_dev.data() : dots.data(), c_norms);
  }
}

void Points::for_each_block(
    std::span<const double> centres, std::int64_t k,
    const std::function<void(std::int64_t, std::int64_t, std::span<const double>)>& fn) const {
  std::vector<double> d2;
  for_each_product(centres, k,
                   [&](std::int64_t begin, std::int64_t end, const float* dots,
                       const std::vector<double>& c_norms) {
                     const std::int64_t rows = end - begin;
                     d2.resize(static_cast<std::size_t>(rows * k));
                     parallel_blocks(rows, kHostRows, [&](std::int64_t lo, std::int64_t hi) {
                       for (std::int64_t i = lo; i < hi; ++i)
                         for (std::int64_t q = 0; q < k; ++q) {
                           // Rounding can make a distance slightly negative; a missing value
                           // keeps it NaN.
                           const double v = sq_norms_[begin + i] + c_norms[q] + dots[i * k + q];
                           d2[i * k + q] = v < 0.0 ? 0.0 : v;
                         }
                     });
                     fn(begin, end,
                        std::span<const double>(d2.data(), static_cast<std::size_t>(rows * k)));
                   });
}

std::vector<std::int32_t> Points::nearest(std::span<const double> centres, std::int64_t k) const {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(rows()));
  for_each_product(centres, k,
                   [&](std::int64_t begin, std::int64_t end, const float* dots,
                       const std::vector<double>& c_norms) {
                     parallel_blocks(end - begin, kHostRows, [&](std::int64_t lo, std::int64_t hi) {
                       for (std::int64_t i = lo; i < hi; ++i) {
                         if (std::isnan(sq_norms_[begin + i])) {
                           labels[begin + i] = -1;
                           continue;
                         }
                         const float* row = dots + i * k;
                         std::int32_t best = 0;
                         double best_v = c_norms[0] + row[0];
                         for (std::int64_t q = 1; q < k; ++q) {
                           const double v = c_norms[q] + row[q];
                           if (v < best_v) best_v = v, best = static_cast<std::int32_t>(q);
                         }
                         labels[begin + i] = best;
                       }
                     });
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
  double s = 0.0;
  for (std::int64_t j = 0; j < x.cols; ++j) {
    const double diff = static_cast<double>(x(row, j)) - centre[j];
    s += diff * diff;
  }
  return s;
}

}  // namespace tabula::cluster

#include "models/linear/solve_predict.hpp"

#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::models {
namespace {

constexpr std::int64_t kRowBlock = 4096;

}  // namespace

std::vector<double> affine_scores(MatrixView<const float> x, std::span<const double> coef,
                                  std::span<const double> intercept) {
  const std::int64_t n = x.rows, d = x.cols;
  const std::int64_t k = static_cast<std::int64_t>(intercept.size());
  TABULA_ASSERT(static_cast<std::int64_t>(coef.size()) == k * d, "affine_scores: coef shape");
  TABULA_ASSERT(x.device.is_cpu(), "affine_scores: x must be host memory");
  std::vector<double> out(static_cast<std::size_t>(n * k));
  parallel_blocks(n, kRowBlock, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t t = 0; t < k; ++t) {
        const double* w = coef.data() + t * d;
        double s = intercept[t];
        for (std::int64_t j = 0; j < d; ++j) s += w[j] * static_cast<double>(x(i, j));
        out[i * k + t] = s;
      }
    }
  });
  return out;
}

}  // namespace tabula::models

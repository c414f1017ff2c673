#include "backend/cpu/gram_kernel.hpp"

#include <algorithm>
#include <type_traits>

#include "tabula/core/error.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tabula::cpu {

#if defined(__x86_64__)
namespace {

constexpr std::int64_t kLine = 64;

// C[ib + i][jb + 8v + l] += sum_r T[r][ib + i] * T[r][jb + 8v + l] for i < 8, v < kVectors.
// 8 * kVectors accumulators + kVectors row loads + 1 broadcast fit in the 32 zmm registers.
// Then prefetches `lines` cache lines from `prefetch` into L2. (Issuing them in a burst after
// the row loop measured faster than spreading them over the rows.)
template <int kVectors>
__attribute__((target("avx512f"))) void panel(const double* tile, std::int64_t m, std::int64_t dp,
                                              std::int64_t ib, std::int64_t jb, double* c,
                                              const char* prefetch, std::int64_t lines) {
  __m512d acc[8][kVectors];
  for (int i = 0; i < 8; ++i)
    for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm512_setzero_pd();
  const double* row = tile;
  for (std::int64_t r = 0; r < m; ++r, row += dp) {
    __m512d xj[kVectors];
    for (int v = 0; v < kVectors; ++v) xj[v] = _mm512_loadu_pd(row + jb + 8 * v);
    for (int i = 0; i < 8; ++i) {
      const __m512d xi = _mm512_set1_pd(row[ib + i]);
      for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm512_fmadd_pd(xi, xj[v], acc[i][v]);
    }
  }
  for (std::int64_t l = 0; l < lines; ++l) _mm_prefetch(prefetch + kLine * l, _MM_HINT_T1);
  for (int i = 0; i < 8; ++i) {
    double* out = c + (ib + i) * dp + jb;
    for (int v = 0; v < kVectors; ++v)
      _mm512_storeu_pd(out + 8 * v, _mm512_add_pd(_mm512_loadu_pd(out + 8 * v), acc[i][v]));
  }
}

}  // namespace

bool gram_kernel_available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

void gram_kernel(const double* tile, std::int64_t m, std::int64_t dp, double* c,
                 const void* prefetch, std::int64_t prefetch_bytes) {
  std::int64_t panels = 0;
  for (std::int64_t ib = 0; ib < dp; ib += 8) panels += (dp - ib + 23) / 24;
  const std::int64_t lines = prefetch == nullptr ? 0 : (prefetch_bytes + kLine - 1) / kLine;
  const std::int64_t lines_per_panel = (lines + panels - 1) / panels;
  const char* next = static_cast<const char*>(prefetch);
  std::int64_t fetched = 0;
  // Each panel prefetches its share, [fetched, fetched + share), of the lines.
  auto run = [&](auto vectors, std::int64_t ib, std::int64_t jb) {
    const std::int64_t share = std::min(lines_per_panel, lines - fetched);
    panel<decltype(vectors)::value>(tile, m, dp, ib, jb, c, next + fetched * kLine, share);
    fetched += share;
  };
  // Panel ib covers rows ib..ib+7 of C from the diagonal block rightwards, 24 columns at a time.
  for (std::int64_t ib = 0; ib < dp; ib += 8) {
    std::int64_t jb = ib;
    for (; jb + 24 <= dp; jb += 24) run(std::integral_constant<int, 3>{}, ib, jb);
    if (dp - jb == 16) run(std::integral_constant<int, 2>{}, ib, jb);
    if (dp - jb == 8) run(std::integral_constant<int, 1>{}, ib, jb);
  }
}

#else

bool gram_kernel_available() { return false; }
void gram_kernel(const double*, std::int64_t, std::int64_t, double*, const void*, std::int64_t) {
  TABULA_ASSERT(false, "gram_kernel needs an x86-64 CPU with AVX-512");
}

#endif

}  // namespace tabula::cpu

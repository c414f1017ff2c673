// A Gram (XᵀX) micro-kernel for CPUs with AVX-512. For d around 100 BLAS dsyrk spends a third
// of its time packing its operands and on the blocks that straddle the diagonal; this kernel
// reads the float64 tile that the gather step already produced and computes the upper
// triangle in panels of 8 rows of C, 8 x 24 accumulators in registers.
#pragma once

#include <cstdint>

namespace tabula::cpu {

/// Columns are padded to a multiple of this for the kernel.
inline constexpr std::int64_t kGramKernelWidth = 8;

/// d rounded up to kGramKernelWidth.
inline std::int64_t gram_kernel_padded(std::int64_t d) {
  return (d + kGramKernelWidth - 1) / kGramKernelWidth * kGramKernelWidth;
}

/// True when this CPU can run the kernel (AVX-512F).
bool gram_kernel_available();

/// C += Tᵀ T over the upper triangle (i <= j), where T is m x dp row-major with row stride dp
/// (dp = gram_kernel_padded(d), padding columns zero) and C is dp x dp row-major. Entries below
/// the diagonal of C inside the 8 x 8 diagonal blocks also change; they are not part of the
/// result. Summation over rows runs in row order, one accumulator per entry.
/// While it computes, the kernel asks the cache to fetch [prefetch, prefetch + prefetch_bytes)
/// (the next block's input), spread over its panels, so the next gather finds it in L2.
void gram_kernel(const double* tile, std::int64_t m, std::int64_t dp, double* c,
                 const void* prefetch = nullptr, std::int64_t prefetch_bytes = 0);

}  // namespace tabula::cpu

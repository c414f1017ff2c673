// e^x from additions, multiplications and a bit shift only: it vectorises (libm's exp is a call
// per value) and gives the same bits on every CPU and C library (libm's last bit varies between
// glibc versions and vector variants). The boosted trees' gradients call it for every row and
// tree. Translation units that use it are compiled with -ffp-contract=off (vector_clones.hpp).
#pragma once

#include <bit>
#include <cstdint>

namespace tabula {

/// e^x for x <= 0: within 2 ulp of the exact value (below 1 ulp for all but ~0.02% of x);
/// e^-708 (about 3.3e-308, never a subnormal or zero) for any x below -708; NaN for NaN.
inline double portable_exp_nonpositive(double x) {
  // x = k ln2 + r with |r| <= ln2 / 2; e^x = 2^k e^r. ln2's high part has 32 significant bits, so
  // k * kLn2High is exact for |k| < 2^20.
  constexpr double kLog2E = 1.44269504088896338700e+00;
  constexpr double kLn2High = 6.93147180369123816490e-01;
  constexpr double kLn2Low = 1.90821492927058770002e-10;
  constexpr double kRoundShift = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  x = x < -708.0 ? -708.0 : x;
  const double shifted = x * kLog2E + kRoundShift;  // k in the low bits of the significand
  const double k = shifted - kRoundShift;
  const double r = (x - k * kLn2High) - k * kLn2Low;
  // Taylor to r^13: the first omitted term is below 2^-57 of e^r for |r| <= ln2 / 2.
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k, k in [-1021, 0]: the low bits of `shifted` hold 2^51 + k, and 2^51 is 0 modulo 2^12,
  // so after adding the bias only k + 1023 (in [2, 1023]) stays in the exponent field.
  const std::uint64_t biased = (std::bit_cast<std::uint64_t>(shifted) + 1023) << 52;
  return p * std::bit_cast<double>(biased);
}

}  // namespace tabula

// Arithmetic the forest shares between the host algorithm, the CPU primitives and the CUDA
// kernels: the counter-based random numbers and the split scan. Written once, so every device
// draws the same features and bootstrap samples and ranks splits with the same operations
// (only +, -, *, / and comparisons on float64, which IEEE 754 rounds identically everywhere;
// CUDA files that include this are compiled without FMA contraction).
#pragma once

#include <cmath>
#include <cstdint>

#include "tabula/backend/forest_split_rule.hpp"

#if defined(__CUDACC__)
#define TABULA_HD __host__ __device__
#else
#define TABULA_HD
#endif

namespace tabula::forest {

/// splitmix64 finaliser: a bijective 64-bit mix.
TABULA_HD inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// The counter-th random 64-bit word of stream `stream` under `seed`: no state, so any thread or
/// device can draw any element of the sequence.
TABULA_HD inline std::uint64_t counter_random(std::uint64_t seed, std::uint64_t stream,
                                              std::uint64_t counter) {
  return mix64(mix64(seed ^ mix64(stream)) + counter);
}

/// Uniform integer in [0, n) from a random word (multiply-high, no modulo bias worth noting).
TABULA_HD inline std::uint64_t uniform_below(std::uint64_t word, std::uint64_t n) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(word, n);
#else
  __extension__ typedef unsigned __int128 U128;
  return static_cast<std::uint64_t>((static_cast<U128>(word) * n) >> 64);
#endif
}

/// Stream domains, so bootstrap draws and feature draws never share a sequence.
inline constexpr std::uint64_t kBootstrapDomain = 0x426F6F7473747261ull;
inline constexpr std::uint64_t kFeatureDomain = 0x4665617475726573ull;

TABULA_HD inline std::uint64_t bootstrap_stream(std::int64_t tree) {
  return kBootstrapDomain ^ static_cast<std::uint64_t>(tree);
}
TABULA_HD inline std::uint64_t feature_stream(std::int64_t tree, std::int64_t node) {
  return kFeatureDomain ^ (static_cast<std::uint64_t>(tree) << 32) ^
         static_cast<std::uint64_t>(node);
}

/// Whether bin `code` of a row goes left under a bin set (kForestCategorySetBytes bytes, bit b
/// of byte b / 8 for bin b; bit 0 is the missing bin): the row partition of a categorical split.
TABULA_HD inline bool bin_in_set(const std::uint8_t* set, std::uint8_t code) {
  return ((set[code >> 3] >> (code & 7)) & 1) != 0;
}

/// Whether value v goes left at a categorical split whose left categories are the bits of `set`
/// (bit c of byte c / 8 for category code c). Anything that is not a code 0..255 (NaN, a
/// negative number, a fraction, 256 or more) is no known category and goes where missing values
/// go, as scikit-learn sends unknown categories; the fitted set already holds every code the
/// training rows never showed on missing_left's side.
TABULA_HD inline bool category_goes_left(const std::uint8_t* set, float v, bool missing_left) {
  if (!(v >= 0.0f && v < 256.0f)) return missing_left;
  const int c = static_cast<int>(v);
  if (static_cast<float>(c) != v) return missing_left;
  return ((set[c >> 3] >> (c & 7)) & 1) != 0;
}

// Products and sums that the CUDA compiler may not fuse into FMAs (a fused result would differ
// from the host's in the last bit).
TABULA_HD inline double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
TABULA_HD inline double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

/// Weighted impurity of a node from its channel sums: the node's weight times its impurity
/// (gini, entropy in bits), or for squared error the part that does not cancel between a
/// parent and its children (-S²/W). A split's impurity decrease is G(parent) - G(left) - G(right).
TABULA_HD inline double weighted_impurity(const std::int64_t* ch, std::int64_t channels,
                                          ForestCriterion criterion) {
  if (criterion == ForestCriterion::kSquaredError) {
    const double w = static_cast<double>(ch[1]);
    if (w <= 0) return 0.0;
    const double s = static_cast<double>(ch[2]);
    return -mul_rn(s, s) / w;
  }
  double w = 0.0;
  for (std::int64_t c = 1; c < channels; ++c) w = add_rn(w, static_cast<double>(ch[c]));
  if (w <= 0) return 0.0;
  double g = 0.0;
  if (criterion == ForestCriterion::kGini) {
    double sq = 0.0;
    for (std::int64_t c = 1; c < channels; ++c) {
      const double wc = static_cast<double>(ch[c]);
      sq = add_rn(sq, mul_rn(wc, wc));
    }
    g = w - sq / w;
  } else {
    for (std::int64_t c = 1; c < channels; ++c) {
      const double wc = static_cast<double>(ch[c]);
      // log2 may differ by an ulp between libm and CUDA: entropy trees can differ across
      // devices in exact ties; gini and squared error cannot.
      if (wc > 0) g = add_rn(g, mul_rn(wc, std::log2(w / wc)));
    }
  }
  return g;
}

/// Gini's weighted impurity from integer sums of one side: w = sum of the class weights, sq =
/// sum of their squares. It is weighted_impurity's value bit for bit whenever every partial sum
/// that weighted_impurity forms in float64 is exact, which holds when the node's weight is at
/// most kExactGiniWeight (then every wc^2 and sum of them is at most w^2 <= 2^52). Integer sums
/// take independent adds where the float64 ones form a chain of dependent adds per class.
inline constexpr std::int64_t kExactGiniWeight = std::int64_t{1} << 26;
TABULA_HD inline double gini_from_sums(std::int64_t w, std::int64_t sq) {
  if (w <= 0) return 0.0;
  const double wd = static_cast<double>(w);
  return wd - static_cast<double>(sq) / wd;
}

/// Whether gini_from_sums gives weighted_impurity's values for the sides of a node: gini, and
/// the node's class weights (total, channels 1..) sum to at most kExactGiniWeight.
TABULA_HD inline bool gini_sums_exact(const std::int64_t* total, std::int64_t channels,
                                      ForestCriterion criterion) {
  if (criterion != ForestCriterion::kGini) return false;
  std::int64_t w = 0;
  for (std::int64_t c = 1; c < channels; ++c) {
    if (total[c] < 0) return false;
    w += total[c];
    if (w > kExactGiniWeight) return false;
  }
  return true;
}

/// The best split of one feature of one node. hist: bins x channels for this feature; total:
/// the node's channel sums. Keeps `best_*` when nothing beats best_gain (strictly).
/// scratch: 2 x channels int64.
struct FeatureSplit {
  double gain;
  std::int32_t bin;
  std::uint8_t missing_left;
  bool found;
};

/// scan_feature's body. kChannels > 0 fixes the channel count at compile time: the left and
/// right sums then live in registers rather than in `left_out` / `right_out` (a store and a
/// reload per bin and channel, one chained on the last); the arithmetic is the same.
template <int kChannels>
TABULA_HD inline void scan_feature_with(const std::int64_t* hist, const std::int64_t* total,
                                        std::int64_t run_time_channels, std::int32_t n_bins,
                                        ForestSplitRule rule, double parent_g,
                                        std::int64_t* left_out, std::int64_t* right_out,
                                        FeatureSplit& best) {
  const std::int64_t channels = kChannels > 0 ? kChannels : run_time_channels;
  std::int64_t left_fixed[kChannels > 0 ? kChannels : 1];
  std::int64_t right_fixed[kChannels > 0 ? kChannels : 1];
  std::int64_t* left = kChannels > 0 ? left_fixed : left_out;
  std::int64_t* right = kChannels > 0 ? right_fixed : right_out;
  const bool has_missing = hist[0] > 0;
  const bool integer_gini = gini_sums_exact(total, channels, rule.criterion);
  for (int ml = 0; ml < (has_missing ? 2 : 1); ++ml) {
    for (std::int64_t c = 0; c < channels; ++c) left[c] = ml ? hist[c] : 0;
    // With missing-left, "all values right" (bin 0) repeats the missing-right, all-values-left
    // split mirrored, so it is skipped: t starts at 1 either way.
    for (std::int32_t t = 1; t < n_bins; ++t) {
      const std::int64_t* h = hist + t * channels;
      if (h[0] == 0 && t > 1) {
        // An empty bin adds nothing: this threshold repeats the previous one.
        continue;
      }
      std::int64_t wl = 0, sl = 0, wr = 0, sr = 0;  // gini's integer sums of each side
      for (std::int64_t c = 0; c < channels; ++c) {
        left[c] += h[c];
        right[c] = total[c] - left[c];
        if (integer_gini && c > 0) {  // no overflow: every sum is at most 2^52
          wl += left[c];
          sl += left[c] * left[c];
          wr += right[c];
          sr += right[c] * right[c];
        }
      }
      if (left[0] < rule.min_samples_leaf || right[0] < rule.min_samples_leaf) continue;
      const double gain = integer_gini
                              ? parent_g - gini_from_sums(wl, sl) - gini_from_sums(wr, sr)
                              : parent_g - weighted_impurity(left, channels, rule.criterion) -
                                    weighted_impurity(right, channels, rule.criterion);
      if (!best.found || gain > best.gain) {
        best.found = true;
        best.gain = gain;
        best.bin = t;
        // A node without missing rows sends future missing values to the larger child.
        best.missing_left =
            has_missing ? static_cast<std::uint8_t>(ml) : (left[0] > right[0] ? 1 : 0);
      }
    }
  }
}

/// The best split of one feature (see FeatureSplit); three channels (regression, two classes)
/// take the fixed-size body.
TABULA_HD inline void scan_feature(const std::int64_t* hist, const std::int64_t* total,
                                   std::int64_t channels, std::int32_t n_bins, ForestSplitRule rule,
                                   double parent_g, std::int64_t* left, std::int64_t* right,
                                   FeatureSplit& best) {
  if (channels == 3)
    scan_feature_with<3>(hist, total, channels, n_bins, rule, parent_g, left, right, best);
  else
    scan_feature_with<0>(hist, total, channels, n_bins, rule, parent_g, left, right, best);
}

}  // namespace tabula::forest

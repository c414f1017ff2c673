// The categorical split scan (see gbdt_category_split.hpp).
#include "models/gbdt/gbdt_category_split.hpp"

#include <algorithm>
#include <vector>

namespace tabula::gbdt {
namespace {

struct Ranked {
  double ratio;
  std::int32_t bin;
};

bool has(const std::uint8_t* bits, std::int32_t b) { return ((bits[b >> 3] >> (b & 7)) & 1) != 0; }
void put(std::uint8_t* bits, std::int32_t b) {
  bits[b >> 3] = static_cast<std::uint8_t>(bits[b >> 3] | (1u << (b & 7)));
}

}  // namespace

// long: scikit-learn's _find_best_bin_to_split_category step by step: rank, then two scans.
bool best_category_split(const std::int64_t* hist, std::int32_t n_bins, const std::int64_t* total,
                         double parent, const GrowConfig& config, const Quantiser& units,
                         double best_gain, CategorySplit& out) {
  // The categories with enough Hessian, the missing bin among them (as a category of its own).
  // Each bin's (count, gradient, Hessian) sums, from its stored channels.
  const std::int64_t k = units.channels();
  std::vector<std::int64_t> sums(static_cast<std::size_t>(n_bins * kSums));
  for (std::int32_t b = 0; b < n_bins; ++b)
    units.unpack(hist + std::int64_t{b} * k, sums.data() + std::int64_t{b} * kSums);
  std::vector<Ranked> ranked;
  for (std::int32_t b = 0; b < n_bins; ++b) {
    const std::int64_t* h = sums.data() + std::int64_t{b} * kSums;
    const double hess = static_cast<double>(h[2]) / units.hessian_scale;
    if (h[0] == 0 || hess < kMinCategorySupport) continue;
    ranked.push_back(
        {static_cast<double>(h[1]) / units.gradient_scale / (hess + kCategorySmooth), b});
  }
  if (ranked.size() <= 1) return false;
  // Integer sums make the ratios exact functions of the data; ties go by bin (category code).
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return a.ratio < b.ratio || (a.ratio == b.ratio && a.bin < b.bin);
  });
  const auto used = static_cast<std::int64_t>(ranked.size());
  const std::int64_t msl = config.min_samples_leaf;
  const double min_h = config.min_hessian * units.hessian_scale;
  const double l2 = config.l2_regularization;
  bool found = false;
  for (const int direction : {1, -1}) {
    // A set and its complement are the same split: half the categories from each end suffice.
    const std::int64_t middle = direction == 1 ? (used + 1) / 2 : (used + 1) / 2 - 1;
    std::int64_t left[kSums] = {};
    for (std::int64_t i = 0; i < middle; ++i) {
      const std::int64_t at = direction == 1 ? i : used - 1 - i;
      const std::int64_t* h =
          sums.data() + std::int64_t{ranked[static_cast<std::size_t>(at)].bin} * kSums;
      for (std::int64_t c = 0; c < kSums; ++c) left[c] += h[c];
      const std::int64_t right_count = total[0] - left[0], right_h = total[2] - left[2];
      if (left[0] < msl || static_cast<double>(left[2]) < min_h) continue;
      if (right_count < msl || static_cast<double>(right_h) < min_h) break;
      const double gain = split_gain(left[1], left[2], total[1], total[2], units, l2, parent);
      if (!(gain > best_gain)) continue;
      best_gain = gain;
      found = true;
      out.gain = gain;
      std::copy_n(left, kSums, out.left);
      out.bins.fill(0);
      for (std::int64_t k = 0; k <= i; ++k)
        put(out.bins.data(),
            ranked[static_cast<std::size_t>(direction == 1 ? k : used - 1 - k)].bin);
    }
  }
  return found;
}

CategoryBits category_set(const CategoryBits& bins, const std::uint8_t* known) {
  CategoryBits set{};
  const bool missing_left = has(bins.data(), 0);
  for (std::int32_t c = 0; c + 1 < 8 * kForestCategorySetBytes; ++c)
    if (has(known, c) ? has(bins.data(), c + 1) : missing_left) put(set.data(), c);
  // Code 255 has no bin (bins stop at 255); it is never a known category.
  if (missing_left) put(set.data(), 8 * kForestCategorySetBytes - 1);
  return set;
}

CategoryBits bin_set(const std::uint8_t* categories, bool missing_left) {
  CategoryBits bins{};
  if (missing_left) put(bins.data(), 0);
  for (std::int32_t c = 0; c + 1 < 8 * kForestCategorySetBytes; ++c)
    if (has(categories, c)) put(bins.data(), c + 1);
  return bins;
}

}  // namespace tabula::gbdt

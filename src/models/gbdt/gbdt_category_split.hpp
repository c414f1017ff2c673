// The split scan of a categorical feature (scikit-learn's and LightGBM's): the node's categories
// sorted by gradient / (Hessian + smoothing), prefixes of that order scanned from both ends, the
// left child a set of categories.
#pragma once

#include <array>
#include <cstdint>

#include "models/gbdt/gbdt_tree.hpp"
#include "tabula/backend/forest_ops.hpp"

namespace tabula::gbdt {

/// A category takes part in a node's split when its Hessian sum reaches this (scikit-learn's
/// MIN_CAT_SUPPORT); smaller ones go right.
inline constexpr double kMinCategorySupport = 10.0;
/// Added to a category's Hessian sum before it is ranked by gradient / Hessian (scikit-learn's
/// MIN_CAT_SUPPORT again; LightGBM's cat_smooth default).
inline constexpr double kCategorySmooth = 10.0;

/// A set of bins or categories: bit b of byte b / 8.
using CategoryBits = std::array<std::uint8_t, kForestCategorySetBytes>;

/// The part G^2 / (H + lambda) of scikit-learn's split gain for integer sums in units.
inline double split_score(std::int64_t g, std::int64_t h, const Quantiser& u, double l2) {
  const double gr = static_cast<double>(g) / u.gradient_scale;
  const double hr = static_cast<double>(h) / u.hessian_scale;
  return gr * gr / (hr + l2);
}

/// A candidate's gain, split_score(left) + split_score(right) - parent, for left sums (g, h) of
/// a node's (total_g, total_h): both sides in two-lane vector operations, each lane the same
/// correctly rounded operations as split_score's, so the same gain bit for bit with half the
/// division instructions (six a candidate).
inline double split_gain(std::int64_t g, std::int64_t h, std::int64_t total_g, std::int64_t total_h,
                         const Quantiser& u, double l2, double parent) {
#if defined(__GNUC__)
  using Pair = double __attribute__((vector_size(16)));
  const Pair gr = Pair{static_cast<double>(g), static_cast<double>(total_g - g)} / u.gradient_scale;
  const Pair hr = Pair{static_cast<double>(h), static_cast<double>(total_h - h)} / u.hessian_scale;
  const Pair score = gr * gr / (hr + l2);
  return score[0] + score[1] - parent;
#else
  return split_score(g, h, u, l2) + split_score(total_g - g, total_h - h, u, l2) - parent;
#endif
}

struct CategorySplit {
  double gain = 0.0;
  std::int64_t left[kSums] = {};  // count, gradient, Hessian
  CategoryBits bins{};            // bins going left; bit 0: the missing bin
};

/// The best categorical split of one feature of a node: hist is its histogram (n_bins x
/// units.channels(); bin 0 missing, bin 1 + c category c), total the node's sums, parent its
/// split_score. Returns true and fills `out` when a split has gain > best_gain and respects
/// min_samples_leaf and min_hessian on both sides. Ties keep the earlier candidate: the
/// ascending scan before the descending one, shorter prefixes first; categories of equal ratio
/// rank by code (missing first).
bool best_category_split(const std::int64_t* hist, std::int32_t n_bins, const std::int64_t* total,
                         double parent, const GrowConfig& config, const Quantiser& units,
                         double best_gain, CategorySplit& out);

/// The model's category set for a split's left bins: category c goes left when bin 1 + c does;
/// a category the training rows never showed (not in `known`) goes with the missing bin, as
/// scikit-learn sends unknown categories.
CategoryBits category_set(const CategoryBits& bins, const std::uint8_t* known);

/// The left bins of a split from the model's category set and missing side (the inverse of
/// category_set on the bins a row can have).
CategoryBits bin_set(const std::uint8_t* categories, bool missing_left);

}  // namespace tabula::gbdt

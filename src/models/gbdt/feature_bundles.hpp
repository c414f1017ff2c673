// Exclusive feature bundles (LightGBM's EFB, without its tolerated conflicts): features whose
// rows never leave their most frequent bin at the same time (one-hot columns, mostly-zero
// counts) share one histogram column. A row adds one value per bundle instead of one per
// feature, and each feature's histogram is read back exactly: its bins outside the default from
// the bundle's, the default bin as the bundle's total less those (integer sums), so the trees
// are the same as without bundles. ggplot2 diamonds one-hot (26 features: 6 numbers, 20
// indicator columns of three categoricals) becomes 9 columns.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tabula/models/forest/forest.hpp"

namespace tabula::gbdt {

class FeatureBundles {
 public:
  /// Bundles the features of `bins` from their codes, feature-major (d x n, host memory);
  /// a bundle holds at most bins.max_bins() codes (its histogram fits a feature's slot).
  /// Features stay alone when no other feature is exclusive with them (every numeric one of
  /// diamonds); empty() when no bundle holds two features.
  FeatureBundles(const BinnedMatrix& bins, std::span<const std::uint8_t> columns);

  bool empty() const { return codes_.empty(); }
  /// Histogram columns (bundles; features alone are bundles of one).
  std::int64_t size() const { return size_; }
  /// The bundles' codes, n x size() row-major, host memory (empty() without bundles). Code 0 of
  /// a shared bundle: every member at its default bin; member f's other bins b follow at
  /// offset(f) + (b < default(f) ? b : b - 1). A bundle of one holds its feature's codes.
  MatrixView<const std::uint8_t> codes() const;
  std::int32_t bundle_of(std::int64_t feature) const { return bundle_[as_index(feature)]; }

  /// Feature f's histogram (n_bins(f) x k int64) from the histogram of its bundle (bundle_hist:
  /// max_bins x k, the bundle's slot): a pointer into it for a bundle of one, else written
  /// into `scratch` (resized) and a pointer to that.
  const std::int64_t* feature_histogram(std::int64_t feature, const std::int64_t* bundle_hist,
                                        std::int64_t k, std::vector<std::int64_t>& scratch) const;

 private:
  static std::size_t as_index(std::int64_t i) { return static_cast<std::size_t>(i); }

  const BinnedMatrix& bins_;
  std::int64_t size_ = 0;
  std::vector<std::int32_t> bundle_;        // per feature
  std::vector<std::int32_t> offset_;        // per feature: its first bundle code, 0 when alone
  std::vector<std::uint8_t> default_bin_;   // per feature: its most frequent bin
  std::vector<std::int32_t> bundle_codes_;  // per bundle: codes in use
  std::vector<std::uint8_t> codes_;         // n x size_
};

}  // namespace tabula::gbdt

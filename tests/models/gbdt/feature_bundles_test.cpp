// Exclusive feature bundles: which features share a histogram column, each feature's
// histogram read back from its bundle's exactly, and the same trees with and without bundles.
#include "models/gbdt/feature_bundles.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "models/forest/forest_builder.hpp"
#include "models/gbdt/gbdt_test_support.hpp"

namespace tabula {
namespace {

using gbdt_test::cpu;

// Two numeric columns (the first with missing values), then one-hot columns of categoricals
// with `levels` roughly equally frequent levels each (so every indicator is mostly 0); the
// last level of the last categorical is missing in every 11th row, its indicators then NaN.
struct OneHot {
  std::int64_t n = 0, d = 0;
  std::vector<float> x;
  std::vector<double> y;
  MatrixView<const float> view() const {
    return MatrixView<const float>::row_major(x.data(), n, d);
  }
};

OneHot one_hot_table(std::int64_t n, const std::vector<int>& levels, std::uint64_t seed) {
  OneHot t;
  t.n = n;
  t.d = 2;
  for (const int l : levels) t.d += l;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    const float a = i % 13 == 0 ? NAN : u(rng), b = u(rng);
    t.x.push_back(a);
    t.x.push_back(b);
    double target = std::isnan(a) ? 0.5 : std::sin(2 * a) + b * b;
    for (std::size_t g = 0; g < levels.size(); ++g) {
      const int level = static_cast<int>(rng() % static_cast<std::uint64_t>(levels[g]));
      const bool missing = g + 1 == levels.size() && i % 11 == 0;
      for (int l = 0; l < levels[g]; ++l) t.x.push_back(missing ? NAN : (l == level ? 1.0f : 0.0f));
      target += 0.3 * static_cast<double>(g + 1) * level;
    }
    t.y.push_back(target);
  }
  return t;
}

// hist (columns x bins x k) of channel rows ch (n x k) by the codes (n x columns, row-major).
std::vector<std::int64_t> direct_histograms(MatrixView<const std::uint8_t> codes,
                                            const std::vector<std::int64_t>& ch, std::int64_t bins,
                                            std::int64_t k) {
  std::vector<std::int64_t> hist(static_cast<std::size_t>(codes.cols * bins * k));
  for (std::int64_t r = 0; r < codes.rows; ++r)
    for (std::int64_t j = 0; j < codes.cols; ++j)
      for (std::int64_t c = 0; c < k; ++c)
        hist[static_cast<std::size_t>((j * bins + codes(r, j)) * k + c)] +=
            ch[static_cast<std::size_t>(r * k + c)];
  return hist;
}

TEST(FeatureBundlesTest, OneHotColumnsShareABundleAndEveryHistogramReadsBackExactly) {
  const OneHot t = one_hot_table(3000, {3, 4, 5}, 7);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 32);
  const std::vector<std::uint8_t> columns = forest::feature_major_codes(bins);
  const gbdt::FeatureBundles bundles(bins, columns);
  ASSERT_FALSE(bundles.empty());
  // The numeric columns stay alone; each categorical's indicators share one bundle; two
  // categoricals never share (every row sets an indicator of each). The last categorical's
  // missing rows are outside every one of its indicators' default at once: they conflict, so
  // that categorical cannot be one bundle.
  EXPECT_NE(bundles.bundle_of(0), bundles.bundle_of(1));
  for (std::int64_t f = 3; f < 5; ++f) EXPECT_EQ(bundles.bundle_of(f), bundles.bundle_of(2));
  for (std::int64_t f = 6; f < 9; ++f) EXPECT_EQ(bundles.bundle_of(f), bundles.bundle_of(5));
  EXPECT_NE(bundles.bundle_of(2), bundles.bundle_of(5));
  for (std::int64_t f = 2; f < t.d; ++f) {
    EXPECT_NE(bundles.bundle_of(f), bundles.bundle_of(0)) << "feature " << f;
    EXPECT_NE(bundles.bundle_of(f), bundles.bundle_of(1)) << "feature " << f;
  }
  for (std::int64_t f = 9; f < t.d; ++f)
    EXPECT_NE(bundles.bundle_of(f), bundles.bundle_of(2)) << "feature " << f;
  EXPECT_LT(bundles.size(), t.d - 4);
  EXPECT_EQ(bundles.codes().rows, t.n);
  EXPECT_EQ(bundles.codes().cols, bundles.size());

  std::mt19937_64 rng(3);
  for (const std::int64_t k : {2, 3}) {
    std::vector<std::int64_t> ch(static_cast<std::size_t>(t.n * k));
    for (std::int64_t& v : ch) v = static_cast<std::int64_t>(rng() % 2001) - 1000;
    const std::int64_t nb = bins.max_bins();
    const std::vector<std::int64_t> by_feature = direct_histograms(bins.codes(), ch, nb, k);
    const std::vector<std::int64_t> by_bundle = direct_histograms(bundles.codes(), ch, nb, k);
    std::vector<std::int64_t> scratch;
    for (std::int64_t f = 0; f < t.d; ++f) {
      const std::int64_t* h = bundles.feature_histogram(
          f, by_bundle.data() + bundles.bundle_of(f) * nb * k, k, scratch);
      for (std::int64_t b = 0; b < bins.n_bins()[static_cast<std::size_t>(f)] * k; ++b)
        ASSERT_EQ(h[b], by_feature[static_cast<std::size_t>(f * nb * k + b)])
            << "feature " << f << ", bin " << b / k << ", channel " << b % k << ", k " << k;
    }
  }
}

TEST(FeatureBundlesTest, DenseFeaturesMakeNoBundles) {
  const OneHot t = one_hot_table(2000, {}, 9);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 32);
  const std::vector<std::uint8_t> columns = forest::feature_major_codes(bins);
  EXPECT_TRUE(gbdt::FeatureBundles(bins, columns).empty());
  const std::vector<std::uint8_t> short_columns(columns.begin(), columns.end() - 1);
  EXPECT_NE(gbdt_test::message([&] {
              gbdt::FeatureBundles(bins, short_columns);
            }).find("feature-major codes"),
            std::string::npos);
}

// Bundles change which columns the histograms add, never a sum: the trees (splits, leaf
// values, row counts) and every training row's update are those of per-feature histograms,
// over several trees, with all features or a draw of them at each node.
TEST(FeatureBundlesTest, BundledAndPerFeatureHistogramsGrowTheSameTrees) {
  const OneHot t = one_hot_table(8000, {3, 5, 8}, 11);
  const BinnedMatrix bins = BinnedMatrix::build(cpu(), t.view(), 64);
  for (const std::int64_t max_features : {t.d, t.d / 3}) {
    gbdt::GrowConfig config;
    config.max_leaf_nodes = 31;
    config.max_features = max_features;
    config.seed = 5;
    std::vector<std::vector<double>> raws;
    std::vector<std::vector<gbdt::GrownTree>> trees;
    for (const bool bundle : {true, false}) {
      gbdt::FitRows rows(cpu(), bins, true, nullptr, bundle);
      EXPECT_EQ(rows.bundles() != nullptr, bundle);
      std::vector<double> raw(t.y.size(), 0.0);
      trees.push_back(gbdt_test::grow_squared_error_trees(bins, config, rows, t.y, 3, raw));
      raws.push_back(raw);
    }
    for (const gbdt::GrownTree& grown : trees[0]) EXPECT_GT(grown.tree.leaves(0), 20);
    gbdt_test::expect_same_trees(trees[0], trees[1]);
    // Some split uses an indicator, read back from its bundle.
    bool indicator_split = false;
    for (const gbdt::GrownTree& grown : trees[0])
      for (const std::int32_t f : grown.tree.feature) indicator_split |= f >= 2;
    EXPECT_TRUE(indicator_split) << "max_features " << max_features;
    EXPECT_EQ(raws[0], raws[1]) << "max_features " << max_features;
  }
}

}  // namespace
}  // namespace tabula

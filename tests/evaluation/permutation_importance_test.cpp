// Permutation importance against a scorer whose dependence on each column is known.
#include "evaluation/permutation_importance.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tabula/core/error.hpp"

namespace tabula::evaluation {
namespace {

/// "signal" decides the label, "noise" is random, "city" (text) is ignored by the scorer.
Dataset table(std::vector<double>& label) {
  Dataset d;
  d.source = "t.csv";
  Column signal{"signal", ColumnType::kNumeric, {}, {}, {}};
  Column noise{"noise", ColumnType::kNumeric, {}, {}, {}};
  Column city{"city", ColumnType::kCategorical, {}, {}, {"a", "b", "c"}};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 400; ++i) {
    signal.numeric.push_back(static_cast<double>(rng() % 1000) / 1000.0 - 0.5);
    noise.numeric.push_back(static_cast<double>(rng() % 1000));
    city.codes.push_back(static_cast<std::int32_t>(rng() % 3));
    label.push_back(signal.numeric.back() > 0 ? 1.0 : 0.0);
  }
  d.columns = {signal, noise, city};
  return d;
}

TEST(PermutationImportance, OnlyTheColumnTheScoreUsesMatters) {
  std::vector<double> label;
  const Dataset data = table(label);
  // Accuracy of the rule "signal > 0": perfect on the data, about one half when shuffled.
  auto score = [&](const Dataset& d) {
    double right = 0;
    for (std::size_t i = 0; i < label.size(); ++i)
      right += (d.columns[0].numeric[i] > 0 ? 1.0 : 0.0) == label[i];
    return right / static_cast<double>(label.size());
  };
  const auto found = permutation_importance(data, {"signal", "noise", "city"}, score, 1.0, 5, 7);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].column, "signal");
  EXPECT_GT(found[0].mean, 0.35);
  EXPECT_LT(found[0].mean, 0.65);
  EXPECT_GT(found[0].std, 0.0);  // the repeats shuffle differently
  ASSERT_EQ(found[0].drops.size(), 5u);
  for (std::size_t k : {1u, 2u}) {
    EXPECT_EQ(found[k].mean, 0.0) << found[k].column;
    EXPECT_EQ(found[k].std, 0.0) << found[k].column;
  }
  // The data itself is left as it was.
  EXPECT_EQ(score(data), 1.0);
}

TEST(PermutationImportance, SeededShufflesAndTextColumnsAsOne) {
  std::vector<double> label;
  const Dataset data = table(label);
  auto mean_of = [](const Dataset& d) {
    double s = 0;
    for (std::int32_t c : d.columns[2].codes) s += c;
    for (std::size_t i = 0; i < 50; ++i) s += d.columns[1].numeric[i] * static_cast<double>(i);
    return s;
  };
  const double base = mean_of(data);
  const auto a = permutation_importance(data, {"noise", "city"}, mean_of, base, 3, 11);
  const auto b = permutation_importance(data, {"noise", "city"}, mean_of, base, 3, 11);
  const auto c = permutation_importance(data, {"noise", "city"}, mean_of, base, 3, 12);
  EXPECT_EQ(a[0].drops, b[0].drops);
  EXPECT_NE(a[0].drops, c[0].drops);
  // Shuffling codes keeps their sum: a text column is permuted as one feature, values intact.
  for (double d : a[1].drops) EXPECT_EQ(d, 0.0);
  EXPECT_THROW(permutation_importance(data, {"absent"}, mean_of, base, 3, 1), InputError);
  EXPECT_THROW(permutation_importance(data, {"noise"}, mean_of, base, 0, 1), InputError);
}

}  // namespace
}  // namespace tabula::evaluation

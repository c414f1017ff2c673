// The paired bootstrap's counted metrics against the registry's scorers on materialised rows,
// the resamples' determinism, and the interval's quantile against numpy's definition.
#include "evaluation/paired_bootstrap.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::evaluation {
namespace {

/// Rows of a k-class problem (k = 0: regression) with coarse probabilities, so scores tie.
struct Table {
  std::vector<double> y, pred, proba;
  std::int64_t k = 0;
  ScoredRows rows() const { return {y, pred, proba, k}; }
};

Table make_table(std::int64_t k, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Table t;
  t.k = k;
  for (std::size_t i = 0; i < n; ++i) {
    if (k == 0) {
      t.y.push_back(static_cast<double>(rng() % 1000) / 100.0);
      t.pred.push_back(t.y.back() + static_cast<double>(rng() % 300) / 100.0 - 1.5);
      continue;
    }
    const auto truth = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(k));
    std::vector<double> w(static_cast<std::size_t>(k));
    double sum = 0.0;
    for (std::int64_t c = 0; c < k; ++c) {
      w[c] = static_cast<double>(1 + rng() % 4) + (c == truth ? 3.0 : 0.0);
      sum += w[c];
    }
    std::int64_t best = 0;
    for (std::int64_t c = 0; c < k; ++c) {
      t.proba.push_back(w[c] / sum);
      if (w[c] > w[best]) best = c;
    }
    t.y.push_back(static_cast<double>(truth));
    t.pred.push_back(static_cast<double>(best));
  }
  return t;
}

const std::vector<std::string> kClassification = {"accuracy", "balanced_accuracy", "f1_macro",
                                                  "roc_auc", "neg_log_loss"};
const std::vector<std::string> kRegression = {
    "r2", "neg_mean_squared_error", "neg_root_mean_squared_error", "neg_mean_absolute_error"};

/// The rows of `t` repeated as `counts` says: the resample as a copied table.
Table materialise(const Table& t, std::span<const std::uint32_t> counts) {
  Table out;
  out.k = t.k;
  const auto k = static_cast<std::size_t>(t.k);
  for (std::size_t i = 0; i < counts.size(); ++i)
    for (std::uint32_t r = 0; r < counts[i]; ++r) {
      out.y.push_back(t.y[i]);
      out.pred.push_back(t.pred[i]);
      for (std::size_t c = 0; c < k; ++c) out.proba.push_back(t.proba[i * k + c]);
    }
  return out;
}

double registry_score(const std::string& name, const Table& t) {
  return metrics::score(name, t.y, t.pred, t.proba, t.k);
}

void expect_counted_equals_registry(const Table& t, const std::vector<std::string>& names) {
  const std::size_t n = t.y.size();
  std::vector<std::uint32_t> counts(n, 1);
  for (const std::string& name : names) {
    const CountedScorer scorer(name, t.rows());
    EXPECT_NEAR(scorer(counts), registry_score(name, t), 1e-12) << name << " all rows once";
    for (std::int64_t r = 0; r < 5; ++r) {
      resample_counts(7, r, counts);
      EXPECT_NEAR(scorer(counts), registry_score(name, materialise(t, counts)), 1e-12)
          << name << " resample " << r;
    }
    std::fill(counts.begin(), counts.end(), 1u);
  }
}

TEST(CountedScorer, EqualsTheRegistryOnBinaryRows) {
  const Table t = make_table(2, 300, 1);
  std::vector<std::string> names = kClassification;
  names.push_back("f1");
  expect_counted_equals_registry(t, names);
}

TEST(CountedScorer, EqualsTheRegistryOnMulticlassRows) {
  expect_counted_equals_registry(make_table(4, 400, 2), kClassification);
}

TEST(CountedScorer, EqualsTheRegistryOnRegressionRows) {
  expect_counted_equals_registry(make_table(0, 250, 3), kRegression);
}

TEST(CountedScorer, UndefinedWhereTheRegistryRefuses) {
  const Table t = make_table(3, 30, 4);
  std::vector<std::uint32_t> counts(t.y.size(), 0);
  for (std::size_t i = 0; i < t.y.size(); ++i)
    if (t.y[i] != 2.0) counts[i] = 1;  // class 2 absent
  const Table kept = materialise(t, counts);
  EXPECT_THROW(registry_score("roc_auc", kept), InputError);
  EXPECT_TRUE(std::isnan(CountedScorer("roc_auc", t.rows())(counts)));
  // Other metrics stay defined on the same resample.
  EXPECT_NEAR(CountedScorer("accuracy", t.rows())(counts), registry_score("accuracy", kept), 1e-12);
}

TEST(CountedScorer, RefusesWhatItCannotCompute) {
  Table t = make_table(2, 20, 5);
  EXPECT_THROW(CountedScorer("explained_variance", t.rows()), InputError);
  t.proba.clear();
  EXPECT_THROW(CountedScorer("roc_auc", t.rows()), InputError);
  t.pred[3] = 7.0;
  EXPECT_THROW(CountedScorer("accuracy", t.rows()), InputError);
}

TEST(ResampleCounts, DeterministicPerSeedAndIndex) {
  std::vector<std::uint32_t> first(1000), again(1000), other(1000), next(1000);
  resample_counts(11, 3, first);
  resample_counts(11, 3, again);
  resample_counts(12, 3, other);
  resample_counts(11, 4, next);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  EXPECT_NE(first, next);
  std::uint64_t total = 0, absent = 0;
  for (std::uint32_t c : first) {
    total += c;
    absent += c == 0;
  }
  EXPECT_EQ(total, 1000u);
  // About 1/e of the rows are never drawn.
  EXPECT_NEAR(static_cast<double>(absent) / 1000.0, std::exp(-1.0), 0.05);
}

TEST(PairedDifferences, ZeroForAModelAgainstItselfAndIndependentOfThreads) {
  const Table a = make_table(2, 500, 6), b = make_table(2, 500, 7);
  Table b_on_a = b;
  b_on_a.y = a.y;  // the same rows' targets; only the predictions differ
  std::vector<CountedScorer> sa, sb, same;
  for (const std::string& name : kClassification) {
    sa.emplace_back(name, a.rows());
    sb.emplace_back(name, b_on_a.rows());
  }
  const BootstrapOptions options{200, 0.95, 9};
  for (const auto& d : paired_differences(sa, sa, 500, options))
    for (double v : d) EXPECT_EQ(v, 0.0);
  set_thread_count(1);
  const auto one = paired_differences(sa, sb, 500, options);
  set_thread_count(2);
  const auto two = paired_differences(sa, sb, 500, options);
  set_thread_count(0);
  EXPECT_EQ(one.size(), kClassification.size());
  for (std::size_t m = 0; m < one.size(); ++m)
    for (std::size_t r = 0; r < one[m].size(); ++r) EXPECT_EQ(one[m][r], two[m][r]);
}

TEST(Quantile, LinearInterpolationAsNumpy) {
  // numpy.percentile([3, 1, 4, 1, 5, nan-free], [0, 25, 50, 97.5, 100])
  const std::vector<double> v{3, 1, 4, 1, 5};
  EXPECT_DOUBLE_EQ(quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile(v, 0.25), 1.0);
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(quantile(v, 0.975), 4.9);
  EXPECT_DOUBLE_EQ(quantile(v, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(quantile({2.0, NAN, 4.0}, 0.5), 3.0);  // undefined resamples left out
  EXPECT_TRUE(std::isnan(quantile({NAN}, 0.5)));
}

}  // namespace
}  // namespace tabula::evaluation

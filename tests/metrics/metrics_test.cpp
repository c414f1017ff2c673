// Hand-checked cases for every metric; tests/python/test_metrics_conformance.py compares with
// scikit-learn on random and tied inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {
namespace {

using V = std::vector<double>;

TEST(Metrics, AccuracyCountsMatches) {
  EXPECT_DOUBLE_EQ(accuracy(V{0, 1, 1, 0}, V{0, 1, 0, 0}), 0.75);
  EXPECT_THROW(accuracy(V{0, 1}, V{0}), InputError);
  EXPECT_THROW(accuracy(V{}, V{}), InputError);
}

TEST(Metrics, PrecisionRecallF1Averages) {
  const V y_true{0, 1, 1, 1, 0};
  const V y_pred{1, 1, 0, 0, 0};
  // Label 1: tp 1, predicted 2, true 3. Label 0: tp 1, predicted 3, true 2.
  EXPECT_DOUBLE_EQ(precision(y_true, y_pred), 0.5);
  EXPECT_DOUBLE_EQ(recall(y_true, y_pred), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(f1(y_true, y_pred), 0.4);
  EXPECT_DOUBLE_EQ(precision(y_true, y_pred, Average::kMacro), (1.0 / 3.0 + 0.5) / 2.0);
  EXPECT_DOUBLE_EQ(precision(y_true, y_pred, Average::kWeighted), (2.0 / 3.0 + 1.5) / 5.0);
  EXPECT_DOUBLE_EQ(recall(y_true, y_pred, Average::kMacro), (0.5 + 1.0 / 3.0) / 2.0);
  EXPECT_DOUBLE_EQ(f1(y_true, y_pred, Average::kMacro), 0.4);
}

TEST(Metrics, ZeroDivisionIsZeroAndBinaryNeedsLabelOne) {
  EXPECT_EQ(precision(V{0, 0}, V{0, 0}), 0.0);
  EXPECT_EQ(f1(V{0, 0}, V{0, 0}), 0.0);
  EXPECT_EQ(precision(V{1, 1}, V{0, 0}), 0.0);           // nothing predicted positive
  EXPECT_THROW(f1(V{0, 2}, V{0, 2}), InputError);        // pos_label=1 absent
  EXPECT_THROW(f1(V{0, 1, 2}, V{0, 1, 2}), InputError);  // multiclass with binary average
  EXPECT_THROW(f1(V{0, 0.5}, V{0, 1}), InputError);      // continuous labels
}

TEST(Metrics, BalancedAccuracyDropsPredictedOnlyClasses) {
  EXPECT_DOUBLE_EQ(balanced_accuracy(V{0, 0, 0, 1}, V{0, 0, 1, 1}), (2.0 / 3.0 + 1.0) / 2.0);
  EXPECT_DOUBLE_EQ(balanced_accuracy(V{0, 1}, V{2, 1}), 0.5);
}

TEST(Metrics, RocAucBinaryWithTies) {
  EXPECT_DOUBLE_EQ(roc_auc(V{0, 0, 1, 1}, V{0.1, 0.4, 0.35, 0.8}), 0.75);
  // Ties count one half per (positive, negative) pair.
  EXPECT_DOUBLE_EQ(roc_auc(V{0, 1, 0, 1}, V{0.5, 0.5, 0.5, 0.9}), 0.75);
  EXPECT_DOUBLE_EQ(roc_auc(V{0, 1}, V{0.3, 0.3}), 0.5);
  // The larger label is the positive one.
  EXPECT_DOUBLE_EQ(roc_auc(V{3, 7, 7}, V{0.9, 0.1, 0.2}), 0.0);
  EXPECT_THROW(roc_auc(V{1, 1, 1}, V{0.1, 0.2, 0.3}), InputError);
}

TEST(Metrics, RocAucOneVsRestMacro) {
  const V y{0, 1, 2, 2};
  // Each column ranks its own class first: every one-vs-rest AUC is 1.
  const V perfect{0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.2, 0.7, 0.0, 0.4, 0.6};
  EXPECT_DOUBLE_EQ(roc_auc_ovr(y, perfect, 3), 1.0);
  // Class 0 column reversed: its AUC is 0, the others stay 1.
  const V reversed{0.1, 0.45, 0.45, 0.3, 0.6, 0.1, 0.3, 0.1, 0.6, 0.3, 0.0, 0.7};
  EXPECT_NEAR(roc_auc_ovr(y, reversed, 3), 2.0 / 3.0, 1e-15);
  const V not_summing{0.8, 0.1, 0.0, 0.1, 0.8, 0.1, 0.1, 0.2, 0.7, 0.0, 0.4, 0.6};
  EXPECT_THROW(roc_auc_ovr(y, not_summing, 3), InputError);
  EXPECT_THROW(roc_auc_ovr(V{0, 1, 1, 1}, perfect, 3), InputError);  // 2 classes, 3 columns
}

TEST(Metrics, LogLossClipsAtEpsilon) {
  EXPECT_DOUBLE_EQ(log_loss(V{0, 1}, V{0.9, 0.1, 0.2, 0.8}, 2),
                   -(std::log(0.9) + std::log(0.8)) / 2.0);
  const double eps = std::numeric_limits<double>::epsilon();
  EXPECT_DOUBLE_EQ(log_loss(V{0, 1}, V{0.0, 1.0, 0.0, 1.0}, 2),
                   (-std::log(eps) - std::log(1.0 - eps)) / 2.0);
  // Labels other than 0..k-1 map to columns in sorted order.
  EXPECT_DOUBLE_EQ(log_loss(V{5, 9}, V{0.9, 0.1, 0.2, 0.8}, 2),
                   log_loss(V{0, 1}, V{0.9, 0.1, 0.2, 0.8}, 2));
  EXPECT_THROW(log_loss(V{0, 1}, V{1.5, -0.5, 0.2, 0.8}, 2), InputError);
}

TEST(Metrics, RegressionErrors) {
  const V y{1, 2, 3};
  const V p{1, 2, 5};
  EXPECT_DOUBLE_EQ(mean_squared_error(y, p), 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(root_mean_squared_error(y, p), std::sqrt(4.0 / 3.0));
  EXPECT_DOUBLE_EQ(mean_absolute_error(y, p), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r2(y, V{1, 2, 4}), 0.5);
  EXPECT_DOUBLE_EQ(r2(y, V{2, 3, 4}), -0.5);
  EXPECT_DOUBLE_EQ(explained_variance(y, V{2, 3, 4}), 1.0);  // a constant offset is explained
  EXPECT_THROW(r2(y, V{1, NAN, 3}), InputError);
}

TEST(Metrics, ConstantTargetFollowsForceFinite) {
  EXPECT_EQ(r2(V{2, 2, 2}, V{2, 2, 2}), 1.0);
  EXPECT_EQ(r2(V{2, 2, 2}, V{2, 2, 2.5}), 0.0);
  EXPECT_EQ(explained_variance(V{2, 2, 2}, V{2, 2, 2}), 1.0);
  EXPECT_EQ(explained_variance(V{2, 2, 2}, V{1, 2, 2}), 0.0);
  EXPECT_TRUE(std::isnan(r2(V{1}, V{1})));
}

TEST(Metrics, ScorerDispatchSignsAndKinds) {
  const V y{1, 2, 3};
  const V p{1, 2, 5};
  EXPECT_DOUBLE_EQ(score("neg_mean_squared_error", y, p), -4.0 / 3.0);
  EXPECT_DOUBLE_EQ(score("neg_mean_absolute_error", y, p), -2.0 / 3.0);
  EXPECT_DOUBLE_EQ(score("r2", y, V{1, 2, 4}), 0.5);
  EXPECT_DOUBLE_EQ(score("f1_weighted", V{0, 1, 1, 1, 0}, V{1, 1, 0, 0, 0}),
                   (0.4 * 2 + 0.4 * 3) / 5.0);
  EXPECT_DOUBLE_EQ(score("neg_log_loss", V{0, 1}, {}, V{0.9, 0.1, 0.2, 0.8}, 2),
                   (std::log(0.9) + std::log(0.8)) / 2.0);
  EXPECT_TRUE(scorer("roc_auc").needs_proba);
  EXPECT_EQ(scorer("roc_auc").task, ScorerTask::kClassification);
  EXPECT_EQ(scorer("explained_variance").task, ScorerTask::kRegression);
  EXPECT_FALSE(scorer("accuracy").needs_proba);
  EXPECT_THROW(scorer("auc"), InputError);
  EXPECT_THROW(score("roc_auc", V{0, 1}, V{0, 1}), InputError);  // no probabilities given
}

}  // namespace
}  // namespace tabula::metrics

namespace tabula::metrics {
namespace {

// Seven rows in three clusters, one a singleton (silhouette 0 for it). Expected values from
// sklearn.metrics.silhouette_score and davies_bouldin_score on the same rows.
const std::vector<float> kRows = {0, 0, 1, 0, 0, 1, 5, 5, 6, 5, 5, 7, 9, 0};

TEST(ClusterMetrics, MatchScikitLearn) {
  const Rows x{kRows, 2};
  const std::vector<double> three = {0, 0, 0, 1, 1, 1, 2}, two = {4, 4, 7, 7, 7, 7, 7};
  EXPECT_NEAR(silhouette(x, three), 0.6800878362396785, 1e-9);
  EXPECT_NEAR(davies_bouldin(x, three), 0.2031521330791739, 1e-9);
  EXPECT_NEAR(silhouette(x, two), 0.32106452571492833, 1e-9);  // any label values
  EXPECT_NEAR(davies_bouldin(x, two), 0.6954076045336418, 1e-9);
  // Within-cluster sum of squares by hand: about mean (1/3, 1/3), 2/9 + 5/9 + 5/9 = 4/3; about
  // (16/3, 17/3), 5/9 + 8/9 + 17/9 = 10/3; the singleton 0.
  EXPECT_NEAR(inertia(x, three), 4.0 / 3.0 + 10.0 / 3.0, 1e-9);
  // Scorers: greater is better.
  EXPECT_NEAR(score("neg_inertia", {}, three, {}, 0, x), -14.0 / 3.0, 1e-9);
  EXPECT_NEAR(score("neg_davies_bouldin", {}, three, {}, 0, x), -0.2031521330791739, 1e-9);
  EXPECT_EQ(scorer("silhouette").task, ScorerTask::kClustering);
  EXPECT_THROW(score("silhouette", {}, three), InputError);  // no rows
}

TEST(ClusterMetrics, LabelCountsOutsideTwoToNMinusOneAreErrors) {
  const Rows x{kRows, 2};
  EXPECT_THROW(silhouette(x, std::vector<double>(7, 0.0)), InputError);
  EXPECT_THROW(davies_bouldin(x, std::vector<double>{0, 1, 2, 3, 4, 5, 6}), InputError);
  EXPECT_THROW(silhouette(x, std::vector<double>{0, 0, 1}), InputError);  // length mismatch
}

TEST(ClusterMetrics, SampledSilhouetteIsSeededAndClose) {
  // Two well separated blobs of 1500 rows: the 500-row sample's score is near the exact one,
  // and the same seed draws the same rows.
  std::vector<float> rows;
  std::vector<double> labels;
  for (int i = 0; i < 3000; ++i) {
    const float base = i % 2 == 0 ? 0.0f : 10.0f;
    rows.push_back(base + static_cast<float>((i * 37) % 101) / 100.0f);
    rows.push_back(static_cast<float>((i * 53) % 97) / 97.0f);
    labels.push_back(i % 2);
  }
  const Rows x{rows, 2};
  const double exact = silhouette(x, labels, 0);
  const double sampled = silhouette(x, labels, 500, 3);
  EXPECT_NEAR(sampled, exact, 0.01);
  EXPECT_EQ(sampled, silhouette(x, labels, 500, 3));
  EXPECT_NE(sampled, silhouette(x, labels, 500, 4));
}

}  // namespace
}  // namespace tabula::metrics

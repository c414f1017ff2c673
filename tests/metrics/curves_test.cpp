// Curves on small inputs worked out by hand; tests/python/test_curves_conformance.py compares
// them with scikit-learn on random inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {
namespace {

using V = std::vector<double>;
constexpr double kInf = std::numeric_limits<double>::infinity();

void expect_near_all(const V& got, const V& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15) << "at " << i;
}

TEST(Curves, RocCurveOnePointPerDistinctScore) {
  // Descending scores 0.8 (P), 0.4 (N), 0.35 (P), 0.1 (N): every point is a corner.
  const RocCurve c = roc_curve(V{0, 0, 1, 1}, V{0.1, 0.4, 0.35, 0.8});
  expect_near_all(c.fpr, {0, 0, 0.5, 0.5, 1});
  expect_near_all(c.tpr, {0, 0.5, 0.5, 1, 1});
  ASSERT_EQ(c.thresholds.size(), 5u);
  EXPECT_EQ(c.thresholds[0], kInf);
  expect_near_all(V(c.thresholds.begin() + 1, c.thresholds.end()), {0.8, 0.4, 0.35, 0.1});
}

TEST(Curves, RocCurveDropsCollinearPointsAndMergesTies) {
  // tps 1, 2, 3, 3 and fps 0, 0, 0, 1: the point at 0.8 lies on the straight run up the y axis.
  const RocCurve c = roc_curve(V{1, 1, 1, 0}, V{0.9, 0.8, 0.7, 0.1});
  expect_near_all(c.fpr, {0, 0, 0, 1});
  expect_near_all(c.tpr, {0, 1.0 / 3.0, 1, 1});
  expect_near_all(V(c.thresholds.begin() + 1, c.thresholds.end()), {0.9, 0.7, 0.1});
  // Tied scores are one threshold: the curve jumps diagonally.
  const RocCurve tied = roc_curve(V{0, 1, 0, 1}, V{0.5, 0.5, 0.5, 0.9});
  expect_near_all(tied.fpr, {0, 0, 1});
  expect_near_all(tied.tpr, {0, 0.5, 1});
}

TEST(Curves, RocAreaEqualsRocAucOnRandomTiedScores) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const std::size_t n = 20 + rng() % 500;
    V y(n), s(n);
    for (std::size_t i = 0; i < n; ++i) {
      y[i] = static_cast<double>(rng() % 2);
      // Few distinct values, so ties and straight runs are common; a weak signal.
      s[i] = static_cast<double>(rng() % 13) + y[i] * static_cast<double>(rng() % 4);
    }
    y[0] = 0, y[1] = 1;
    const RocCurve c = roc_curve(y, s);
    EXPECT_NEAR(auc(c.fpr, c.tpr), roc_auc(y, s), 1e-12) << "trial " << trial;
  }
}

TEST(Curves, PrecisionRecallCurveReversedWithFinalPoint) {
  const PrecisionRecallCurve c = precision_recall_curve(V{0, 0, 1, 1}, V{0.1, 0.4, 0.35, 0.8});
  expect_near_all(c.precision, {0.5, 2.0 / 3.0, 0.5, 1, 1});
  expect_near_all(c.recall, {1, 1, 0.5, 0.5, 0});
  expect_near_all(c.thresholds, {0.1, 0.35, 0.4, 0.8});
}

TEST(Curves, OneClassIsAnErrorNotNaN) {
  EXPECT_THROW(roc_curve(V{1, 1, 1}, V{0.1, 0.2, 0.3}), InputError);
  EXPECT_THROW(precision_recall_curve(V{0, 0}, V{0.1, 0.2}), InputError);
  EXPECT_THROW(calibration_curve(V{1, 1}, V{0.1, 0.2}), InputError);
  EXPECT_THROW(roc_curve(V{0, 1, 2}, V{0.1, 0.2, 0.3}), InputError);
  EXPECT_THROW(roc_curve(V{0, 1}, V{0.1, std::nan("")}), InputError);
}

TEST(Curves, AucIsTheTrapezoidEitherDirection) {
  EXPECT_DOUBLE_EQ(auc(V{0, 1, 2}, V{0, 1, 1}), 1.5);
  EXPECT_DOUBLE_EQ(auc(V{2, 1, 0}, V{1, 1, 0}), 1.5);
  EXPECT_THROW(auc(V{0, 2, 1}, V{0, 1, 1}), InputError);
  EXPECT_THROW(auc(V{0}, V{1}), InputError);
}

TEST(Curves, CalibrationCurveKeepsNonEmptyUniformBins) {
  // Bin 0 (<= 0.1): 0.05 (neg) and 0.1 (pos, on the edge: the lower bin); bin 1: 0.15 (pos);
  // bin 9: 0.92 (pos), 0.95 (neg); bins 2..8 are empty and left out.
  const CalibrationCurve c = calibration_curve(V{0, 1, 1, 0, 1}, V{0.05, 0.15, 0.1, 0.95, 0.92});
  expect_near_all(c.prob_true, {0.5, 1.0, 0.5});
  expect_near_all(c.prob_pred, {0.075, 0.15, 0.935});
  EXPECT_EQ(c.count, (std::vector<std::int64_t>{2, 1, 2}));
  EXPECT_THROW(calibration_curve(V{0, 1}, V{0.5, 1.5}), InputError);
  EXPECT_THROW(calibration_curve(V{0, 1}, V{0.5, 0.5}, 0), InputError);
}

TEST(Curves, ConfusionMatrixRowsTrueColumnsPredicted) {
  const ConfusionMatrix m = confusion_matrix(V{0, 1, 2, 2}, V{0, 2, 2, 1});
  EXPECT_EQ(m.labels, (V{0, 1, 2}));
  EXPECT_EQ(m.counts, (std::vector<std::int64_t>{1, 0, 0, 0, 0, 1, 0, 1, 1}));
  EXPECT_EQ(m.at(2, 1), 1);
  // Given labels: a class never seen still gets its row and column.
  const ConfusionMatrix given = confusion_matrix(V{0, 0}, V{0, 1}, V{0, 1, 2});
  EXPECT_EQ(given.counts, (std::vector<std::int64_t>{1, 1, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_THROW(confusion_matrix(V{0, 3}, V{0, 1}, V{0, 1}), InputError);
}

}  // namespace
}  // namespace tabula::metrics

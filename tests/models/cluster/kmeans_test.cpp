// k-means: known answers on separated blobs, Lloyd's fixed point from given centres, inertia
// equal to the distances it reports, the same model on any thread count, empty clusters,
// duplicate points, bad input and the artifact round trip with its validation.
#include "tabula/models/cluster/kmeans.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <vector>

#include "support/blobs.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

using testing::blobs;
using testing::Table;

KMeans make(const ParamMap& p) { return KMeans(KMeansParams::parse(p)); }

const std::vector<std::vector<double>> kFour = {{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}};

TEST(KMeansTest, FindsSeparatedBlobs) {
  const Table t = blobs(kFour, 200, 0.5, 1);
  for (const char* init : {"k-means++", "random"}) {
    KMeans km = make({{"n_clusters", "4"}, {"init", init}, {"random_state", "3"}});
    km.fit(cpu(), t.fit_data());
    ASSERT_EQ(km.n_clusters(), 4);
    // Every true centre has one fitted centre within 0.2, and rows of one blob share a label.
    for (const auto& c : kFour) {
      double best = 1e9;
      for (std::int64_t q = 0; q < 4; ++q) {
        double s = 0;
        for (int j = 0; j < 3; ++j) s += std::pow(km.cluster_centers()[q * 3 + j] - c[j], 2);
        best = std::min(best, std::sqrt(s));
      }
      EXPECT_LT(best, 0.2) << init;
    }
    const std::vector<double> pred = km.predict(cpu(), t.view());
    for (std::int64_t i = 4; i < t.n; ++i) EXPECT_EQ(pred[i], pred[i % 4]) << init;
    // The training labels are the predicted ones.
    for (std::int64_t i = 0; i < t.n; ++i) EXPECT_EQ(km.labels()[i], pred[i]);
    // Inertia: the sum of squared distances to the nearest centre, as transform gives them.
    const std::vector<double> dist = km.transform(cpu(), t.view());
    double inertia = 0;
    for (std::int64_t i = 0; i < t.n; ++i) {
      const double* row = dist.data() + i * 4;
      EXPECT_EQ(std::min_element(row, row + 4) - row, pred[i]);
      inertia += row[static_cast<int>(pred[i])] * row[static_cast<int>(pred[i])];
    }
    EXPECT_NEAR(km.inertia(), inertia, 1e-4 * inertia);
    // About 3 x 0.25 per row: the noise variance.
    EXPECT_NEAR(km.inertia() / t.n, 0.75, 0.1);
  }
}

TEST(KMeansTest, GivenCentresReachLloydsFixedPoint) {
  // 1-D: from centres 1 and 4, rows {0, 1, 2} go to the first and {10, 11} to the second;
  // the centres move to 1 and 10.5, and the next pass repeats the labels.
  Table t{5, 1, {0, 1, 2, 10, 11}};
  KMeans km = make({{"n_clusters", "2"}, {"init", "[[1], [4]]"}});
  km.fit(cpu(), t.fit_data());
  EXPECT_DOUBLE_EQ(km.cluster_centers()[0], 1.0);
  EXPECT_DOUBLE_EQ(km.cluster_centers()[1], 10.5);
  EXPECT_DOUBLE_EQ(km.inertia(), 1 + 0 + 1 + 0.25 + 0.25);
  EXPECT_EQ(km.n_iter(), 2);  // the second pass finds the same labels
  // Nearest centre per row; ties go to the first centre (5.75 is halfway).
  const std::vector<float> q = {-3, 5.75f, 6, 100};
  const auto pred = km.predict(cpu(), MatrixView<const float>::row_major(q.data(), 4, 1));
  EXPECT_EQ(pred, (std::vector<double>{0, 0, 1, 1}));
  // A missing value: no cluster (NaN) and NaN distances, not a silent cluster 0.
  const std::vector<float> missing = {NAN};
  const auto view = MatrixView<const float>::row_major(missing.data(), 1, 1);
  EXPECT_TRUE(std::isnan(km.predict(cpu(), view)[0]));
  EXPECT_TRUE(std::isnan(km.transform(cpu(), view)[0]));
}

TEST(KMeansTest, EmptyClusterTakesTheFarthestRow) {
  // Centre 2 at 100 gets no row: it takes the row farthest from its own centre.
  Table t{6, 1, {0, 1, 2, 3, 9, 20}};
  KMeans km = make({{"n_clusters", "3"}, {"init", "[[1], [2], [100]]"}, {"max_iter", "1"}});
  km.fit(cpu(), t.fit_data());
  // Labels at the start: 0, 1 -> centre 0; 2, 3, 9, 20 -> centre 1. Centre 1's rows are {2,3,9,20};
  // the row farthest from its centre (2) is 20: it refills centre 2 and leaves centre 1 as the mean
  // of {2,3,9}.
  EXPECT_DOUBLE_EQ(km.cluster_centers()[0], 0.5);
  EXPECT_DOUBLE_EQ(km.cluster_centers()[1], 14.0 / 3.0);
  EXPECT_DOUBLE_EQ(km.cluster_centers()[2], 20.0);
}

TEST(KMeansTest, SameModelOnAnyThreadCount) {
  const Table t = blobs({{0, 0}, {3, 1}, {1, 4}, {5, 5}, {-2, 3}}, 3000, 1.5, 2);
  std::vector<double> centres[2];
  double inertia[2];
  const int before = thread_count();
  for (int r = 0; r < 2; ++r) {
    set_thread_count(r == 0 ? 1 : 4);
    KMeans km = make({{"n_clusters", "5"}, {"n_init", "3"}, {"random_state", "7"}});
    km.fit(cpu(), t.fit_data());
    centres[r] = km.cluster_centers();
    inertia[r] = km.inertia();
  }
  set_thread_count(before);
  EXPECT_EQ(centres[0], centres[1]);
  EXPECT_EQ(inertia[0], inertia[1]);
}

// The nearest of `centres` (k x d) to row i of t, by exact float64 distances; `margin` gets the
// gap to the second nearest.
std::int64_t exact_nearest(const Table& t, std::int64_t i, const std::vector<double>& centres,
                           double& margin) {
  const std::int64_t k = static_cast<std::int64_t>(centres.size()) / t.d;
  double best = INFINITY, second = INFINITY;
  std::int64_t label = -1;
  for (std::int64_t q = 0; q < k; ++q) {
    double s = 0;
    for (std::int64_t j = 0; j < t.d; ++j)
      s += std::pow(t.x[i * t.d + j] - centres[q * t.d + j], 2);
    if (s < best) {
      second = best, best = s, label = q;
    } else if (s < second) {
      second = s;
    }
  }
  margin = second - best;
  return label;
}

TEST(KMeansTest, FusedAssignmentIsLloydsOnEveryTile) {
  // Many tiles and blocks of rows, none a multiple of the other (20011 rows), k below and above
  // a SIMD width, data around the origin (products read the rows in place) and far from it
  // (rows shifted per tile), with and without weights: at the end, every label is the exact
  // nearest centre (up to near-ties), every centre the weighted mean of its rows, the inertia
  // the exact weighted sum, and predict agrees; the same model on 1 and 2 threads.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.5, 2.0);
  for (const double offset : {0.0, 500.0})
    for (const std::int64_t k : {3, 37})
      for (const bool weighted : {false, true}) {
        Table t{20011, 6, {}};
        for (std::int64_t i = 0; i < t.n * t.d; ++i)
          t.x.push_back(static_cast<float>(offset + 4.0 * normal(rng)));
        std::vector<double> w;
        if (weighted)
          for (std::int64_t i = 0; i < t.n; ++i) w.push_back(uniform(rng));
        const ParamMap params{{"n_clusters", std::to_string(k)},
                              {"random_state", "5"},
                              {"max_iter", "500"},
                              {"tol", "0"}};
        std::vector<double> centres[2];
        const int before = thread_count();
        for (int r = 0; r < 2; ++r) {
          set_thread_count(r + 1);
          KMeans km = make(params);
          FitData data = t.fit_data();
          data.sample_weight = w;
          km.fit(cpu(), data);
          centres[r] = km.cluster_centers();
          if (r == 1) break;
          const std::vector<double>& c = centres[r];
          std::vector<double> sums(c.size(), 0.0), totals(static_cast<std::size_t>(k), 0.0);
          double inertia = 0;
          std::int64_t near_ties = 0;
          for (std::int64_t i = 0; i < t.n; ++i) {
            double margin = 0;
            const std::int64_t label = km.labels()[i];
            const std::int64_t exact = exact_nearest(t, i, c, margin);
            if (label != exact) {
              ++near_ties;
              EXPECT_LT(margin, 1e-3 * (1 + offset * offset)) << "row " << i;
            }
            const double wi = weighted ? w[i] : 1.0;
            for (std::int64_t j = 0; j < t.d; ++j) {
              sums[label * t.d + j] += wi * t.x[i * t.d + j];
              inertia += wi * std::pow(t.x[i * t.d + j] - c[label * t.d + j], 2);
            }
            totals[label] += wi;
          }
          EXPECT_LE(near_ties, 2) << offset << " " << k;
          for (std::int64_t q = 0; q < k; ++q)
            for (std::int64_t j = 0; j < t.d; ++j)
              EXPECT_NEAR(c[q * t.d + j], sums[q * t.d + j] / totals[q], 1e-9 * (1 + offset))
                  << offset << " " << k << " " << weighted;
          EXPECT_NEAR(km.inertia(), inertia, 1e-9 * inertia);
          const std::vector<double> pred = km.predict(cpu(), t.view());
          for (std::int64_t i = 0; i < t.n; ++i) ASSERT_EQ(pred[i], km.labels()[i]) << i;
        }
        set_thread_count(before);
        EXPECT_EQ(centres[0], centres[1]) << offset << " " << k << " " << weighted;
      }
}

TEST(KMeansTest, ColumnMajorInputGivesTheSameModel) {
  const Table t = blobs({{0, 0, 1}, {3, 1, 0}, {1, 4, 2}}, 1500, 1.0, 9);
  std::vector<float> columns(t.x.size());
  for (std::int64_t i = 0; i < t.n; ++i)
    for (std::int64_t j = 0; j < t.d; ++j) columns[j * t.n + i] = t.x[i * t.d + j];
  const MatrixView<const float> col_view{columns.data(),    t.n,          t.d, t.n,
                                         Layout::kColMajor, Device::cpu()};
  KMeans a = make({{"n_clusters", "3"}, {"random_state", "1"}});
  KMeans b = make({{"n_clusters", "3"}, {"random_state", "1"}});
  a.fit(cpu(), t.fit_data());
  FitData data = t.fit_data();
  data.x = col_view;
  b.fit(cpu(), data);
  EXPECT_EQ(a.cluster_centers(), b.cluster_centers());
  EXPECT_EQ(a.inertia(), b.inertia());
  EXPECT_EQ(a.labels(), b.labels());
  EXPECT_EQ(a.predict(cpu(), t.view()), b.predict(cpu(), col_view));
}

TEST(KMeansTest, ElkanGivesLloydsLabelsAndCentres) {
  // Hamerly's bounds skip products, not iterations: from the same start, the same labels,
  // centres, inertia and iteration count as Lloyd on separated and overlapping blobs, far from
  // the origin, weighted, k from 2 to 40; and the same model on 1 and 2 threads.
  struct Case {
    std::int64_t k;
    double spread, offset;
    bool weighted;
  };
  const std::vector<std::vector<double>> centres5 = {
      {0, 0, 0, 0}, {3, 1, 0, 2}, {1, 4, 2, 0}, {5, 5, 1, 1}, {-2, 3, 3, 3}};
  for (const Case& c : {Case{5, 0.5, 0, false}, Case{5, 2.0, 0, true}, Case{2, 1.5, 300, false},
                        Case{40, 1.0, 0, false}, Case{13, 3.0, -50, true}}) {
    Table t = blobs(centres5, 2003, c.spread, static_cast<std::uint64_t>(c.k));
    for (float& v : t.x) v += static_cast<float>(c.offset);
    std::vector<double> w;
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> uniform(0.2, 3.0);
    if (c.weighted)
      for (std::int64_t i = 0; i < t.n; ++i) w.push_back(uniform(rng));
    std::vector<double> centres[3];
    const int before = thread_count();
    for (int r = 0; r < 3; ++r) {
      set_thread_count(r == 2 ? 2 : 1);
      KMeans km = make({{"n_clusters", std::to_string(c.k)},
                        {"random_state", "4"},
                        {"tol", "0"},
                        {"algorithm", r == 0 ? "lloyd" : "elkan"}});
      FitData data = t.fit_data();
      data.sample_weight = w;
      km.fit(cpu(), data);
      centres[r] = km.cluster_centers();
      static std::vector<std::int32_t> lloyd_labels;
      static double lloyd_inertia = 0;
      static std::int64_t lloyd_iter = 0;
      if (r == 0) {
        lloyd_labels = km.labels();
        lloyd_inertia = km.inertia();
        lloyd_iter = km.n_iter();
        continue;
      }
      EXPECT_EQ(km.labels(), lloyd_labels) << c.k << " " << c.spread;
      EXPECT_EQ(km.n_iter(), lloyd_iter) << c.k << " " << c.spread;
      EXPECT_NEAR(km.inertia(), lloyd_inertia, 1e-9 * lloyd_inertia);
      for (std::size_t j = 0; j < centres[0].size(); ++j)
        EXPECT_NEAR(centres[r][j], centres[0][j], 1e-9 * (1 + std::abs(c.offset)));
      EXPECT_EQ(km.params()["algorithm"], "elkan");
    }
    set_thread_count(before);
    EXPECT_EQ(centres[1], centres[2]) << c.k;
  }
}

TEST(KMeansTest, MoreRunsNeverRaiseTheInertia) {
  const Table t = blobs({{0, 0}, {3, 1}, {1, 4}, {5, 5}, {-2, 3}}, 200, 1.5, 4);
  KMeans one =
      make({{"n_clusters", "5"}, {"init", "random"}, {"n_init", "1"}, {"random_state", "1"}});
  KMeans ten =
      make({{"n_clusters", "5"}, {"init", "random"}, {"n_init", "10"}, {"random_state", "1"}});
  one.fit(cpu(), t.fit_data());
  ten.fit(cpu(), t.fit_data());
  EXPECT_LE(ten.inertia(), one.inertia());  // run 0 of both draws the same start
  EXPECT_EQ(KMeansParams::parse({{"init", "random"}}).runs(), 10);
  EXPECT_EQ(KMeansParams::parse({}).runs(), 1);
}

TEST(KMeansTest, IdenticalRowsGiveZeroInertiaNotNaN) {
  Table t{10, 2, std::vector<float>(20, 3.5f)};
  KMeans km = make({{"n_clusters", "3"}});
  km.fit(cpu(), t.fit_data());
  EXPECT_EQ(km.inertia(), 0.0);
  for (double c : km.cluster_centers()) EXPECT_EQ(c, 3.5);
  for (double v : km.transform(cpu(), t.view())) EXPECT_EQ(v, 0.0);
}

TEST(KMeansTest, SampleWeightsActAsRepeatedRows) {
  // With given centres (no random draws), weight 2 equals the row written twice.
  Table once{4, 1, {0, 1, 10, 12}};
  Table twice{5, 1, {0, 1, 10, 12, 12}};
  const std::vector<double> w = {1, 1, 1, 2};
  KMeans a = make({{"n_clusters", "2"}, {"init", "[[0], [10]]"}});
  KMeans b = make({{"n_clusters", "2"}, {"init", "[[0], [10]]"}});
  FitData weighted = once.fit_data();
  weighted.sample_weight = w;
  a.fit(cpu(), weighted);
  b.fit(cpu(), twice.fit_data());
  EXPECT_EQ(a.cluster_centers(), b.cluster_centers());
  EXPECT_DOUBLE_EQ(a.inertia(), b.inertia());
}

TEST(KMeansTest, BadInputNamesTheParameter) {
  const auto message = [](auto fn) {
    try {
      fn();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { make({{"n_clusters", "0"}}); }).find("n_clusters"), std::string::npos);
  EXPECT_NE(message([] { make({{"init", "kmeans"}}); }).find("init"), std::string::npos);
  EXPECT_NE(message([] { make({{"n_init", "0"}}); }).find("n_init"), std::string::npos);
  EXPECT_NE(message([] { make({{"tol", "-1"}}); }).find("tol"), std::string::npos);
  EXPECT_NE(message([] { make({{"algorithm", "full"}}); }).find("algorithm"), std::string::npos);
  EXPECT_NE(message([] {
              make({{"n_clusters", "3"}, {"init", "[[1], [2]]"}});
            }).find("init"),
            std::string::npos);
  EXPECT_NE(message([] { make({{"colour", "red"}}); }).find("colour"), std::string::npos);
  Table t{3, 2, {0, 0, 1, 1, 2, 2}};
  EXPECT_NE(message([&] {
              make({{"n_clusters", "4"}}).fit(cpu(), t.fit_data());
            }).find("n_samples=3 should be >= n_clusters=4"),
            std::string::npos);
  EXPECT_NE(message([&] {
              make({{"n_clusters", "2"}, {"init", "[[1], [2]]"}}).fit(cpu(), t.fit_data());
            }).find("init"),
            std::string::npos);
  t.x[3] = NAN;
  EXPECT_NE(message([&] {
              make({{"n_clusters", "2"}}).fit(cpu(), t.fit_data());
            }).find("feature column 2"),
            std::string::npos);
}

TEST(KMeansTest, ArtifactRoundTripAndValidation) {
  const Table t = blobs(kFour, 50, 0.5, 3);
  KMeans km = make({{"n_clusters", "4"}, {"random_state", "1"}});
  km.fit(cpu(), t.fit_data());
  const std::string path = testing::unique_temp_path("kmeans.tbl").string();
  ArtifactWriter writer;
  km.save(writer);
  writer.write(path);
  KMeans loaded;
  loaded.load(ArtifactReader(path));
  EXPECT_EQ(loaded.cluster_centers(), km.cluster_centers());
  EXPECT_EQ(loaded.inertia(), km.inertia());
  EXPECT_EQ(loaded.n_iter(), km.n_iter());
  EXPECT_EQ(loaded.predict(cpu(), t.view()), km.predict(cpu(), t.view()));
  EXPECT_EQ(loaded.params(), km.params());

  // A valid checksum over inconsistent parts: centres of the wrong size, or n_clusters that
  // does not match them, are refused by name.
  const auto refused = [&](ArtifactWriter& w, const char* field) {
    w.write(path);
    try {
      KMeans k;
      k.load(ArtifactReader(path));
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "accepted a bad " << field;
  };
  std::vector<double> three(9, 0.0);
  ArtifactWriter bad_k;
  bad_k.add("cluster_centers_", std::span<const double>(three), {3, 3});
  nlohmann::json fitted = {{"estimator", "kmeans"}, {"params", km.params()}, {"n_features_in_", 3},
                           {"n_clusters", 3},       {"inertia_", 1.0},       {"n_iter_", 2}};
  bad_k.set("fitted", fitted);
  refused(bad_k, "n_clusters");
  ArtifactWriter bad_nan;
  std::vector<double> nan_centres = km.cluster_centers();
  nan_centres[0] = NAN;
  bad_nan.add("cluster_centers_", std::span<const double>(nan_centres), {4, 3});
  fitted["n_clusters"] = 4;
  bad_nan.set("fitted", fitted);
  refused(bad_nan, "cluster_centers_");
  ArtifactWriter bad_features;
  bad_features.add("cluster_centers_", std::span<const double>(km.cluster_centers()), {4, 3});
  fitted["n_features_in_"] = 5;
  bad_features.set("fitted", fitted);
  refused(bad_features, "n_features_in_");
  ArtifactWriter bad_inertia;
  bad_inertia.add("cluster_centers_", std::span<const double>(km.cluster_centers()), {4, 3});
  fitted["n_features_in_"] = 3;
  fitted["inertia_"] = -1.0;
  bad_inertia.set("fitted", fitted);
  refused(bad_inertia, "inertia_");
}

}  // namespace
}  // namespace tabula

// Mini-batch k-means: separated blobs found, passes cut anywhere giving the same model (what
// makes a streamed fit the in-memory one), the reservoir sample, reassignment of starved
// centres, early stopping, thread-count independence, bad input and the artifact round trip.
#include "tabula/models/cluster/minibatch_kmeans.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "support/blobs.hpp"
#include "support/temp_path.hpp"
#include "support/thread_communicator.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/models/cluster/kmeans.hpp"
#include "tabula/models/row_passes.hpp"

namespace tabula {
namespace {

using testing::blobs;
using testing::Table;

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

MiniBatchKMeans make(const ParamMap& p) { return MiniBatchKMeans(MiniBatchKMeansParams::parse(p)); }

const std::vector<std::vector<double>> kFour = {{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}};

// The distance from each true centre to the nearest fitted one, the largest.
double worst_miss(const std::vector<std::vector<double>>& truth,
                  const std::vector<double>& fitted) {
  const std::size_t d = truth[0].size();
  double worst = 0.0;
  for (const auto& c : truth) {
    double best = INFINITY;
    for (std::size_t f = 0; f < fitted.size() / d; ++f) {
      double s = 0.0;
      for (std::size_t j = 0; j < d; ++j)
        s += (fitted[f * d + j] - c[j]) * (fitted[f * d + j] - c[j]);
      best = std::min(best, std::sqrt(s));
    }
    worst = std::max(worst, best);
  }
  return worst;
}

TEST(MiniBatchKMeansTest, FindsSeparatedBlobsAsKMeansDoes) {
  const Table t = blobs(kFour, 5000, 1.0, 1);
  for (const char* init : {"k-means++", "random"}) {
    MiniBatchKMeans mb = make({{"n_clusters", "4"}, {"init", init}, {"random_state", "3"}});
    mb.fit(cpu(), t.fit_data());
    EXPECT_LT(worst_miss(kFour, mb.cluster_centers()), 0.1) << init;
    KMeans km(KMeansParams::parse({{"n_clusters", "4"}, {"random_state", "3"}}));
    km.fit(cpu(), t.fit_data());
    // Each centre is the mean of the rows it has seen, not of its final cluster: close to
    // Lloyd's fixed point, never below it.
    EXPECT_GE(mb.inertia(), km.inertia() * (1 - 1e-12)) << init;
    EXPECT_LT(mb.inertia(), km.inertia() * 1.001) << init;
    // The inertia is the one of the labels it reports.
    double inertia = 0.0;
    for (std::int64_t i = 0; i < t.n; ++i) {
      const std::int32_t c = mb.labels()[static_cast<std::size_t>(i)];
      for (std::int64_t j = 0; j < t.d; ++j) {
        const double diff = t.x[i * t.d + j] - mb.cluster_centers()[c * t.d + j];
        inertia += diff * diff;
      }
    }
    EXPECT_NEAR(mb.inertia(), inertia, 1e-9 * inertia) << init;
    EXPECT_GT(mb.n_steps(), 1);
  }
}

// Rows handed over in blocks of uneven sizes, as a file's chunks are.
class ChoppedPasses final : public RowPasses {
 public:
  ChoppedPasses(const MatrixRowPasses& whole, MatrixView<const float> x,
                std::vector<std::int64_t> cuts)
      : whole_(whole), x_(x), cuts_(std::move(cuts)) {}
  std::int64_t rows() const override { return x_.rows; }
  std::int64_t cols() const override { return x_.cols; }
  MatrixView<const float> sample() const override { return whole_.sample(); }
  std::span<const double> sample_weight() const override { return whole_.sample_weight(); }
  void pass(const std::function<bool(const RowBlock&)>& visit) override {
    std::int64_t begin = 0;
    for (std::size_t c = 0; begin < x_.rows; ++c) {
      const std::int64_t end = std::min(x_.rows, begin + cuts_[c % cuts_.size()]);
      const RowBlock block{
          MatrixView<const float>::row_major(x_.data + begin * x_.cols, end - begin, x_.cols),
          {},
          begin};
      if (!visit(block)) return;
      begin = end;
    }
  }

 private:
  const MatrixRowPasses& whole_;
  MatrixView<const float> x_;
  std::vector<std::int64_t> cuts_;
};

TEST(MiniBatchKMeansTest, PassesCutAnywhereGiveTheInMemoryModel) {
  // More rows than a window, several epochs (no early stop), a small sample: every part of
  // the fit sees blocks that do not line up with windows or batches.
  const Table t = blobs({{0, 0}, {4, 1}, {1, 5}, {6, 6}, {-3, 2}}, 30000, 1.5, 4);
  const ParamMap params = {{"n_clusters", "5"},   {"batch_size", "1000"},
                           {"max_iter", "3"},     {"max_no_improvement", "None"},
                           {"random_state", "2"}, {"n_init", "2"}};
  MiniBatchKMeans in_memory = make(params);
  in_memory.fit(cpu(), t.fit_data(9));
  MatrixRowPasses whole(t.view(), {}, 9);
  for (const std::vector<std::int64_t>& cuts :
       std::vector<std::vector<std::int64_t>>{{65536}, {777, 30011, 5}, {150000}}) {
    ChoppedPasses chopped(whole, t.view(), cuts);
    MiniBatchKMeans streamed = make(params);
    streamed.fit_passes(cpu(), chopped, 9);
    EXPECT_EQ(streamed.cluster_centers(), in_memory.cluster_centers()) << cuts[0];
    EXPECT_EQ(streamed.inertia(), in_memory.inertia()) << cuts[0];
    EXPECT_EQ(streamed.n_steps(), in_memory.n_steps()) << cuts[0];
    EXPECT_TRUE(streamed.labels().empty());  // a streamed fit keeps no per-row state
  }
  // Three epochs of 150 batches (150,000 rows / 1,000), nothing stopped them.
  EXPECT_EQ(in_memory.n_steps(), 450);
  EXPECT_EQ(in_memory.n_iter(), 3);
}

TEST(MiniBatchKMeansTest, ReservoirIsEveryRowUpToItsCapacityThenAUniformSample) {
  const std::vector<std::int64_t> few = ReservoirSample::rows_of(100, 128, 5);
  ASSERT_EQ(few.size(), 100u);
  for (std::int64_t i = 0; i < 100; ++i) EXPECT_EQ(few[i], i);
  // Past the capacity: distinct rows, the same for the same seed, each row about as likely.
  std::vector<int> hits(1000, 0);
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    const std::vector<std::int64_t> rows = ReservoirSample::rows_of(1000, 100, seed);
    ASSERT_EQ(rows.size(), 100u);
    EXPECT_EQ(std::set<std::int64_t>(rows.begin(), rows.end()).size(), 100u);
    for (std::int64_t r : rows) ++hits[r];
  }
  EXPECT_EQ(ReservoirSample::rows_of(1000, 100, 7), ReservoirSample::rows_of(1000, 100, 7));
  // Each row is in 40 of the 400 samples on average (sd about 6): the first and last tenth too.
  double first = 0, last = 0;
  for (int i = 0; i < 100; ++i) first += hits[i], last += hits[900 + i];
  EXPECT_NEAR(first / 100, 40.0, 3.0);
  EXPECT_NEAR(last / 100, 40.0, 3.0);
}

TEST(MiniBatchKMeansTest, StarvedCentresMoveOntoRows) {
  // A given centre far from every row never wins a row: it is moved onto a batch row.
  const Table t = blobs(kFour, 500, 0.5, 6);
  MiniBatchKMeans mb = make({{"n_clusters", "4"},
                             {"init", "[[0,0,0],[10,0,0],[0,10,0],[1000,1000,1000]]"},
                             {"random_state", "0"}});
  mb.fit(cpu(), t.fit_data());
  EXPECT_LT(worst_miss(kFour, mb.cluster_centers()), 0.2);
  // reassignment_ratio 0 leaves it where it is.
  MiniBatchKMeans kept = make({{"n_clusters", "4"},
                               {"init", "[[0,0,0],[10,0,0],[0,10,0],[1000,1000,1000]]"},
                               {"reassignment_ratio", "0"}});
  kept.fit(cpu(), t.fit_data());
  EXPECT_EQ(kept.cluster_centers()[9], 1000.0);
}

TEST(MiniBatchKMeansTest, StopsOnTheSmoothedInertiaOrTheCentresMove) {
  const Table t = blobs(kFour, 20000, 1.0, 8);  // 80,000 rows: 79 batches an epoch
  MiniBatchKMeans full = make({{"n_clusters", "4"},
                               {"max_iter", "2"},
                               {"max_no_improvement", "None"},
                               {"random_state", "1"}});
  full.fit(cpu(), t.fit_data());
  EXPECT_EQ(full.n_steps(), 2 * 79);
  MiniBatchKMeans early = make(
      {{"n_clusters", "4"}, {"max_iter", "2"}, {"max_no_improvement", "3"}, {"random_state", "1"}});
  early.fit(cpu(), t.fit_data());
  EXPECT_LT(early.n_steps(), full.n_steps());
  EXPECT_EQ(early.n_iter(), 1);
  MiniBatchKMeans tol = make({{"n_clusters", "4"},
                              {"max_iter", "2"},
                              {"tol", "0.01"},
                              {"max_no_improvement", "None"},
                              {"random_state", "1"}});
  tol.fit(cpu(), t.fit_data());
  EXPECT_LT(tol.n_steps(), full.n_steps());
}

TEST(MiniBatchKMeansTest, SameModelOnAnyThreadCount) {
  const Table t = blobs({{0, 0}, {3, 1}, {1, 4}, {5, 5}, {-2, 3}}, 20000, 1.5, 2);
  std::vector<double> centres[2];
  double inertia[2];
  const int before = thread_count();
  for (int r = 0; r < 2; ++r) {
    set_thread_count(r == 0 ? 1 : 4);
    MiniBatchKMeans mb = make({{"n_clusters", "5"}, {"n_init", "3"}, {"random_state", "7"}});
    mb.fit(cpu(), t.fit_data());
    centres[r] = mb.cluster_centers();
    inertia[r] = mb.inertia();
  }
  set_thread_count(before);
  EXPECT_EQ(centres[0], centres[1]);
  EXPECT_EQ(inertia[0], inertia[1]);
}

TEST(MiniBatchKMeansTest, OverRanksEveryRankFitsTheOneProcessModel) {
  // More rows than a gathered block, uneven shares, weights: every rank ends with the model one
  // process fits on every row, and with the labels of its own rows.
  const Table t = blobs({{0, 0}, {4, 1}, {1, 5}}, 30000, 1.5, 12);
  std::vector<double> w(static_cast<std::size_t>(t.n));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.5 + static_cast<double>(i % 3);
  const ParamMap params = {{"n_clusters", "3"},
                           {"random_state", "5"},
                           {"max_iter", "2"},
                           {"max_no_improvement", "None"}};
  FitData all = t.fit_data(4);
  all.sample_weight = w;
  MiniBatchKMeans one = make(params);
  one.fit(cpu(), all);
  const std::int64_t cuts[] = {0, 20000, 20001, t.n};
  std::vector<MiniBatchKMeans> ranks(3, make(params));
  testing::run_ranks(3, [&](testing::ThreadCommunicator& comm) {
    const std::int64_t lo = cuts[comm.rank()], hi = cuts[comm.rank() + 1];
    FitData share;
    share.x = MatrixView<const float>::row_major(t.x.data() + lo * t.d, hi - lo, t.d);
    share.sample_weight = std::span<const double>(w).subspan(lo, hi - lo);
    share.seed = 4;
    share.comm = &comm;
    ranks[comm.rank()].fit(cpu(), share);
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(ranks[r].cluster_centers(), one.cluster_centers()) << r;
    EXPECT_EQ(ranks[r].inertia(), one.inertia()) << r;
    EXPECT_EQ(ranks[r].n_steps(), one.n_steps()) << r;
    EXPECT_TRUE(std::equal(ranks[r].labels().begin(), ranks[r].labels().end(),
                           one.labels().begin() + cuts[r]))
        << r;
    EXPECT_EQ(static_cast<std::int64_t>(ranks[r].labels().size()), cuts[r + 1] - cuts[r]);
  }
}

TEST(MiniBatchKMeansTest, PartialFitStepsOnEachBatchAndGoesOnFromAFit) {
  const Table t = blobs(kFour, 5000, 1.0, 9);  // 20,000 rows, the groups interleaved
  const auto batch = [&](std::int64_t b) {
    FitData data;
    data.x = MatrixView<const float>::row_major(t.x.data() + b * 1000 * t.d, 1000, t.d);
    data.seed = 5;
    return data;
  };
  MiniBatchKMeans a = make({{"n_clusters", "4"}, {"random_state", "2"}});
  MiniBatchKMeans b = make({{"n_clusters", "4"}, {"random_state", "2"}});
  for (std::int64_t i = 0; i < 20; ++i) {
    a.partial_fit(cpu(), batch(i));
    b.partial_fit(cpu(), batch(i));
  }
  EXPECT_EQ(a.n_steps(), 20);
  EXPECT_EQ(a.cluster_centers(), b.cluster_centers());  // the same batches, the same model
  EXPECT_LT(worst_miss(kFour, a.cluster_centers()), 0.1);
  // labels_ and inertia_ are the last batch's.
  ASSERT_EQ(a.labels().size(), 1000u);
  double inertia = 0.0;
  for (std::int64_t i = 0; i < 1000; ++i) {
    const std::int32_t c = a.labels()[static_cast<std::size_t>(i)];
    for (std::int64_t j = 0; j < t.d; ++j) {
      const double diff = t.x[(19000 + i) * t.d + j] - a.cluster_centers()[c * t.d + j];
      inertia += diff * diff;
    }
  }
  EXPECT_NEAR(a.inertia(), inertia, 1e-9 * inertia);

  // A copy steps on its own: the original keeps its centres.
  MiniBatchKMeans copy = a;
  const std::vector<double> before = a.cluster_centers();
  copy.partial_fit(cpu(), batch(0));
  EXPECT_EQ(a.cluster_centers(), before);
  EXPECT_EQ(copy.n_steps(), 21);
  a.partial_fit(cpu(), batch(0));
  EXPECT_EQ(a.cluster_centers(), copy.cluster_centers());

  // After fit() it goes on from the fit's seen weights: one step moves the centres a little.
  MiniBatchKMeans fitted = make({{"n_clusters", "4"}, {"random_state", "2"}});
  fitted.fit(cpu(), t.fit_data());
  const std::int64_t steps = fitted.n_steps();
  const std::vector<double> fit_centres = fitted.cluster_centers();
  fitted.partial_fit(cpu(), batch(3));
  EXPECT_EQ(fitted.n_steps(), steps + 1);
  EXPECT_NE(fitted.cluster_centers(), fit_centres);
  EXPECT_LT(worst_miss(kFour, fitted.cluster_centers()), 0.1);

  // Another width, or a model read from a file (no seen weights), is refused.
  const auto refused = [&](MiniBatchKMeans& m, const FitData& data, const char* what) {
    try {
      m.partial_fit(cpu(), data);
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "partial_fit accepted " << what;
  };
  FitData narrow = batch(0);
  narrow.x.cols = 2;
  narrow.x.stride = 2;
  refused(a, narrow, "fitted on 3 features, got 2");
  const std::string path = testing::unique_temp_path("mbk.tbl").string();
  ArtifactWriter writer;
  a.save(writer);
  writer.write(path);
  MiniBatchKMeans loaded;
  loaded.load(ArtifactReader(path));
  refused(loaded, batch(0), "seen weights");
  MiniBatchKMeans tiny = make({{"n_clusters", "4"}});
  FitData three = batch(0);
  three.x.rows = 3;
  refused(tiny, three, "n_clusters=4");
}

TEST(MiniBatchKMeansTest, ColumnMajorInputGivesTheSameModel) {
  const Table t = blobs(kFour, 3000, 1.0, 4);
  std::vector<float> columns(t.x.size());
  for (std::int64_t i = 0; i < t.n; ++i)
    for (std::int64_t j = 0; j < t.d; ++j) columns[j * t.n + i] = t.x[i * t.d + j];
  FitData by_column = t.fit_data();
  by_column.x = MatrixView<const float>::col_major(columns.data(), t.n, t.d);
  const ParamMap params = {{"n_clusters", "4"}, {"random_state", "6"}};
  MiniBatchKMeans a = make(params), b = make(params), c = make(params), e = make(params);
  a.fit(cpu(), t.fit_data());
  b.fit(cpu(), by_column);
  EXPECT_EQ(a.cluster_centers(), b.cluster_centers());
  EXPECT_EQ(a.labels(), b.labels());
  c.partial_fit(cpu(), t.fit_data());
  e.partial_fit(cpu(), by_column);
  EXPECT_EQ(c.cluster_centers(), e.cluster_centers());
}

TEST(MiniBatchKMeansTest, SampleWeightsWeighTheSteps) {
  // Two groups; the far group's rows weigh 0: no centre ends there.
  Table t = blobs({{0, 0}, {50, 50}}, 2000, 0.5, 3);
  std::vector<double> w(static_cast<std::size_t>(t.n), 1.0);
  for (std::int64_t i = 1; i < t.n; i += 2) w[i] = 0.0;
  FitData data = t.fit_data();
  data.sample_weight = w;
  MiniBatchKMeans mb = make({{"n_clusters", "2"}, {"random_state", "0"}, {"init", "random"}});
  mb.fit(cpu(), data);
  for (double v : mb.cluster_centers()) EXPECT_LT(std::abs(v), 5.0);
}

TEST(MiniBatchKMeansTest, BadInputNamesTheParameter) {
  const auto refused = [](const ParamMap& p, const char* what) {
    try {
      make(p);
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "accepted " << what;
  };
  refused({{"batch_size", "0"}}, "batch_size");
  refused({{"max_no_improvement", "-1"}}, "max_no_improvement");
  refused({{"init_size", "0"}}, "init_size");
  refused({{"reassignment_ratio", "-0.5"}}, "reassignment_ratio");
  refused({{"tol", "-1"}}, "tol");
  refused({{"n_init", "0"}}, "n_init");
  refused({{"algorithm", "elkan"}}, "algorithm");
  refused({{"n_clusters", "2"}, {"init", "[[1,2]]"}}, "init");

  const Table t = blobs(kFour, 2, 0.5, 1);  // 8 rows
  const auto fit_refused = [&](const ParamMap& p, const FitData& data, const char* what) {
    MiniBatchKMeans mb = make(p);
    try {
      mb.fit(cpu(), data);
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "fitted despite " << what;
  };
  fit_refused({{"n_clusters", "9"}}, t.fit_data(), "n_clusters=9");
  fit_refused({{"n_clusters", "2"}, {"init", "[[1,2],[3,4]]"}}, t.fit_data(), "init");
  Table nan = t;
  nan.x[5 * 3 + 1] = NAN;
  fit_refused({{"n_clusters", "2"}}, nan.fit_data(), "row 6");
  // Past the rows the epochs read before stopping (one step: max_no_improvement 0), in a
  // table larger than the sample: the last pass finds it, and a sampled one is found too.
  Table big = blobs(kFour, 20000, 0.5, 2);  // 80,000 rows
  const std::vector<std::int64_t> slots =
      ReservoirSample::rows_of(big.n, ReservoirSample::kDefaultCapacity, 0);
  std::vector<bool> sampled(static_cast<std::size_t>(big.n), false);
  for (std::int64_t r : slots) sampled[static_cast<std::size_t>(r)] = true;
  std::int64_t late = big.n - 1;
  while (sampled[static_cast<std::size_t>(late)]) --late;
  for (const std::int64_t row : {late, slots[100]}) {
    Table bad = big;
    bad.x[row * 3 + 2] = INFINITY;
    fit_refused({{"n_clusters", "4"}, {"max_no_improvement", "0"}}, bad.fit_data(),
                ("row " + std::to_string(row + 1) + ")").c_str());
  }
  std::vector<double> short_weights(3, 1.0);
  FitData weighted = t.fit_data();
  weighted.sample_weight = short_weights;
  fit_refused({{"n_clusters", "2"}}, weighted, "sample_weight");
}

TEST(MiniBatchKMeansTest, ArtifactRoundTripAndValidation) {
  const Table t = blobs(kFour, 50, 0.5, 3);
  MiniBatchKMeans mb = make({{"n_clusters", "4"}, {"random_state", "1"}, {"batch_size", "16"}});
  mb.fit(cpu(), t.fit_data());
  const std::string path = testing::unique_temp_path("mbk.tbl").string();
  ArtifactWriter writer;
  mb.save(writer);
  writer.write(path);
  MiniBatchKMeans loaded;
  loaded.load(ArtifactReader(path));
  EXPECT_EQ(loaded.cluster_centers(), mb.cluster_centers());
  EXPECT_EQ(loaded.inertia(), mb.inertia());
  EXPECT_EQ(loaded.n_steps(), mb.n_steps());
  EXPECT_EQ(loaded.params(), mb.params());
  EXPECT_EQ(loaded.predict(cpu(), t.view()), mb.predict(cpu(), t.view()));
  EXPECT_EQ(loaded.transform(cpu(), t.view()), mb.transform(cpu(), t.view()));

  const auto refused = [&](const nlohmann::json& fitted, const char* field) {
    ArtifactWriter w;
    w.add("cluster_centers_", std::span<const double>(mb.cluster_centers()), {4, 3});
    w.set("fitted", fitted);
    w.write(path);
    try {
      MiniBatchKMeans k;
      k.load(ArtifactReader(path));
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "accepted a bad " << field;
  };
  nlohmann::json fitted = {{"estimator", "minibatch-kmeans"},
                           {"params", mb.params()},
                           {"n_features_in_", 3},
                           {"n_clusters", 4},
                           {"inertia_", 1.0},
                           {"n_iter_", 2},
                           {"n_steps_", -1}};
  refused(fitted, "n_steps_");
  fitted.erase("n_steps_");
  refused(fitted, "n_steps_");
  fitted["n_steps_"] = 3;
  fitted["params"]["batch_size"] = 0;
  refused(fitted, "batch_size");
  // A k-means file is not a mini-batch one.
  fitted["params"] = mb.params();
  fitted["estimator"] = "kmeans";
  refused(fitted, "holds a kmeans model");
}

}  // namespace
}  // namespace tabula

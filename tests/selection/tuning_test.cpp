// The search driver: the shared least-squares path against plain fits, determinism with
// concurrent trials, journal resume, successive halving, time order, bad input up front.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "selection/cv_eval.hpp"
#include "selection/cv_least_squares.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/selection/model_selection.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula {
namespace {

namespace fs = std::filesystem;

/// A regression table with large feature offsets (centring must not cancel), or a 3-class
/// classification table; `time` adds a shuffled time column.
std::string write_table(const std::string& name, std::int64_t n, bool classify, bool time = false) {
  const fs::path path = testing::unique_temp_path(name);
  std::ofstream out(path);
  out << "x0,x1,x2,x3" << (time ? ",t" : "") << ",y\n";
  std::mt19937_64 rng(42);
  std::normal_distribution<double> z(0.0, 1.0);
  for (std::int64_t i = 0; i < n; ++i) {
    const double x0 = z(rng), x1 = z(rng), x2 = 100.0 + 3.0 * z(rng), x3 = z(rng);
    double y = 2.0 * x0 - x1 + 0.3 * (x2 - 100.0) + 0.5 * z(rng);
    if (classify) y = y < -1.0 ? 0 : y < 1.0 ? 1 : 2;
    out << x0 << "," << x1 << "," << x2 << "," << x3;
    if (time) out << "," << (i * 7919) % n;
    out << "," << y << "\n";
  }
  return path.string();
}

TuneOptions regression_options(const std::string& data, const std::string& out) {
  TuneOptions o;
  o.data_path = data;
  o.target = "y";
  o.model = "ridge";
  o.space = {"alpha=logspace(-3,4,8)", "fit_intercept=true|false"};
  o.metrics = {"neg_mean_squared_error", "neg_mean_absolute_error"};
  o.out_dir = out;
  o.seed = 3;
  return o;
}

void expect_same_scores(const TuneResult& a, const TuneResult& b, double rel) {
  ASSERT_EQ(a.leaderboard.size(), b.leaderboard.size());
  for (std::size_t i = 0; i < a.leaderboard.size(); ++i) {
    ASSERT_EQ(a.leaderboard[i].trial, b.leaderboard[i].trial) << "rank " << i;
    for (std::size_t m = 0; m < a.metric_names.size(); ++m)
      for (std::size_t f = 0; f < a.leaderboard[i].scores[m].size(); ++f) {
        const double x = a.leaderboard[i].scores[m][f], y = b.leaderboard[i].scores[m][f];
        EXPECT_NEAR(x, y, rel * std::max(1.0, std::abs(y)))
            << a.metric_names[m] << " trial " << a.leaderboard[i].trial << " fold " << f;
      }
  }
}

TEST(LeastSquaresPath, SameScoresAsPlainFitsOnEveryScheme) {
  const std::int64_t n = 400, d = 5;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<float> x(static_cast<std::size_t>(n * d));
  std::vector<double> y(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) x[i * d + j] = static_cast<float>(50.0 * j + z(rng));
    y[i] = x[i * d] - 0.5 * x[i * d + 2] + z(rng);
  }
  Backend& backend = default_backend();
  for (int scheme = 0; scheme < 3; ++scheme) {
    selection::CvData cv;
    cv.x = MatrixView<const float>::row_major(x.data(), n, d);
    cv.y = y;
    cv.metrics = {"r2", "neg_mean_squared_error", "neg_mean_absolute_error"};
    // Partition folds, overlapping repeats, and prefix training sets (not a partition).
    cv.folds = scheme == 0   ? kfold(n, 5, true, 2)
               : scheme == 1 ? repeated_kfold(n, 4, 2, 2)
                             : time_series_split(n, 4);
    std::vector<selection::LeastSquaresTrial> trials;
    for (double alpha : {0.0, 1e-3, 1.0, 100.0})
      for (bool intercept : {true, false}) trials.push_back({alpha, intercept});
    const std::vector<selection::FoldScores> fast =
        selection::cv_least_squares(backend, cv, trials);
    ASSERT_EQ(fast.size(), trials.size());
    for (std::size_t t = 0; t < trials.size(); ++t) {
      const ParamMap params = {{"alpha", std::to_string(trials[t].alpha)},
                               {"fit_intercept", trials[t].fit_intercept ? "true" : "false"}};
      const selection::FoldScores plain =
          selection::cv_plain(backend, cv, {}, "ridge", params, Task::kRegression, 0);
      for (std::size_t m = 0; m < cv.metrics.size(); ++m)
        for (std::size_t f = 0; f < cv.folds.size(); ++f) {
          const double a = fast[t].scores[m][f], b = plain.scores[m][f];
          EXPECT_NEAR(a, b, 1e-9 * std::max(1.0, std::abs(b)))
              << "scheme " << scheme << " trial " << t << " metric " << cv.metrics[m];
        }
    }
  }
}

TEST(Tune, FastPathMatchesPlainThroughTheDriver) {
  const std::string data = write_table("reg.csv", 300, false);
  // Passthrough pipeline: the fast path reads the same float32 features as the plain fits.
  TuneOptions o = regression_options(data, testing::unique_temp_path("fast").string());
  o.pipeline = PipelineSpec::passthrough().to_json();
  const TuneResult fast = tune(default_backend(), o);
  EXPECT_EQ(fast.leaderboard.front().path, "ridge-stats");
  o.fast_path = false;
  o.out_dir = testing::unique_temp_path("plain").string();
  const TuneResult plain = tune(default_backend(), o);
  EXPECT_EQ(plain.leaderboard.front().path, "plain");
  expect_same_scores(fast, plain, 1e-9);
  EXPECT_EQ(fast.leaderboard.size(), 16u);
  EXPECT_GT(fast.leaderboard.front().mean(0), fast.baseline.mean(0));
  ASSERT_TRUE(fast.test_score.has_value());
  EXPECT_TRUE(fs::exists(fs::path(fast.model_path)));
}

TEST(Tune, FastPathReproducesTheStandardScaler) {
  const std::string data = write_table("reg.csv", 300, false);
  TuneOptions o = regression_options(data, testing::unique_temp_path("fast").string());
  o.space = {"alpha=logspace(-2,3,6)", "pipeline.scale=standard|none"};
  const TuneResult fast = tune(default_backend(), o);
  EXPECT_EQ(fast.leaderboard.front().path, "ridge-stats");
  o.fast_path = false;
  o.out_dir = testing::unique_temp_path("plain").string();
  const TuneResult plain = tune(default_backend(), o);
  // The pipeline's output is float32, the shared path scales in float64.
  expect_same_scores(fast, plain, 1e-5);
}

TEST(Tune, ConcurrentTrialsGiveTheSameResults) {
  const std::string data = write_table("cls.csv", 240, true);
  TuneOptions o;
  o.data_path = data;
  o.target = "y";
  o.model = "forest";
  o.space = {"max_depth=[2,4,6]", "min_samples_leaf=[1,5]"};
  o.fixed = {{"n_estimators", "5"}};
  o.metrics = {"neg_log_loss"};
  o.folds = 3;
  o.out_dir = testing::unique_temp_path("seq").string();
  const TuneResult seq = tune(default_backend(), o);
  EXPECT_EQ(seq.metric_names.front(), "accuracy");
  o.jobs = 2;
  o.out_dir = testing::unique_temp_path("par").string();
  const TuneResult par = tune(default_backend(), o);
  expect_same_scores(seq, par, 0.0);
  // One binning per search; the plain per-fold fits bin each fold themselves.
  EXPECT_EQ(seq.leaderboard.front().path, "shared-bins");
  o.fast_path = false;
  o.jobs = 1;
  o.out_dir = testing::unique_temp_path("plain").string();
  const TuneResult plain = tune(default_backend(), o);
  EXPECT_EQ(plain.leaderboard.front().path, "plain");
  EXPECT_GT(seq.leaderboard.front().mean(0), seq.baseline.mean(0) + 0.1);
  EXPECT_NEAR(seq.leaderboard.front().mean(0), plain.leaderboard.front().mean(0), 0.05);
}

TEST(Tune, TimeBudgetStopsCleanly) {
  const std::string data = write_table("cls.csv", 240, true);
  TuneOptions o;
  o.data_path = data;
  o.target = "y";
  o.model = "logistic";
  o.space = {"C=logspace(-2,2,5)"};
  o.time_budget = 1e-9;
  o.out_dir = testing::unique_temp_path("b").string();
  const TuneResult r = tune(default_backend(), o);
  EXPECT_TRUE(r.stopped_by_budget);
  EXPECT_LT(r.leaderboard.size(), 5u);
  EXPECT_TRUE(fs::exists(fs::path(o.out_dir) / "leaderboard.csv"));
  EXPECT_TRUE(fs::exists(fs::path(o.out_dir) / "report.html"));
}

std::string without_time_columns(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  while (std::getline(in, line)) {
    // Drop mean_fit_time and mean_score_time (the 3rd and 2nd last columns).
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    for (std::size_t i = 0; i < cells.size(); ++i)
      if (i + 3 != cells.size() && i + 2 != cells.size()) out += cells[i] + ",";
    out += "\n";
  }
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Tune, ResumesFromATruncatedJournal) {
  const std::string data = write_table("cls.csv", 240, true);
  TuneOptions o;
  o.data_path = data;
  o.target = "y";
  o.model = "logistic";
  o.space = {"C=logspace(-2,2,5)"};
  o.out_dir = testing::unique_temp_path("a").string();
  const TuneResult full = tune(default_backend(), o);
  EXPECT_EQ(full.resumed, 0);
  const fs::path journal = fs::path(o.out_dir) / "journal.jsonl";
  // Keep two finished trials and a torn third line, as a SIGKILL mid-write leaves it.
  std::istringstream lines(slurp(journal));
  std::string l1, l2, l3;
  std::getline(lines, l1);
  std::getline(lines, l2);
  std::getline(lines, l3);
  const std::string expected = slurp(fs::path(o.out_dir) / "leaderboard.csv");
  {
    std::ofstream out(journal, std::ios::trunc);
    out << l1 << "\n" << l2 << "\n" << l3.substr(0, l3.size() / 2);
  }
  const TuneResult resumed = tune(default_backend(), o);
  EXPECT_EQ(resumed.resumed, 2);
  EXPECT_EQ(without_time_columns(slurp(fs::path(o.out_dir) / "leaderboard.csv")),
            without_time_columns(expected));
  // A different search in the same folder does not reuse those trials.
  o.seed = 9;
  const TuneResult other = tune(default_backend(), o);
  EXPECT_EQ(other.resumed, 0);
}

TEST(Tune, SuccessiveHalvingKeepsTheBest) {
  const std::string data = write_table("cls.csv", 600, true);
  TuneOptions o;
  o.data_path = data;
  o.target = "y";
  o.model = "forest";
  o.space = {"max_depth=[1,2,3,4,6,8,10,12,14]"};
  o.fixed = {{"n_estimators", "5"}};
  o.search = SearchKind::kHalving;
  o.folds = 3;
  o.out_dir = testing::unique_temp_path("h").string();
  const TuneResult r = tune(default_backend(), o);
  // 9 candidates, factor 3: 9 on 1/9 of the rows, 3 on 1/3, 1 on all.
  EXPECT_EQ(r.leaderboard.size(), 1u);
  EXPECT_EQ(r.earlier_rounds.size(), 12u);
  EXPECT_EQ(r.leaderboard.front().round, 2);
  EXPECT_GT(r.leaderboard.front().resource, r.earlier_rounds.front().resource);
}

TEST(Tune, TimeColumnHoldsOutTheLatestRows) {
  const std::string data = write_table("time.csv", 200, false, true);
  TuneOptions o = regression_options(data, testing::unique_temp_path("t").string());
  o.time_column = "t";
  o.space = {"alpha=[0.1,10]"};
  const TuneResult r = tune(default_backend(), o);
  const nlohmann::json info =
      nlohmann::json::parse(slurp(fs::path(o.out_dir) / "leaderboard.json"));
  EXPECT_EQ(info["scheme"]["kind"], "time");
  EXPECT_EQ(info["scheme"]["test_split"], "latest by time");
  EXPECT_EQ(info["scheme"]["test_rows"], 40);
  // TimeSeriesSplit on 160 rows, 5 folds: tests of 26 rows, training sets growing.
  EXPECT_EQ(info["scheme"]["fold_sizes"][0][1], 26);
  EXPECT_LT(info["scheme"]["fold_sizes"][0][0], info["scheme"]["fold_sizes"][4][0]);
  EXPECT_EQ(r.leaderboard.size(), 2u);
}

void expect_input_error(const TuneOptions& o, const std::string& fragment) {
  try {
    tune(default_backend(), o);
    FAIL() << "expected InputError containing '" << fragment << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
  // Nothing was started: no journal.
  EXPECT_FALSE(fs::exists(fs::path(o.out_dir) / "journal.jsonl")) << fragment;
}

TEST(Tune, BadInputFailsBeforeAnyWork) {
  const std::string reg = write_table("reg.csv", 50, false);
  const std::string cls = write_table("cls.csv", 50, true);
  TuneOptions o = regression_options(reg, testing::unique_temp_path("bad").string());
  {
    TuneOptions b = o;
    b.space = {"alpha=[1,2]", "max_depth=[3]"};
    expect_input_error(b, "max_depth");
  }
  {
    TuneOptions b = o;
    b.metric = "roc_auc";
    expect_input_error(b, "classification metric");
  }
  {
    TuneOptions b = o;
    b.space = {"alpha=[]"};
    expect_input_error(b, "alpha");
  }
  {
    TuneOptions b = o;
    b.space = {"pipeline.colour=red"};
    expect_input_error(b, "unknown pipeline parameter");
  }
  {
    TuneOptions b = o;
    b.folds = 60;
    b.test_size = 0.5;
    expect_input_error(b, "fewer rows than folds");
  }
  {
    const fs::path one_group = testing::unique_temp_path("group.csv");
    std::ofstream(one_group) << "g,x,y\n7,1,2\n7,2,4\n7,3,5\n7,4,9\n7,5,9\n7,6,13\n";
    TuneOptions b = o;
    b.data_path = one_group.string();
    b.group_column = "g";
    b.folds = 2;
    b.test_size = 0;
    expect_input_error(b, "1 distinct group");
  }
  {
    TuneOptions b = o;
    b.data_path = cls;
    b.model = "logistic";
    b.space = {"C=[1]"};
    b.metrics = {};
    b.folds = 40;
    b.test_size = 0.1;
    expect_input_error(b, "fewer than the 40 folds");
  }
}

}  // namespace
}  // namespace tabula

// The communication layer without MPI: the one-process communicator, the agreement before a
// collective phase, the merged moments and classes, and the CSV shares of one file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "distributed/columnar_share.hpp"
#include "distributed/csv_share.hpp"
#include "distributed/reduce.hpp"
#include "distributed/table_agreement.hpp"
#include "support/temp_path.hpp"
#include "support/thread_communicator.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula {
namespace {

using testing::ScriptedCommunicator;

TEST(LocalCommunicator, IsOneRankWhoseCollectivesAreTheIdentity) {
  LocalCommunicator local;
  EXPECT_EQ(local.size(), 1);
  EXPECT_TRUE(local.is_root());
  std::vector<double> values{1.5, -2.0};
  local.all_reduce_sum(std::span<double>(values));
  EXPECT_EQ(values, (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(local.all_gather("abc"), std::vector<std::string>{"abc"});
  EXPECT_NO_THROW(local.check_all("", "reading"));
}

TEST(Launcher, SizeAndLocalRankComeFromTheLaunchersEnvironment) {
  // What lets a build without MPI refuse to run as N copies under mpirun.
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  ::unsetenv("PMI_SIZE");
  EXPECT_EQ(launcher_world_size(), 1);
  ::setenv("PMI_SIZE", "3", 1);
  EXPECT_EQ(launcher_world_size(), 3);
  ::setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "2", 1);
  ::setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4", 1);
  EXPECT_EQ(launcher_world_size(), 4);
  EXPECT_EQ(launcher_local_rank(), 2);
  EXPECT_EQ(launcher_local_size(), 4);
  ::setenv("OMPI_COMM_WORLD_SIZE", "not a number", 1);
  EXPECT_EQ(launcher_world_size(), 3);
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                           "OMPI_COMM_WORLD_LOCAL_SIZE"})
    ::unsetenv(name);
}

TEST(Communicator, CheckAllNamesEveryFailedRankOnEveryRank) {
  ScriptedCommunicator rank0(0, {"", "", "cannot open x.csv", "bad value"});
  try {
    rank0.check_all("", "reading the data shares");
    FAIL() << "expected a DistributedError";
  } catch (const DistributedError& e) {
    EXPECT_STREQ(e.what(),
                 "reading the data shares: rank 2 of 4: cannot open x.csv; rank 3 of 4: bad value");
  }
}

/// Weighted mean and population variance, two passes, as the backends compute them.
void two_pass(const std::vector<double>& x, const std::vector<double>& w, double& mean,
              double& var) {
  double sum = 0.0, weight = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += w[i] * x[i], weight += w[i];
  mean = sum / weight;
  var = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) var += w[i] * (x[i] - mean) * (x[i] - mean);
  var /= weight;
}

std::string packed(double weight, double mean, double var) {
  const double values[3] = {weight, mean, var};
  std::string bytes(sizeof values, '\0');
  std::memcpy(bytes.data(), values, sizeof values);
  return bytes;
}

TEST(MergeMoments, EqualsTheTwoPassMomentsOfAllTheRows) {
  // A mean far above the spread: what a naive sum of squares (Σx² - n·mean²) would lose.
  std::vector<double> x, w;
  for (int i = 0; i < 300; ++i) {
    x.push_back(1e4 + std::sin(i));
    w.push_back(1.0 + (i % 3));
  }
  const std::size_t cuts[] = {0, 70, 71, 300};  // one share of a single row
  std::vector<std::string> parts;
  std::vector<double> means, vars, weights;
  for (int r = 0; r < 3; ++r) {
    const std::vector<double> xs(x.begin() + cuts[r], x.begin() + cuts[r + 1]);
    const std::vector<double> ws(w.begin() + cuts[r], w.begin() + cuts[r + 1]);
    double m = 0, v = 0, s = 0;
    two_pass(xs, ws, m, v);
    for (double wi : ws) s += wi;
    parts.push_back(packed(s, m, v));
    means.push_back(m), vars.push_back(v), weights.push_back(s);
  }
  double mean = 0, var = 0;
  two_pass(x, w, mean, var);
  for (int rank = 0; rank < 3; ++rank) {
    ScriptedCommunicator comm(rank, parts);
    double weight = weights[rank];
    std::vector<double> m{means[rank]}, v{vars[rank]};
    distributed::merge_moments(&comm, weight, m, v);
    EXPECT_DOUBLE_EQ(weight, 600.0);
    EXPECT_NEAR(m[0], mean, 1e-15 * mean);
    EXPECT_NEAR(v[0], var, 1e-10 * var);
  }
}

TEST(MergeMoments, IsANoOpForOneProcess) {
  double weight = 3.0;
  std::vector<double> mean{1.0}, var{2.0};
  distributed::merge_moments(nullptr, weight, mean, var);
  EXPECT_EQ(weight, 3.0);
  EXPECT_EQ(mean[0], 1.0);
  EXPECT_EQ(var[0], 2.0);
}

TEST(UniteClassLabels, NumbersTheClassesOfEveryShare) {
  ModelSchema schema;
  schema.numeric_labels = true;
  schema.class_labels = {"2", "10"};
  ScriptedCommunicator comm(1, {R"(["1", "2"])", "", R"(["10", "3"])"});
  EXPECT_TRUE(distributed::unite_class_labels(schema, comm));
  EXPECT_EQ(schema.class_labels, (std::vector<std::string>{"1", "2", "3", "10"}));

  ModelSchema text;
  text.numeric_labels = false;
  text.class_labels = {"b"};
  ScriptedCommunicator other(0, {"", R"(["a", "b"])"});
  EXPECT_TRUE(distributed::unite_class_labels(text, other));
  EXPECT_EQ(text.class_labels, (std::vector<std::string>{"a", "b"}));
}

TEST(CsvShare, EveryRowBelongsToExactlyOneRankInOrder) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("rows.csv");
  std::string expected;
  {
    std::ofstream out(path);
    out << "a,b\n";
    for (int i = 0; i < 23; ++i)
      out << i << "," << std::string(static_cast<std::size_t>(i % 5), '7') << "1\n";
  }
  for (int ranks = 1; ranks <= 6; ++ranks) {
    std::vector<double> seen;
    for (int rank = 0; rank < ranks; ++rank) {
      const Dataset share = distributed::read_share(path, {}, rank, ranks);
      for (double v : share.columns.at(0).numeric) seen.push_back(v);
    }
    ASSERT_EQ(seen.size(), 23u) << ranks << " ranks";
    for (int i = 0; i < 23; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
  }
}

TEST(CsvShare, MoreRanksThanLinesIsAClearError) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("short.csv");
  std::ofstream(path) << "a,b\n1,2\n3,4\n";
  try {
    for (int rank = 0; rank < 8; ++rank) distributed::read_share(path, {}, rank, 8);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has no rows"), std::string::npos) << e.what();
  }
}

TEST(ColumnarShare, CutsFallAtThePieceStartNearestAnEvenShare) {
  const std::vector<std::int64_t> even{10, 10, 10, 10};
  EXPECT_EQ(distributed::piece_cuts(even, 1, "f", "row group"), (std::vector<int>{0, 4}));
  EXPECT_EQ(distributed::piece_cuts(even, 2, "f", "row group"), (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(distributed::piece_cuts(even, 4, "f", "row group"), (std::vector<int>{0, 1, 2, 3, 4}));
  // Starts 0, 100, 101, 102, 103 of 203 rows: half is 101.5, as near 101 as 102: the earlier.
  const std::vector<std::int64_t> uneven{100, 1, 1, 1, 100};
  EXPECT_EQ(distributed::piece_cuts(uneven, 2, "f", "row group"), (std::vector<int>{0, 2, 5}));
  // 3 of 1,002 rows per rank would put every cut after the first piece: each rank keeps one.
  const std::vector<std::int64_t> front{1000, 1, 1};
  EXPECT_EQ(distributed::piece_cuts(front, 3, "f", "row group"), (std::vector<int>{0, 1, 2, 3}));
  const std::vector<std::int64_t> back{1, 1, 1000};
  EXPECT_EQ(distributed::piece_cuts(back, 2, "f", "row group"), (std::vector<int>{0, 2, 3}));
  // Whatever the rows, the cuts rise strictly and cover every piece.
  std::vector<std::int64_t> ragged;
  for (int p = 0; p < 37; ++p) ragged.push_back((p * 7919) % 101);
  for (int ranks = 1; ranks <= 37; ++ranks) {
    const std::vector<int> cuts = distributed::piece_cuts(ragged, ranks, "f", "row group");
    ASSERT_EQ(cuts.size(), static_cast<std::size_t>(ranks) + 1);
    EXPECT_EQ(cuts.front(), 0);
    EXPECT_EQ(cuts.back(), 37);
    for (int r = 0; r < ranks; ++r) EXPECT_LT(cuts[r], cuts[r + 1]) << ranks;
  }
}

TEST(ColumnarShare, FewerPiecesThanRanksAndCraftedCountsAreClearErrors) {
  const std::vector<std::int64_t> two{5, 5};
  try {
    distributed::piece_cuts(two, 3, "t.parquet", "row group");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.parquet: 2 row group(s) for 3 ranks"),
              std::string::npos)
        << e.what();
  }
  const std::vector<std::int64_t> negative{5, -1, 5};
  EXPECT_THROW(distributed::piece_cuts(negative, 2, "t.parquet", "row group"), InputError);
  const std::vector<std::int64_t> huge{std::numeric_limits<std::int64_t>::max() / 2,
                                       std::numeric_limits<std::int64_t>::max() / 2, 5};
  EXPECT_THROW(distributed::piece_cuts(huge, 2, "t.parquet", "row group"), InputError);
}

TEST(CsvShare, CompressedFilesAreRefused) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("rows.csv.gz");
  std::ofstream(path) << std::string("\x1f\x8b\x08\x00", 4) << "rest";
  EXPECT_THROW(distributed::csv_share(path, {}, 0, 2), InputError);
}

}  // namespace
}  // namespace tabula

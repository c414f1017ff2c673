// A pipeline fitted over ranks (Pipeline::fit with a communicator, each rank holding a share of
// the rows with its own category numbering) is the pipeline one process fits on all the rows:
// the same summary and outputs, exactly where the statistics are exact (median, most_frequent,
// min/max, categories and their counts), within rounding where they are sums (mean, variance).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pipeline/pipeline_test_data.hpp"
#include "pipeline/steps.hpp"
#include "support/thread_communicator.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

using testing::kMissing;

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

/// The raw columns, so that each share can be built as the CSV reader builds it.
struct Raw {
  std::vector<std::vector<double>> numbers;     // a, b, c
  std::vector<std::vector<std::string>> texts;  // t, u, d (dates), m (dates on one share only)
  std::size_t rows = 0;

  Dataset rows_between(std::size_t begin, std::size_t end) const {
    std::vector<Column> columns;
    const char* numeric_names[] = {"a", "b", "c"};
    const char* text_names[] = {"t", "u", "d", "m"};
    for (std::size_t j = 0; j < numbers.size(); ++j)
      columns.push_back(testing::numeric_column(
          numeric_names[j], {numbers[j].begin() + begin, numbers[j].begin() + end}));
    for (std::size_t j = 0; j < texts.size(); ++j)
      columns.push_back(
          testing::text_column(text_names[j], {texts[j].begin() + begin, texts[j].begin() + end}));
    return testing::table(std::move(columns));
  }
};

// 400 rows; rank shares (for 4 ranks) start at rows 0, 60, 200, 330.
Raw raw_table() {
  Raw raw;
  raw.rows = 400;
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal(0.0, 1.0);
  raw.numbers.assign(3, {});
  raw.texts.assign(4, {});
  const char* common[] = {"red", "green", "blue"};
  for (std::size_t i = 0; i < raw.rows; ++i) {
    raw.numbers[0].push_back(i % 5 == 0 ? kMissing : 100.0 + 10.0 * normal(rng));
    raw.numbers[1].push_back(i % 7 == 0 ? kMissing : std::round(3.0 * normal(rng)));  // ties
    raw.numbers[2].push_back(i < 80 ? kMissing : normal(rng));  // none on the first share
    // t: three common values; "amber" (first by bytes) first seen on the third share, "violet"
    // only on the third share (rare), some missing.
    std::string t = common[i % 3];
    if (i >= 250 && i < 262) t = "violet";
    if (i >= 300 && i % 4 == 0) t = "amber";
    if (i % 11 == 0) t = "";
    raw.texts[0].push_back(t);
    // u: counts 1..n per category: min_frequency and max_categories have work to do.
    raw.texts[1].push_back("u" + std::to_string((i * i) % 23 % (1 + i % 9)));
    raw.texts[2].push_back(
        i % 13 == 0 ? "" : "2024-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10));
    raw.texts[3].push_back(i < 150 ? "2023-05-0" + std::to_string(1 + i % 9) : "later");
  }
  return raw;
}

StepSpec step(std::string kind, ParamMap params = {}) {
  return {std::move(kind), std::move(params)};
}

BranchSpec by_type(std::string name, ColumnType type, std::vector<StepSpec> steps) {
  BranchSpec b;
  b.name = std::move(name);
  b.columns.type = type;
  b.steps = std::move(steps);
  return b;
}

/// The pipeline fitted on all rows, and on each of `ranks` shares with a communicator; checks
/// every rank's summary and outputs on all the rows against the one-process pipeline's.
void expect_ranks_fit_one_process_pipeline(const PipelineSpec& spec, bool exact) {
  const Raw raw = raw_table();
  const Dataset all = raw.rows_between(0, raw.rows);
  Pipeline alone(spec);
  alone.fit(cpu(), all);
  const std::vector<float> expected = alone.transform(cpu(), all);
  const std::vector<std::size_t> starts{0, 200, 60, 330};  // sorted below per rank count
  for (int ranks = 1; ranks <= 4; ++ranks) {
    std::vector<std::size_t> cuts(starts.begin(), starts.begin() + ranks);
    std::sort(cuts.begin(), cuts.end());
    cuts.push_back(raw.rows);
    std::vector<std::unique_ptr<Pipeline>> fitted(static_cast<std::size_t>(ranks));
    testing::run_ranks(ranks, [&](Communicator& comm) {
      const auto r = static_cast<std::size_t>(comm.rank());
      const Dataset share = raw.rows_between(cuts[r], cuts[r + 1]);
      fitted[r] = std::make_unique<Pipeline>(spec);
      fitted[r]->fit(cpu(), share, {}, &comm);
    });
    for (int r = 0; r < ranks; ++r) {
      SCOPED_TRACE("rank " + std::to_string(r) + " of " + std::to_string(ranks));
      const Pipeline& p = *fitted[static_cast<std::size_t>(r)];
      EXPECT_EQ(p.output_names(), alone.output_names());
      EXPECT_EQ(p.notes(), alone.notes());
      if (exact) EXPECT_EQ(p.summary(), alone.summary());
      const std::vector<float> got = p.transform(cpu(), all);
      ASSERT_EQ(got.size(), expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (exact || std::isnan(expected[i])) {
          ASSERT_EQ(std::isnan(got[i]), std::isnan(expected[i])) << i;
          if (!std::isnan(expected[i])) ASSERT_EQ(got[i], expected[i]) << i;
        } else {
          ASSERT_NEAR(got[i], expected[i], 1e-6 * std::max(1.0f, std::abs(expected[i]))) << i;
        }
      }
    }
  }
}

TEST(PipelineDistributed, ExactStatisticsAreTheOneProcessOnes) {
  PipelineSpec spec;
  spec.branches.push_back(by_type("numeric", ColumnType::kNumeric,
                                  {step("SimpleImputer", {{"strategy", "median"}}),
                                   step("MinMaxScaler", {{"feature_range", "-1,1"}})}));
  BranchSpec frequent;
  frequent.name = "frequent";
  frequent.columns.names = {"t"};
  frequent.steps = {
      step("SimpleImputer", {{"strategy", "most_frequent"}}),
      step("OneHotEncoder", {{"min_frequency", "10"}, {"handle_unknown", "infrequent_if_exist"}})};
  spec.branches.push_back(frequent);
  BranchSpec capped;
  capped.name = "capped";
  capped.columns.names = {"u"};
  capped.steps = {step("OneHotEncoder", {{"max_categories", "4"}})};
  spec.branches.push_back(capped);
  BranchSpec dates;
  dates.name = "dates";
  dates.columns.type = ColumnType::kCategorical;
  dates.columns.dates = true;
  dates.steps = {step("DateFeatures"), step("SimpleImputer", {{"strategy", "most_frequent"}})};
  spec.branches.push_back(dates);
  spec.branches.push_back(
      by_type("codes", ColumnType::kCategorical,
              {step("SimpleImputer", {{"strategy", "constant"}, {"fill_value", "none"}}),
               step("OrdinalEncoder")}));
  expect_ranks_fit_one_process_pipeline(spec, true);
}

TEST(PipelineDistributed, MeansAndVariancesAgreeWithinRounding) {
  PipelineSpec spec;
  spec.branches.push_back(
      by_type("numeric", ColumnType::kNumeric,
              {step("SimpleImputer", {{"strategy", "mean"}}), step("StandardScaler")}));
  spec.branches.push_back(by_type("categorical", ColumnType::kCategorical,
                                  {step("SimpleImputer", {{"strategy", "most_frequent"}}),
                                   step("OneHotEncoder"), step("StandardScaler")}));
  spec.after = {step("PCA", {{"n_components", "3"}})};
  expect_ranks_fit_one_process_pipeline(spec, false);
}

TEST(PipelineDistributed, TheDefaultPipelinesAreTheOneProcessOnes) {
  // The ridge default: median, scaler, dates, one-hot; the forest's: dates and one-hot only.
  expect_ranks_fit_one_process_pipeline(PipelineSpec::defaults("ridge"), false);
  expect_ranks_fit_one_process_pipeline(PipelineSpec::defaults("forest"), true);
}

TEST(PipelineDistributed, AColumnEmptyOnEveryShareIsRefusedOnEveryRank) {
  PipelineSpec spec;
  spec.branches.push_back(
      by_type("numeric", ColumnType::kNumeric, {step("SimpleImputer", {{"strategy", "median"}})}));
  const Raw raw = raw_table();
  std::vector<std::string> errors(2);
  testing::run_ranks(2, [&](Communicator& comm) {
    // Column c has no value in rows 0..79: both shares hold only those rows.
    const Dataset share = comm.rank() == 0 ? raw.rows_between(0, 30) : raw.rows_between(30, 80);
    Pipeline p(spec);
    try {
      p.fit(cpu(), share, {}, &comm);
    } catch (const InputError& e) {
      errors[static_cast<std::size_t>(comm.rank())] = e.what();
    }
  });
  EXPECT_NE(errors[0].find("column 'c' has no present value"), std::string::npos) << errors[0];
  EXPECT_EQ(errors[1], errors[0]);
}

/// `bytes` of int64 values (and, after them, `tail`), as a rank packs its part.
std::string packed(std::initializer_list<std::int64_t> values, const std::string& tail = "") {
  std::string bytes;
  for (std::int64_t v : values) bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  return bytes + tail;
}

void expect_refused(const std::function<void()>& merge, const std::string& needle) {
  try {
    merge();
    ADD_FAILURE() << "accepted a crafted part";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(PipelineDistributed, CraftedPartsFromAnotherRankAreRefusedNamingIt) {
  // Rank 1's category counts: missing, then (count, length, text) per value.
  const std::string good = packed({0, 1, 5, 3}, "red");
  pipeline::CategoryCounts mine;
  auto merge_with = [&](const std::string& theirs) {
    return [&, theirs] {
      testing::ScriptedCommunicator comm(0, {"", theirs});
      pipeline::CategoryCounts counts = mine;
      pipeline::merge_over_ranks(counts, &comm);
      mine = counts;
    };
  };
  merge_with(good)();
  EXPECT_EQ(mine.values, std::vector<std::string>{"red"});
  EXPECT_EQ(mine.counts, std::vector<std::int64_t>{5});
  expect_refused(merge_with(packed({0, 1, 5, 30}, "red")), "rank 1's category counts: truncated");
  expect_refused(merge_with(packed({0, 1, -5, 3}, "red")), "rank 1's category counts: a negative");
  expect_refused(merge_with(packed({0, 2, 5, 3}, "red")), "truncated");
  expect_refused(merge_with(good + "x"), "trailing bytes");
  // Rank 1's value counts: (value, count) pairs.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::string nan_part(reinterpret_cast<const char*>(&nan), sizeof nan);
  expect_refused(
      [&] {
        testing::ScriptedCommunicator comm(0, {"", nan_part + packed({2})});
        pipeline::value_counts_over_ranks(std::vector<double>{1.0}, &comm);
      },
      "rank 1's value counts: a NaN value");
}

}  // namespace
}  // namespace tabula

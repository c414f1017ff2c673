// Drift statistics against distributions whose PSI, KS and unseen shares are known, the rolling
// window's slices, and the profile's round trip through a model file (crafted values refused).
#include "tabula/monitoring/drift.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "serve/drift_window.hpp"
#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/models/registry.hpp"

namespace tabula::monitoring {
namespace {

Column numeric(std::string name, std::vector<double> values) {
  return Column{std::move(name), ColumnType::kNumeric, std::move(values), {}, {}};
}

Column text(std::string name, std::vector<std::int32_t> codes, std::vector<std::string> cats) {
  return Column{std::move(name), ColumnType::kCategorical, {}, std::move(codes), std::move(cats)};
}

std::vector<double> uniform(double lo, double hi, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (double& v : out) v = u(rng);
  return out;
}

std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  return rows;
}

/// Profile of "x" (uniform on [0, 1000)) and "city" (a: 50%, b: 50%) over 10,000 rows.
DriftProfile reference() {
  Dataset d;
  std::vector<std::int32_t> codes;
  for (int i = 0; i < 10000; ++i) codes.push_back(i % 2);
  d.columns = {numeric("x", uniform(0, 1000, 10000, 1)), text("city", codes, {"a", "b"})};
  const std::vector<std::string> names = {"x", "city"};
  return build_profile(d, all_rows(10000), names);
}

DriftCounts count(const DriftProfile& p, const Dataset& d) {
  DriftCounts c(p);
  count_rows(p, d, all_rows(d.rows()), {}, c);
  return c;
}

TEST(DriftProfile, NumericBinsArePercentilesAndSharesSumToOne) {
  const DriftProfile p = reference();
  const ColumnProfile& x = p.features[0];
  EXPECT_EQ(x.edges.size(), 99u);
  EXPECT_NEAR(x.edges[49], 500.0, 20.0);  // the median of U[0, 1000)
  double total = 0;
  for (double s : x.reference) total += s;
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_EQ(x.reference.back(), 0.0);  // nothing missing
  const ColumnProfile& city = p.features[1];
  EXPECT_EQ(city.categories, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(city.complete);
  EXPECT_DOUBLE_EQ(city.reference[0], 0.5);
  EXPECT_DOUBLE_EQ(city.reference[2], 0.0);  // "other"
}

TEST(DriftProfile, DiscreteValuesGetOneBinEach) {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(i % 4 == 0 ? 1.0 : 0.0);
  v.push_back(std::nan(""));
  const ColumnProfile p = profile_numeric("flag", v);
  EXPECT_EQ(p.edges, (std::vector<double>{0.0, 1.0}));
  EXPECT_NEAR(p.reference[1], 750.0 / 1001, 1e-12);
  EXPECT_NEAR(p.reference[2], 250.0 / 1001, 1e-12);
  EXPECT_NEAR(p.reference[3], 1.0 / 1001, 1e-12);
}

/// The profile as a full sort defines it: edges at sorted positions q (n - 1) / 100, each value
/// counted in the bin upper_bound finds among all the edges.
ColumnProfile sorted_profile(std::vector<double> values) {
  ColumnProfile p;
  p.type = ColumnType::kNumeric;
  std::vector<double> present;
  for (double v : values)
    if (!std::isnan(v)) present.push_back(v);
  std::sort(present.begin(), present.end());
  const auto n = static_cast<std::int64_t>(present.size());
  for (std::int64_t q = 1; n > 0 && q < kPercentileBins; ++q) {
    const double edge = present[static_cast<std::size_t>(q * (n - 1) / kPercentileBins)];
    if (std::isfinite(edge) && (p.edges.empty() || edge > p.edges.back())) p.edges.push_back(edge);
  }
  std::vector<std::int64_t> counts(p.edges.size() + 2, 0);
  for (double v : present) ++counts[static_cast<std::size_t>(p.bin_of(v))];
  counts.back() = static_cast<std::int64_t>(values.size()) - n;
  for (std::int64_t c : counts)
    p.reference.push_back(static_cast<double>(c) / static_cast<double>(values.size()));
  return p;
}

TEST(DriftProfile, RadixSortedPercentilesMatchAComparisonSort) {
  std::mt19937_64 rng(11);
  for (const int n : {1, 2, 7, 99, 100, 101, 1000, 12345}) {
    for (const int distinct : {1, 3, 50, 1 << 30}) {
      std::vector<double> v;
      for (int i = 0; i < n; ++i) {
        const auto r = rng();
        v.push_back(r % 17 == 0   ? std::nan("")
                    : r % 23 == 0 ? (r % 2 ? 1.0 : -1.0) * HUGE_VAL
                                  : static_cast<double>(static_cast<int>(r >> 8) % distinct));
      }
      SCOPED_TRACE(std::to_string(n) + " values, " + std::to_string(distinct) + " distinct");
      const ColumnProfile got = profile_numeric("x", v);
      const ColumnProfile want = sorted_profile(v);
      EXPECT_EQ(got.edges, want.edges);
      EXPECT_EQ(got.reference, want.reference);
    }
  }
}

TEST(Drift, SameDistributionGivesSmallStatistics) {
  const DriftProfile p = reference();
  Dataset now;
  std::vector<std::int32_t> codes;
  for (int i = 0; i < 5000; ++i) codes.push_back((i / 3) % 2);
  now.columns = {numeric("x", uniform(0, 1000, 5000, 2)), text("city", codes, {"a", "b"})};
  const DriftCounts c = count(p, now);
  EXPECT_LT(population_stability_index(p.features[0], c.features[0]), 0.01);
  EXPECT_LT(*ks_statistic(p.features[0], c.features[0]), 0.03);
  EXPECT_LT(population_stability_index(p.features[1], c.features[1]), 0.001);
  const nlohmann::json r = drift_report(p, c, {});
  EXPECT_EQ(r["status"], "ok");
  EXPECT_EQ(r["features"][1]["unseen"].get<double>(), 0.0);
}

TEST(Drift, ShiftedDistributionIsFlaggedWithTheKnownKs) {
  const DriftProfile p = reference();
  Dataset now;
  std::vector<std::int32_t> codes;
  // city: a, b and the unseen c in equal shares; x: U[500, 1500), so KS = 0.5.
  for (int i = 0; i < 6000; ++i) codes.push_back(i % 3);
  now.columns = {numeric("x", uniform(500, 1500, 6000, 3)), text("city", codes, {"a", "b", "c"})};
  const DriftCounts c = count(p, now);
  EXPECT_NEAR(*ks_statistic(p.features[0], c.features[0]), 0.5, 0.02);
  EXPECT_GT(population_stability_index(p.features[0], c.features[0]), 1.0);
  const nlohmann::json r = drift_report(p, c, {.threshold = 0.2, .min_rows = 100});
  EXPECT_EQ(r["status"], "drift");
  EXPECT_NEAR(r["features"][1]["unseen"].get<double>(), 1.0 / 3, 1e-12);
  EXPECT_EQ(r["drifted_columns"], nlohmann::json({"x", "city"}));
  // Too few rows: the same statistics, no verdict.
  const nlohmann::json few = drift_report(p, c, {.threshold = 0.2, .min_rows = 10000});
  EXPECT_EQ(few["status"], "insufficient_data");
  EXPECT_FALSE(few["features"][0]["drifted"].get<bool>());
}

TEST(Drift, MissingValuesShowAsTheirOwnGroup) {
  const DriftProfile p = reference();
  std::vector<double> x = uniform(0, 1000, 4000, 4);
  for (std::size_t i = 0; i < x.size(); i += 2) x[i] = std::nan("");
  Dataset now;
  now.columns = {numeric("x", x), text("city", std::vector<std::int32_t>(4000, -1), {})};
  const DriftCounts c = count(p, now);
  const nlohmann::json r = drift_report(p, c, {});
  EXPECT_DOUBLE_EQ(r["features"][0]["missing_current"].get<double>(), 0.5);
  EXPECT_GT(r["features"][0]["psi"].get<double>(), 1.0);
  EXPECT_TRUE(r["features"][1]["unseen"].is_null());  // nothing present to be unseen
}

TEST(Drift, NumbersReadAsTextAndTextAsNumbers) {
  // A text column whose values are numbers counts into a numeric profile, as the pipeline reads.
  const DriftProfile p = reference();
  Dataset now;
  now.columns = {text("x", {0, 1, 1, -1}, {"250", "750"}), text("city", {0, 0, 0, 0}, {"a"})};
  const DriftCounts c = count(p, now);
  EXPECT_EQ(c.features[0][static_cast<std::size_t>(p.features[0].bin_of(250.0))], 1);
  EXPECT_EQ(c.features[0][static_cast<std::size_t>(p.features[0].bin_of(750.0))], 2);
  EXPECT_EQ(c.features[0].back(), 1);
}

TEST(Drift, CountsAddAndRemove) {
  const DriftProfile p = reference();
  Dataset now;
  now.columns = {numeric("x", uniform(0, 10, 50, 5)), text("city", {0, 1}, {"a", "b"})};
  now.columns[1].codes.resize(50, 0);
  DriftCounts total(p);
  const DriftCounts one = count(p, now);
  total.add(one);
  total.add(one);
  total.add(one, -1);
  EXPECT_EQ(total.features, one.features);
  EXPECT_EQ(total.rows, 50);
}

TEST(DriftWindow, KeepsTheLastRowsAndLogsTheVerdict) {
  const DriftProfile p = reference();
  serve::Metrics metrics;
  serve::DriftWindow window("m", "1", p, {.window_rows = 1000, .threshold = 0.2, .min_rows = 100},
                            metrics);
  Dataset same, shifted;
  std::vector<std::int32_t> codes(100, 0);
  for (std::size_t i = 0; i < codes.size(); i += 2) codes[i] = 1;
  same.columns = {numeric("x", uniform(0, 1000, 100, 6)), text("city", codes, {"a", "b"})};
  shifted.columns = {numeric("x", uniform(2000, 3000, 100, 7)), text("city", codes, {"a", "b"})};
  for (int i = 0; i < 20; ++i) window.add(count(p, same));
  EXPECT_LE(window.report()["rows"].get<std::int64_t>(), 1000);
  EXPECT_EQ(window.report()["status"], "ok");
  EXPECT_EQ(metrics.value("tabula_drift_detected", {{"model", "m"}, {"version", "1"}}), 0);
  for (int i = 0; i < 20; ++i) window.add(count(p, shifted));
  const nlohmann::json r = window.report();
  EXPECT_EQ(r["status"], "drift");
  // Only shifted rows are left in the window: every x is above the reference's maximum, so
  // KS is 1, seen at the last percentile edge as 0.99.
  EXPECT_NEAR(r["features"][0]["ks"].get<double>(), 0.99, 0.002);
  EXPECT_EQ(metrics.value("tabula_drift_detected", {{"model", "m"}, {"version", "1"}}), 1);
  EXPECT_GT(metrics.value("tabula_drift_psi", {{"model", "m"}, {"version", "1"}, {"column", "x"}}),
            1.0);
}

TEST(DriftWindows, AReloadOfTheSameVersionKeepsItsWindow) {
  const DriftProfile p = reference();
  serve::Metrics metrics;
  serve::DriftWindows windows(metrics);
  const serve::DriftConfig config;
  const auto first = windows.attach("m", "1", p, config);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(windows.attach("m", "1", p, config), first);
  EXPECT_NE(windows.attach("m", "2", p, config), first);
  DriftProfile other = p;
  other.features[0].edges[0] -= 1;
  EXPECT_NE(windows.attach("m", "1", other, config), first);
  EXPECT_EQ(windows.attach("m", "1", std::nullopt, config), nullptr);
  EXPECT_EQ(windows.attach("m", "1", p, {.window_rows = 0}), nullptr);
}

/// Writes `p` as a model file's profile and reads it back; `edit` may damage the header first.
std::optional<DriftProfile> round_trip(const DriftProfile& p,
                                       const std::function<void(nlohmann::json&)>& edit = {}) {
  const auto path = testing::unique_temp_path("profile.tabula");
  ArtifactWriter out;
  save_profile(p, out);
  if (edit) edit(out.header()["profile"]);
  out.write(path.string());
  const ArtifactReader in(path.string());
  ModelSchema schema;
  schema.features = {{"x", ColumnType::kNumeric}, {"city", ColumnType::kCategorical}};
  const auto estimator = make_estimator("linear", {}, Task::kRegression);
  auto loaded = load_profile(in, schema, *estimator);
  std::filesystem::remove(path);
  return loaded;
}

TEST(DriftProfileFile, RoundTripsExactly) {
  DriftProfile p = reference();
  p.prediction = profile_numeric("prediction", uniform(-1, 1, 500, 8));
  p.source = "10000 training rows";
  EXPECT_EQ(round_trip(p), p);
}

TEST(DriftProfileFile, CraftedValuesAreRefusedNamingTheField) {
  const DriftProfile p = reference();
  const auto refused = [&](const std::function<void(nlohmann::json&)>& edit,
                           const std::string& field) {
    try {
      round_trip(p, edit);
      ADD_FAILURE() << "accepted a profile with a bad " << field;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  refused([](nlohmann::json& j) { j["features"][0]["name"] = "y"; }, "profile.f0");
  refused(
      [](nlohmann::json& j) {
        j["features"][1]["categories"] = {"b", "a"};
      },
      "profile.f1.categories");
  refused([](nlohmann::json& j) { j["features"][0]["reference"] = "profile.f1.reference"; },
          "profile.f0.reference");
  refused([](nlohmann::json& j) { j["features"][0]["rows"] = -5; }, "profile.f0.rows");
  refused([](nlohmann::json& j) { j["features"].erase(1); }, "profile.features");
  refused([](nlohmann::json& j) { j["format"] = 2; }, "profile.format");
}

TEST(DriftProfileFile, SharesThatDoNotSumToOneAreRefused) {
  DriftProfile p = reference();
  p.features[0].reference[0] += 0.5;
  EXPECT_THROW(round_trip(p), InputError);
  p = reference();
  p.features[0].edges[5] = p.features[0].edges[4];  // not increasing
  EXPECT_THROW(round_trip(p), InputError);
}

}  // namespace
}  // namespace tabula::monitoring

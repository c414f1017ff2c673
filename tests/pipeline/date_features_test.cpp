// Dates: the parser (ISO 8601 and strptime-style formats, calendar validity, offsets), the
// DateFeatures step's parts against values worked out by hand (and by pandas' .dt), the default
// pipeline finding ISO date columns, the saved form, and the errors that name value and format.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "pipeline/date_time.hpp"
#include "pipeline/pipeline_test_data.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {
namespace {

using pipeline::kIsoDate;
using pipeline::parse_date_time;
using testing::numeric_column;
using testing::table;
using testing::text_column;

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

TEST(DateTime, ReadsIsoDatesAndTimestamps) {
  const auto d = parse_date_time("2024-02-29", kIsoDate);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 2024);
  EXPECT_EQ(d->month, 2);
  EXPECT_EQ(d->day, 29);
  EXPECT_FALSE(d->has_time);
  EXPECT_EQ(d->day_of_week(), 3);  // a Thursday (pandas: Monday = 0)
  EXPECT_EQ(d->day_of_year(), 60);
  EXPECT_EQ(d->seconds_since_epoch(), 1709164800.0);  // date -u -d 2024-02-29 +%s

  const auto t = parse_date_time("2024-02-29T13:45:30.5+02:00", kIsoDate);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->has_time);
  EXPECT_EQ(t->hour, 13) << "the wall time as written";
  EXPECT_EQ(t->seconds_since_epoch(), 1709164800.0 + 11 * 3600 + 45 * 60 + 30.5) << "UTC";
  EXPECT_TRUE(parse_date_time("2024-02-29 13:45", kIsoDate));
  EXPECT_TRUE(parse_date_time("2024-02-29T13:45:30Z", kIsoDate));
  EXPECT_TRUE(parse_date_time("1969-12-31T23:59:59-0130", kIsoDate));
  EXPECT_EQ(parse_date_time("1969-12-31", kIsoDate)->seconds_since_epoch(), -86400.0);

  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-04-31", "2024-1-01", "24-01-01",
                          "2024-01-01T25:00", "2024-01-01T10:60", "2024-01-01x", "2024-01-01T",
                          "2024-01-01T10:00+2", "2024-01-01T10:00:00.", "", "-", "12345"})
    EXPECT_FALSE(parse_date_time(bad, kIsoDate)) << bad;
}

TEST(DateTime, ReadsStrptimeFormats) {
  const auto d = parse_date_time("31/12/1999 23:05", "%d/%m/%Y %H:%M");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 1999);
  EXPECT_EQ(d->month, 12);
  EXPECT_EQ(d->hour, 23);
  EXPECT_EQ(parse_date_time("3 mar 24", "%d %b %y")->year, 2024);
  EXPECT_EQ(parse_date_time("3 March 70", "%d %B %y")->year, 1970);  // POSIX: 69-99 are 19xx
  EXPECT_EQ(parse_date_time("20240131", "%Y%m%d")->day, 31);
  EXPECT_FALSE(parse_date_time("31/02/2024", "%d/%m/%Y"));
  EXPECT_FALSE(parse_date_time("31-12-2024", "%d/%m/%Y"));
  EXPECT_FALSE(parse_date_time("31/12/2024 extra", "%d/%m/%Y"));
  EXPECT_NO_THROW(pipeline::check_date_format("%Y-%m-%dT%H:%M:%S"));
  EXPECT_THROW(pipeline::check_date_format("%Y-%m"), InputError);     // no day
  EXPECT_THROW(pipeline::check_date_format("%Y-%m-%e"), InputError);  // unknown directive
}

TEST(DateFeatures, DefaultPipelineTurnsIsoColumnsIntoParts) {
  const Dataset d = table({numeric_column("x", {1, 2, 3, 4}),
                           text_column("signup", {"2024-02-29", "", "2023-01-01", "2024-02-29"}),
                           text_column("city", {"a", "b", "a", "b"})});
  Pipeline p(PipelineSpec::defaults("forest"));
  p.fit(cpu(), d);
  const std::vector<std::string> names = {"x",
                                          "signup.year",
                                          "signup.month",
                                          "signup.day",
                                          "signup.day_of_week",
                                          "signup.day_of_year",
                                          "signup.epoch",
                                          "city=a",
                                          "city=b"};
  EXPECT_EQ(p.output_names(), names) << "no hour: no value has a time";
  const std::vector<float> x = p.transform(cpu(), d);
  const auto w = names.size();
  const std::vector<float> row0 = {1, 2024, 2, 29, 3, 60, 1709164800.0f, 1, 0};
  EXPECT_EQ(std::vector<float>(x.begin(), x.begin() + w), row0);
  for (std::size_t k = 1; k <= 6; ++k) EXPECT_TRUE(std::isnan(x[w + k])) << "missing stays NaN";
  EXPECT_EQ(x[2 * w + 4], 6.0f) << "2023-01-01 is a Sunday";

  // A linear model's default imputes the parts (median of the training rows) and scales them.
  Pipeline linear(PipelineSpec::defaults("ridge"));
  linear.fit(cpu(), d);
  const std::vector<float> y = linear.transform(cpu(), d);
  for (float v : y) EXPECT_TRUE(std::isfinite(v));
}

TEST(DateFeatures, TimestampsAddTheHourAndAFormatReadsOtherSpellings) {
  const Dataset d =
      table({text_column("when", {"01/02/2024 10:30", "02/02/2024 23:00", "03/02/2024 00:15"})});
  PipelineOverrides o;
  o.date_columns = {"when"};
  o.date_format = "%d/%m/%Y %H:%M";
  Pipeline p(apply_overrides(PipelineSpec::defaults("forest"), o));
  p.fit(cpu(), d);
  const auto& names = p.output_names();
  ASSERT_EQ(names.size(), 7u);
  EXPECT_EQ(names[5], "when.hour");
  const std::vector<float> x = p.transform(cpu(), d);
  EXPECT_EQ(x[1], 2.0f) << "month of 01/02/2024 (day first)";
  EXPECT_EQ(x[7 + 5], 23.0f);
}

TEST(DateFeatures, NotADateIsAnErrorNamingValueAndFormatOrARowError) {
  const Dataset train = table({text_column("d", {"2024-01-01", "2024-01-02", "2024-01-03"})});
  Pipeline p(PipelineSpec::defaults("forest"));
  p.fit(cpu(), train);
  const Dataset later = table({text_column("d", {"2024-01-04", "soon", "2024-01-05"})});
  try {
    p.transform(cpu(), later);
    ADD_FAILURE() << "accepted 'soon'";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'soon' is not a date in format ISO 8601"), std::string::npos) << what;
    EXPECT_NE(what.find("row 2"), std::string::npos) << what;
  }
  std::vector<RowError> errors;
  const std::vector<float> x = p.transform(cpu(), later, {}, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].row, 1);
  EXPECT_TRUE(std::isnan(x[static_cast<std::size_t>(p.n_outputs())]));
  EXPECT_EQ(x[0], 2024.0f) << "the other rows go on";

  // Named as a date column at fit, a value that is not one names the value and the format.
  PipelineOverrides o;
  o.date_columns = {"d"};
  o.date_format = "%d/%m/%Y";
  Pipeline q(apply_overrides(PipelineSpec::defaults("forest"), o));
  try {
    q.fit(cpu(), train);
    ADD_FAILURE() << "fitted ISO dates with a %d/%m/%Y format";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'2024-01-01' is not a date in format '%d/%m/%Y'"),
              std::string::npos)
        << e.what();
  }
}

TEST(DateFeatures, TextThatIsNotAllDatesStaysCategorical) {
  const Dataset d = table({text_column("code", {"2024-01-01", "n/a-ish", "2024-01-03"})});
  Pipeline p(PipelineSpec::defaults("forest"));
  p.fit(cpu(), d);
  EXPECT_EQ(p.output_names().front(), "code=2024-01-01");
}

TEST(DateFeatures, SaveLoadGivesBitIdenticalTransforms) {
  const Dataset d = table({text_column("t", {"2024-03-10T01:59:59", "2024-03-10T03:00:00", "",
                                             "1999-12-31T23:59:59.25"}),
                           numeric_column("x", {1, 2, 3, 4})});
  Pipeline p(PipelineSpec::defaults("logistic"));
  p.fit(cpu(), d);
  const Pipeline q = testing::reloaded(p);
  EXPECT_EQ(q.output_names(), p.output_names());
  const std::vector<float> x = p.transform(cpu(), d), y = q.transform(cpu(), d);
  ASSERT_EQ(x.size(), y.size());
  EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(float)));
  EXPECT_EQ(q.summary(), p.summary());
}

}  // namespace
}  // namespace tabula

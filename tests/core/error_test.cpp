#include "tabula/core/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tabula {
namespace {

TEST(DescribeLocation, NamesFileLineColumnAndColumnName) {
  EXPECT_EQ(describe_location("data.csv", 17, 3, "age", "not a number"),
            "data.csv:17: column 3 ('age'): not a number");
}

TEST(DescribeLocation, OmitsWhatIsUnknown) {
  EXPECT_EQ(describe_location("data.csv", 0, 0, "", "empty file"), "data.csv: empty file");
  EXPECT_EQ(describe_location("data.csv", 4, 2, "", "bad"), "data.csv:4: column 2: bad");
  EXPECT_EQ(describe_location("data.csv", 1, 0, "target", "missing"),
            "data.csv:1: column 'target': missing");
}

TEST(Errors, HierarchyLetsCallersCatchEveryTabulaError) {
  EXPECT_THROW(throw InputError("x"), Error);
  EXPECT_THROW(throw DeviceError("x"), Error);
  EXPECT_THROW(throw Error("x"), std::runtime_error);
}

TEST(Errors, AssertNamesFileAndLine) {
  try {
    TABULA_ASSERT(1 + 1 == 3, "arithmetic broke");
    ADD_FAILURE() << "TABULA_ASSERT did not throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("error_test.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find("internal error: arithmetic broke"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(TABULA_ASSERT(true, "never"));
}

}  // namespace
}  // namespace tabula

// TABULA_CHECK: the one formatted check macro (src/core/check.hpp).
#include "core/check.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tabula {
namespace {

std::string message_of(bool cond, int value) {
  try {
    TABULA_CHECK(cond, "value {} is not {}", value, "allowed");
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

TEST(Check, PassesSilentlyWhenTheConditionHolds) { EXPECT_EQ(message_of(true, 3), ""); }

TEST(Check, ThrowsTheFormattedMessageWithTheSourceLineFromTheTreeTop) {
  const std::string message = message_of(false, 7);
  // The file is named from the tree's top folder, not the build machine's absolute path.
  EXPECT_EQ(message.rfind("tests/core/check_test.cpp:", 0), 0u) << message;
  EXPECT_NE(message.find(": value 7 is not allowed"), std::string::npos) << message;
}

TEST(Check, ThrowsTheRequestedErrorType) {
  EXPECT_THROW(TABULA_CHECK_AS(DeviceError, 1 + 1 == 3, "cuda:{} is gone", 2), DeviceError);
  EXPECT_THROW(TABULA_CHECK_AS(InputError, false, "bad"), InputError);
}

TEST(Check, ArgumentsAreEvaluatedOnlyOnFailure) {
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  TABULA_CHECK(true, "{}", count());
  EXPECT_EQ(evaluated, 0);
  EXPECT_THROW(TABULA_CHECK(false, "{}", count()), Error);
  EXPECT_EQ(evaluated, 1);
}

TEST(Check, SourceLocationKeepsAPathOutsideTheTree) {
  EXPECT_EQ(source_location_text("/x/y/src/core/a.cpp", 3), "src/core/a.cpp:3");
  EXPECT_EQ(source_location_text("/x/src/y/kernels/k.cu", 9), "kernels/k.cu:9");
  EXPECT_EQ(source_location_text("plain.cpp", 1), "plain.cpp:1");
}

}  // namespace
}  // namespace tabula

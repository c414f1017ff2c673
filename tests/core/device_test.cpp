#include "tabula/core/device.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tabula/core/error.hpp"

namespace tabula {
namespace {

TEST(DeviceParse, AcceptsEveryDocumentedSpelling) {
  EXPECT_EQ(Device::parse("auto"), Device::automatic());
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:0"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3"), Device::cuda(3));
  EXPECT_EQ(Device::parse("cuda:12").ordinal, 12);
}

TEST(DeviceParse, RejectsMalformedStringsWithAnInputError) {
  for (const char* bad : {"", "CPU", "tpu", "cuda:", "cuda:-1", "cuda:1x", "cuda: 1", "cuda:1.5",
                          "cuda:99999999999", "auto ", "cpu:0"}) {
    try {
      Device::parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(DeviceParse, ToStringRoundTrips) {
  for (Device d : {Device::cpu(), Device::automatic(), Device::cuda(0), Device::cuda(7)})
    EXPECT_EQ(Device::parse(d.to_string()), d) << d.to_string();
  EXPECT_EQ(Device::cuda(2).to_string(), "cuda:2");
  EXPECT_TRUE(Device::cpu().is_cpu());
  EXPECT_TRUE(Device::cuda(1).is_cuda());
  EXPECT_FALSE(Device::automatic().is_cpu());
}

}  // namespace
}  // namespace tabula

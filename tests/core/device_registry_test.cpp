#include "tabula/core/device_registry.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

bool has_cuda_device(const DeviceRegistry& registry) {
  for (const DeviceInfo& info : registry.devices())
    if (info.device.is_cuda()) return true;
  return false;
}

TEST(DeviceRegistry, CpuIsAlwaysFirstAndDescribed) {
  const DeviceRegistry& registry = DeviceRegistry::instance();
  ASSERT_FALSE(registry.devices().empty());
  const DeviceInfo& cpu = registry.devices().front();
  EXPECT_EQ(cpu.device, Device::cpu());
  EXPECT_FALSE(cpu.name.empty());
  EXPECT_GE(cpu.cores, 1);
  EXPECT_FALSE(cpu.simd.empty());
  EXPECT_GT(cpu.memory_bytes, 0u);
  for (std::size_t i = 1; i < registry.devices().size(); ++i) {
    EXPECT_TRUE(registry.devices()[i].device.is_cuda());
    EXPECT_EQ(registry.devices()[i].device.ordinal, static_cast<int>(i - 1));
  }
}

TEST(DeviceRegistry, AutoResolvesToAUsableDevice) {
  DeviceRegistry& registry = DeviceRegistry::instance();
  const Device chosen = registry.resolve(Device::automatic());
  EXPECT_EQ(chosen, has_cuda_device(registry) ? Device::cuda(0) : Device::cpu());
  Backend& backend = registry.backend(Device::automatic());
  EXPECT_EQ(backend.device(), chosen);
  // Usable: a round trip through its memory works.
  const std::vector<double> host = {1.0, 2.0, 3.0};
  EXPECT_EQ(Buffer<double>::from_host(backend, host).to_host(), host);
  EXPECT_FALSE(registry.auto_choice_reason().empty());
}

TEST(DeviceRegistry, BackendsAreCreatedOncePerDevice) {
  DeviceRegistry& registry = DeviceRegistry::instance();
  EXPECT_EQ(&registry.backend(Device::cpu()), &registry.backend(Device::cpu()));
  EXPECT_EQ(registry.resolve(Device::cpu()), Device::cpu());
}

TEST(DeviceRegistry, UnusableCudaDeviceIsADeviceErrorWithTheReason) {
  DeviceRegistry& registry = DeviceRegistry::instance();
  if (!has_cuda_device(registry)) {
    EXPECT_FALSE(registry.cuda_unavailable_reason().empty());
    EXPECT_NE(registry.auto_choice_reason().find("CPU"), std::string::npos);
    try {
      registry.resolve(Device::cuda(0));
      ADD_FAILURE() << "cuda:0 resolved on a machine without a usable CUDA device";
    } catch (const DeviceError& e) {
      EXPECT_NE(std::string(e.what()).find(registry.cuda_unavailable_reason()), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
    }
    EXPECT_THROW(registry.backend(Device::cuda(0)), DeviceError);
  }
  // An ordinal past the last device is refused on every machine.
  const int past_end = static_cast<int>(registry.devices().size());
  EXPECT_THROW(registry.resolve(Device::cuda(past_end)), DeviceError);
}

TEST(DeviceRegistry, CudaBuiltMatchesTheBuild) {
#ifdef TABULA_WITH_CUDA
  EXPECT_TRUE(DeviceRegistry::instance().cuda_built());
#else
  EXPECT_FALSE(DeviceRegistry::instance().cuda_built());
  EXPECT_NE(DeviceRegistry::instance().cuda_unavailable_reason().find("without CUDA"),
            std::string::npos);
#endif
}

}  // namespace
}  // namespace tabula

// libFuzzer target for cutting CSV bytes into ranks' shares (distributed training): any input
// must keep the properties of tests/security/csv_share_check.hpp for 1 to 8 ranks, never crash,
// hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "security/csv_share_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const std::string broken = tabula::testing::csv_share_violation(text); !broken.empty()) {
    std::fprintf(stderr, "csv share property broken: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}

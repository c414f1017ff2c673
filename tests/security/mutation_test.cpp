// The bounded fuzz run of CI: every model kind and pipeline of the zoo, mutated many times
// with a fixed seed (structured header and data changes and raw bytes, the checksum always
// recomputed), must load and predict or be refused with an InputError. It runs in every build,
// the ASan + UBSan one included, so CI needs no libFuzzer build. TABULA_MUTATIONS sets the
// mutants per file (default 60).
#include <gtest/gtest.h>

#include <cstdlib>

#include "security/security_test_support.hpp"

namespace tabula::testing {
namespace {

int mutations_per_file() {
  const char* env = std::getenv("TABULA_MUTATIONS");
  return env ? std::atoi(env) : 60;
}

TEST(ModelFileSecurity, MutantsOfEveryKindLoadOrAreRefused) {
  const std::string path = unique_temp_path("mutant.tabula").string();
  int loaded = 0, refused = 0;
  for (const ZooModel& m : shared_zoo()) {
    const std::string original = read_bytes(m.path);
    std::mt19937_64 rng(detail::fnv1a64(m.name.data(), m.name.size()));  // fixed per model
    for (int i = 0; i < mutations_per_file(); ++i) {
      const std::string mutant = mutate_artifact(original, rng);
      write_bytes(path, mutant);
      try {
        load_and_use(path);
        ++loaded;
      } catch (const InputError&) {
        ++refused;
      } catch (const std::exception& e) {
        ADD_FAILURE() << m.name << " mutant " << i << ": not an InputError: " << e.what();
        write_bytes(path + ".failed", mutant);
      }
    }
  }
  // Both outcomes occur: the mutations reach past the first check, and the checks bite.
  EXPECT_GT(loaded, 0);
  EXPECT_GT(refused, 0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tabula::testing

// libFuzzer target for model files. The checksum only catches accidents, so every input gets a
// valid one before loading (tests/security/artifact_mutator.hpp): the fuzzer explores what a
// hostile writer of the model repository can send. A custom mutator mixes structured header
// and data changes with libFuzzer's byte mutations. Every input must load and then predict,
// transform and describe without a fault, or fail with an InputError.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>

#include "security/artifact_mutator.hpp"
#include "security/model_zoo.hpp"
#include "tabula/core/error.hpp"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

const std::string& scratch_path() {
  static const std::string path = "/tmp/tabula-artifact-fuzz-" + std::to_string(::getpid());
  return path;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::mt19937_64 rng(seed);
  if (rng() % 2) {
    size = LLVMFuzzerMutate(data, size, max_size);
    std::string file(reinterpret_cast<const char*>(data), size);
    tabula::testing::fix_checksum(file);
    std::memcpy(data, file.data(), size);
    return size;
  }
  const std::string mutant =
      tabula::testing::mutate_artifact(std::string(reinterpret_cast<const char*>(data), size), rng);
  if (mutant.size() > max_size) return size;
  std::memcpy(data, mutant.data(), mutant.size());
  return mutant.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file(reinterpret_cast<const char*>(data), size);
  tabula::testing::fix_checksum(file);
  {
    std::ofstream out(scratch_path(), std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
  }
  try {
    tabula::testing::load_and_use(scratch_path());
  } catch (const tabula::InputError&) {
    // refused with a message: the expected outcome for a bad file
  }
  return 0;
}

// libFuzzer target for TOML spec files (pipeline and experiment specs): the TOML reader, then
// the pipeline spec built from it. Every input must give a spec or an InputError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tabula/core/error.hpp"
#include "tabula/io/toml.hpp"
#include "tabula/pipeline/pipeline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const nlohmann::json doc = tabula::io::parse_toml(text, "spec.toml");
    (void)doc.dump();
    const nlohmann::json& spec =
        doc.is_object() && doc.contains("pipeline") ? doc["pipeline"] : doc;
    (void)tabula::PipelineSpec::from_json(spec, "spec.toml").to_json();
  } catch (const tabula::InputError&) {
  }
  return 0;
}

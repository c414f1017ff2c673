// What the security tests share: the model zoo written once per test process, file editing
// with a recomputed checksum, and the expectation that a file is refused naming a field.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "security/artifact_mutator.hpp"
#include "security/model_zoo.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"

namespace tabula::testing {

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The zoo, fitted once per test process (every test of a suite reads it, none writes it).
inline const std::vector<ZooModel>& shared_zoo() {
  static const std::vector<ZooModel> zoo = [] {
    const auto dir =
        std::filesystem::temp_directory_path() / ("tabula-zoo-" + std::to_string(::getpid()));
    return write_model_zoo(dir);
  }();
  return zoo;
}

inline const ZooModel& zoo_model(const std::string& name) {
  for (const ZooModel& m : shared_zoo())
    if (m.name == name) return m;
  throw std::logic_error("no zoo model " + name);
}

/// A copy of `source` with its header and data edited by `edit` and the checksum recomputed,
/// written to a temporary path (returned).
inline std::string edited_copy(const std::string& source, const std::string& name,
                               const std::function<void(ArtifactParts&)>& edit) {
  auto parts = split_artifact(read_bytes(source));
  EXPECT_TRUE(parts.has_value());
  edit(*parts);
  const std::string path = unique_temp_path(name + ".tabula").string();
  write_bytes(path, join_artifact(*parts));
  return path;
}

/// Loading and using `path` must fail with an InputError whose message contains every needle.
/// Sets a classifier's text class labels as an attacker would: `classes` and their spellings
/// `class_labels` edited together, so that only the semantic checks can catch the edit.
inline void set_text_classes(ArtifactParts& parts, const nlohmann::json& classes) {
  parts.header["classes"] = classes;
  parts.header["class_labels"] = classes;
}

inline void expect_refused(const std::string& path, std::initializer_list<std::string> needles) {
  try {
    load_and_use(path);
    ADD_FAILURE() << path << " was accepted";
  } catch (const InputError& e) {
    for (const std::string& needle : needles)
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace tabula::testing

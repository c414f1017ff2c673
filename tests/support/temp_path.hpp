// Paths for files a test writes. ctest runs every test as its own process, several at once
// (and CI may run beside a developer's build), so each path carries the process id and the
// test's name.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tabula::testing {

/// A path under the test temp folder, unique to this process and test: <tmp>/tabula-<pid>-
/// <suite>.<test>-<name>. Nothing is created.
inline std::filesystem::path unique_temp_path(const std::string& name) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "none";
  for (char& c : test)
    if (c == '/') c = '_';  // parameterised test names contain slashes
  return std::filesystem::path(::testing::TempDir()) /
         ("tabula-" + std::to_string(::getpid()) + "-" + test + "-" + name);
}

/// A fresh, empty folder at unique_temp_path(name), removed with everything in it when the
/// object goes (RAII, so a failing assertion cleans up too).
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& name = "dir") : path_(unique_temp_path(name)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScopedTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// A file at unique_temp_path(name) holding `bytes`, removed when the object goes.
struct TempFile {
  std::filesystem::path path;
  TempFile(const std::string& name, const std::string& bytes) : path(unique_temp_path(name)) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

}  // namespace tabula::testing

// Outputs written together (tune's leaderboard, report and model) appear together or not at
// all: a write that fails part-way (a full disk, simulated with RLIMIT_FSIZE) leaves the
// previous files whole and no temporary behind.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "io/atomic_file.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"

namespace tabula::detail {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

/// Files larger than `bytes` cannot be written while it lives (write() fails with EFBIG).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = nullptr;
};

TEST(PendingFiles, AllAppearAtCommit) {
  const testing::ScopedTempDir scoped("out");  // fresh: pids repeat across runs
  const fs::path& dir = scoped.path();
  {
    PendingFiles files;
    files.add((dir / "a").string(), "one");
    const std::string temporary = files.reserve((dir / "b").string());
    std::ofstream(temporary) << "two";
    EXPECT_FALSE(fs::exists(dir / "a"));
    EXPECT_FALSE(fs::exists(dir / "b"));
    files.commit();
  }
  EXPECT_EQ(slurp(dir / "a"), "one");
  EXPECT_EQ(slurp(dir / "b"), "two");
  EXPECT_EQ(entries(dir), 2u);
}

TEST(PendingFiles, AFailedWriteLeavesThePreviousFilesWhole) {
  const testing::ScopedTempDir scoped("out");  // fresh: pids repeat across runs
  const fs::path& dir = scoped.path();
  std::ofstream(dir / "small") << "old small";
  std::ofstream(dir / "large") << "old large";
  try {
    PendingFiles files;
    FileSizeLimit limit(4096);
    files.add((dir / "small").string(), "new small");
    files.add((dir / "large").string(), std::string(1 << 16, 'x'));
    files.commit();
    ADD_FAILURE() << "a write beyond the file size limit succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(dir / "small"), "old small");
  EXPECT_EQ(slurp(dir / "large"), "old large");
  EXPECT_EQ(entries(dir), 2u) << "a temporary file was left behind";
}

TEST(PendingFiles, UncommittedTemporariesAreRemoved) {
  const testing::ScopedTempDir scoped("out");  // fresh: pids repeat across runs
  const fs::path& dir = scoped.path();
  {
    PendingFiles files;
    files.add((dir / "a").string(), "one");
    std::ofstream(files.reserve((dir / "b").string())) << "two";
  }
  EXPECT_EQ(entries(dir), 0u);
}

TEST(PendingFiles, SpecialFilesAreWrittenIntoNotReplaced) {
  // `--out /dev/null` or a FIFO: a rename would put a plain file where the device or pipe was
  // (as root, /dev/null itself); the bytes go into it, and no temporary stays behind.
  const testing::ScopedTempDir scoped("special");  // fresh: pids repeat across runs
  const fs::path& dir = scoped.path();
  const fs::path pipe = dir / "pipe";
  ASSERT_EQ(::mkfifo(pipe.c_str(), 0600), 0);
  for (const bool pending : {false, true}) {
    std::string got;
    std::thread reader([&] { got = slurp(pipe); });
    if (pending) {
      PendingFiles files;
      files.add(pipe.string(), "through PendingFiles");
      files.commit();
    } else {
      write_file_atomically(pipe.string(), "through write_file_atomically");
    }
    reader.join();
    EXPECT_EQ(got, pending ? "through PendingFiles" : "through write_file_atomically");
    EXPECT_TRUE(fs::is_fifo(pipe));
    EXPECT_EQ(entries(dir), 1u) << "a temporary file was left behind";
  }
  write_file_atomically("/dev/null", "discarded");
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

}  // namespace
}  // namespace tabula::detail

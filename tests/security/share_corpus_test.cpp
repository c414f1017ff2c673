// The share fuzzer's corpus (tests/fuzz/corpus/share/): every file, the seeds and any input that
// once failed, replayed through the same property check in every build, sanitizers included.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "security/csv_share_check.hpp"

namespace tabula::testing {
namespace {

namespace fs = std::filesystem;

TEST(ShareCorpus, EverySeedKeepsTheShareProperties) {
  const fs::path folder = fs::path(TABULA_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "share";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    EXPECT_EQ(csv_share_violation(bytes.str()), "") << entry.path();
    ++files;
  }
  EXPECT_GE(files, 9);
}

TEST(ShareCorpus, TheCheckCatchesSharesThatLoseOrReorderRows) {
  // The check must fail on a broken cut: a text whose ranks would see other rows than the
  // file's is simulated by comparing against a different file's rows.
  const std::string text = "a,b\n1,2\n3,4\n5,6\n";
  ASSERT_EQ(csv_share_violation(text), "");
  const Dataset whole = io::parse_csv(text, "t.csv");
  const Dataset reordered = io::parse_csv("a,b\n3,4\n1,2\n5,6\n", "t.csv");
  EXPECT_NE(row_cells(whole), row_cells(reordered));
  std::vector<std::string> joined;
  for (int r = 0; r < 3; ++r)
    for (std::string& cell : row_cells(distributed::parse_csv_share(text, "t.csv", {}, r, 3)))
      joined.push_back(std::move(cell));
  EXPECT_EQ(joined, row_cells(whole));
}

}  // namespace
}  // namespace tabula::testing

// Two paths name one file when they reach the same inode (links, other spellings) or, for files
// that do not exist yet, the same canonical path.
#include "io/path_identity.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"

namespace tabula::io {
namespace {

namespace fs = std::filesystem;

TEST(PathIdentity, LinksAndSpellingsOfOneFileAreTheSameFile) {
  const fs::path dir = testing::unique_temp_path("d");
  fs::create_directories(dir / "sub");
  const fs::path file = dir / "a.csv";
  std::ofstream(file) << "x\n1\n";
  fs::create_symlink(file, dir / "soft.csv");
  fs::create_hard_link(file, dir / "hard.csv");
  fs::create_directory_symlink(dir / "sub", dir / "sublink");
  EXPECT_TRUE(same_file(file.string(), (dir / "soft.csv").string()));
  EXPECT_TRUE(same_file(file.string(), (dir / "hard.csv").string()));
  EXPECT_TRUE(same_file(file.string(), (dir / "sub" / ".." / "a.csv").string()));
  EXPECT_FALSE(same_file(file.string(), (dir / "b.csv").string()));
  // Not yet existing: compared by canonical path, through symlinked folders.
  EXPECT_TRUE(same_file((dir / "sub" / "new.csv").string(), (dir / "sublink/new.csv").string()));
  EXPECT_FALSE(same_file((dir / "sub" / "new.csv").string(), (dir / "sub/other.csv").string()));
  // A dangling symlink names the file the write would create.
  fs::create_symlink(dir / "target.csv", dir / "dangling.csv");
  EXPECT_TRUE(same_file((dir / "dangling.csv").string(), (dir / "target.csv").string()));
}

TEST(PathIdentity, CheckNamesBothOptions) {
  const fs::path dir = testing::unique_temp_path("d");
  fs::create_directories(dir);
  const std::string in = (dir / "in.csv").string();
  std::ofstream(in) << "x\n1\n";
  try {
    check_outputs_distinct({{"--data", in}}, {{"--out", (dir / "o.csv").string()},
                                              {"--rejects", (dir / "." / "o.csv").string()}});
    ADD_FAILURE() << "two outputs to one file were accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--rejects '"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("is the same file as --out"), std::string::npos);
  }
  EXPECT_THROW(check_outputs_distinct({{"--data", in}}, {{"--out", in}}), InputError);
  EXPECT_NO_THROW(check_outputs_distinct({{"--data", in}, {"--pipeline", ""}},
                                         {{"--out", (dir / "o.csv").string()}, {"--rejects", ""}}));
}

}  // namespace
}  // namespace tabula::io

// The journal believes only lines it can check: the checksum of the line, a candidate of this
// search with its exact parameters, metrics x folds scores, each finite and in its metric's
// range. Anything else is dropped (with a warning) and the trial runs again.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "selection/folder_lock.hpp"
#include "selection/journal.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"

namespace tabula::selection {
namespace {

namespace fs = std::filesystem;

JournalCheck make_check() {
  JournalCheck c;
  c.fingerprint = "fp";
  c.candidates = {{{"alpha", "0.1"}}, {{"alpha", "1"}}, {{"alpha", "10"}}};
  c.folds = 3;
  c.metrics = {"r2", "neg_mean_squared_error"};
  return c;
}

TrialResult make_trial(std::int64_t index, const std::string& alpha) {
  TrialResult t;
  t.trial = index;
  t.params = {{"alpha", alpha}};
  t.scores = {{0.5, 0.6, 0.7}, {-1.0, -2.0, -3.0}};
  t.fit_seconds = 0.01;
  t.score_seconds = 0.001;
  t.path = "plain";
  return t;
}

TEST(JournalCheck, AcceptsATrialOfThisSearch) {
  EXPECT_EQ(journal_line_problem(make_trial(1, "1"), make_check()), "");
}

TEST(JournalCheck, RejectsWhatTheSearchCannotHaveWritten) {
  const JournalCheck check = make_check();
  auto problem = [&](auto edit) {
    TrialResult t = make_trial(1, "1");
    edit(t);
    return journal_line_problem(t, check);
  };
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(problem([](TrialResult& t) { t.trial = 3; }), "");
  EXPECT_NE(problem([](TrialResult& t) { t.trial = -1; }), "");
  EXPECT_NE(problem([](TrialResult& t) { t.params["alpha"] = "10"; }), "");
  EXPECT_NE(problem([](TrialResult& t) { t.params["extra"] = "1"; }), "");
  EXPECT_NE(problem([](TrialResult& t) { t.scores.pop_back(); }), "");
  EXPECT_NE(problem([](TrialResult& t) { t.scores[0].push_back(0.1); }), "");
  EXPECT_NE(problem([](TrialResult& t) { t.scores[0][1] = 1.5; }), "");  // r2 <= 1
  EXPECT_NE(problem([&](TrialResult& t) { t.scores[0][1] = -inf; }), "");
  EXPECT_NE(problem([&](TrialResult& t) { t.scores[0][1] = nan; }), "");
  EXPECT_NE(problem([](TrialResult& t) { t.scores[1][0] = 0.5; }), "");  // a loss, negated
  EXPECT_NE(problem([](TrialResult& t) { t.fit_seconds = -1; }), "");
  JournalCheck accuracy = check;
  accuracy.metrics = {"accuracy", "roc_auc"};
  TrialResult t = make_trial(1, "1");
  t.scores = {{0.9, 1.0, 0.0}, {0.5, 0.5, 0.5}};
  EXPECT_EQ(journal_line_problem(t, accuracy), "");
  t.scores[1][2] = 1.01;
  EXPECT_NE(journal_line_problem(t, accuracy), "");
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Journal, DropsEditedAndForgedLinesAndKeepsTheRest) {
  const fs::path path = testing::unique_temp_path("journal.jsonl");
  {
    Journal journal(path.string(), make_check());
    journal.append(make_trial(0, "0.1"));
    journal.append(make_trial(1, "1"));
    journal.append(make_trial(2, "10"));
  }
  std::vector<std::string> lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  // Line 2: a score edited in place, checksum left as it was.
  const std::size_t at = lines[1].find("0.6");
  ASSERT_NE(at, std::string::npos);
  lines[1].replace(at, 3, "0.9");
  // Line 3: the checksum removed.
  nlohmann::json j = nlohmann::json::parse(lines[2]);
  j.erase("checksum");
  lines[2] = j.dump();
  {
    std::ofstream out(path, std::ios::trunc);
    for (const std::string& l : lines) out << l << "\n";
  }
  Journal journal(path.string(), make_check());
  ASSERT_EQ(journal.finished().size(), 1u);
  EXPECT_EQ(journal.finished().begin()->second.trial, 0);
  ASSERT_EQ(journal.rejected().size(), 2u);
  EXPECT_NE(journal.rejected()[0].find("journal.jsonl:2: the checksum does not match"),
            std::string::npos)
      << journal.rejected()[0];
  EXPECT_NE(journal.rejected()[1].find("journal.jsonl:3: no checksum"), std::string::npos);
  // The rewritten journal holds only the believed line.
  EXPECT_EQ(read_lines(path).size(), 1u);
}

TEST(Journal, ALineWithAValidChecksumIsStillCheckedAgainstTheSearch) {
  const fs::path path = testing::unique_temp_path("journal.jsonl");
  {
    JournalCheck wider = make_check();
    wider.candidates[1] = {{"alpha", "5"}};  // another search claiming the same fingerprint
    Journal journal(path.string(), wider);
    journal.append(make_trial(1, "5"));
    TrialResult perfect = make_trial(2, "10");
    perfect.scores[0] = {2.0, 2.0, 2.0};
    journal.append(perfect);
  }
  Journal journal(path.string(), make_check());
  EXPECT_TRUE(journal.finished().empty());
  ASSERT_EQ(journal.rejected().size(), 2u);
  EXPECT_NE(journal.rejected()[0].find("not those of candidate 1"), std::string::npos);
  EXPECT_NE(journal.rejected()[1].find("r2 score of 2"), std::string::npos);
}

TEST(FolderLock, SecondLockOnAFolderFailsAtOnceNamingIt) {
  const fs::path dir = testing::unique_temp_path("out");
  fs::create_directories(dir);
  {
    FolderLock first(dir.string());
    try {
      FolderLock second(dir.string());
      ADD_FAILURE() << "a second lock was granted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + dir.string() + "' is in use"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_NO_THROW(FolderLock again(dir.string()));  // released with the first
}

}  // namespace
}  // namespace tabula::selection

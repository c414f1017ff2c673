// The search journal: one JSON line per finished trial, flushed and fsync'ed, so a search killed
// at any moment resumes with every trial it had finished.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tabula/selection/tuning.hpp"

namespace tabula::selection {

/// What a journal line must agree with to be believed: the journal is a file anyone with write
/// access to the output folder can edit, so a line is a claim to check, not a result.
struct JournalCheck {
  std::string fingerprint;           // of the data, the search and the scheme (see tuning.cpp)
  std::vector<ParamMap> candidates;  // the searched parameters of each candidate, by trial index
  std::size_t folds = 0;             // scores per metric
  std::vector<std::string> metrics;  // scorer names, in TrialResult::scores order
};

/// Why `trial` (read back from a line) cannot be believed under `check`; empty when it can:
/// an unknown trial index, parameters other than that candidate's, a score count other than
/// metrics x folds, a score that is not finite or lies outside its metric's range.
std::string journal_line_problem(const TrialResult& trial, const JournalCheck& check);

class Journal {
 public:
  /// Opens DIR/journal.jsonl for `check.fingerprint`. Lines of another fingerprint (another
  /// search) and a torn last line (killed mid-write) are dropped; so is, with one warning naming
  /// its line, a line whose checksum does not match its content (edited or corrupted) or whose
  /// trial fails journal_line_problem (that trial runs again). The file is rewritten atomically
  /// with the lines kept, which are then available through finished().
  Journal(const std::string& path, JournalCheck check);
  /// A rank's copy of the journal another rank keeps (a search spread over MPI ranks): the
  /// trials it read back, and no file: append() does nothing.
  explicit Journal(std::map<std::pair<int, std::int64_t>, TrialResult> finished);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Trials read back, by (round, trial).
  const std::map<std::pair<int, std::int64_t>, TrialResult>& finished() const { return finished_; }
  /// True when lines of another search were dropped.
  bool discarded_other() const { return discarded_other_; }
  /// Lines dropped as not believable, each "journal.jsonl:LINE: reason".
  const std::vector<std::string>& rejected() const { return rejected_; }

  /// Appends one trial (one line with its checksum, then fsync). Thread-safe. Error naming the
  /// journal when the write or the flush fails (a full disk).
  void append(const TrialResult& trial);

 private:
  /// The line's trial, or the reason it is not believed ("" with no trial: another search).
  std::optional<TrialResult> read_line(const std::string& line, std::string& problem);

  std::string path_;
  JournalCheck check_;
  int fd_ = -1;
  std::mutex mutex_;
  std::map<std::pair<int, std::int64_t>, TrialResult> finished_;
  bool discarded_other_ = false;
  std::vector<std::string> rejected_;
};

/// JSON forms of a trial (NaN as null), shared by the journal and leaderboard.json.
nlohmann::json trial_to_json(const TrialResult& trial);
TrialResult trial_from_json(const nlohmann::json& j);

}  // namespace tabula::selection

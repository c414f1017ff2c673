// The search journal: one JSON line per finished trial, flushed and fsync'ed, so a search killed
// at any moment resumes with every trial it had finished.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "tabula/tuning.hpp"

namespace tabula::selection {

class Journal {
 public:
  /// Opens DIR/journal.jsonl for `fingerprint`. Lines of another fingerprint (another search)
  /// and a torn last line (killed mid-write) are dropped: the file is rewritten atomically with
  /// the lines kept, which are then available through finished().
  Journal(const std::string& path, const std::string& fingerprint);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Trials read back, by (round, trial).
  const std::map<std::pair<int, std::int64_t>, TrialResult>& finished() const { return finished_; }
  /// True when lines of another search were dropped.
  bool discarded_other() const { return discarded_other_; }

  /// Appends one trial (one line, then fsync). Thread-safe.
  void append(const TrialResult& trial);

 private:
  std::string fingerprint_;
  int fd_ = -1;
  std::mutex mutex_;
  std::map<std::pair<int, std::int64_t>, TrialResult> finished_;
  bool discarded_other_ = false;
};

/// JSON forms of a trial (NaN as null), shared by the journal and leaderboard.json.
nlohmann::json trial_to_json(const TrialResult& trial);
TrialResult trial_from_json(const nlohmann::json& j);

}  // namespace tabula::selection

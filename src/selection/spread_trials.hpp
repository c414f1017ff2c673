// A search spread over MPI ranks: every rank runs its share of a batch's trials, then the ranks
// exchange their results, so each continues with the whole batch and rank 0 journals it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "selection/journal.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula {

class Communicator;

namespace selection {

/// The search's journal on this rank: rank 0 (or a single process, comm null) opens the file;
/// the other ranks get a copy of the trials it read back (Journal's follower form), so every
/// rank resumes the same trials.
std::unique_ptr<Journal> open_journal_on_ranks(Communicator* comm, const std::string& path,
                                               const JournalCheck& check);

/// This rank's share of `pending` (every size()-th trial from its rank on); all of it for one
/// process.
std::vector<std::int64_t> share_of_trials(Communicator* comm,
                                          const std::vector<std::int64_t>& pending);

/// Every rank's `mine`, in rank order; on rank 0 the other ranks' trials are appended to
/// `journal` (a rank's own trials were journalled as they finished). For one process: `mine`.
std::vector<TrialResult> gather_trials(Communicator* comm, const std::vector<TrialResult>& mine,
                                       Journal& journal);

}  // namespace selection
}  // namespace tabula

#include "selection/spread_trials.hpp"

#include <nlohmann/json.hpp>

#include "tabula/distributed/communicator.hpp"

namespace tabula::selection {
namespace {

bool spread(const Communicator* comm) { return comm != nullptr && comm->size() > 1; }

std::string trials_text(const std::vector<TrialResult>& trials) {
  nlohmann::json all = nlohmann::json::array();
  for (const TrialResult& t : trials) all.push_back(trial_to_json(t));
  return all.dump();
}

std::vector<TrialResult> trials_of(const std::string& text) {
  std::vector<TrialResult> out;
  for (const nlohmann::json& j : nlohmann::json::parse(text)) out.push_back(trial_from_json(j));
  return out;
}

}  // namespace

std::unique_ptr<Journal> open_journal_on_ranks(Communicator* comm, const std::string& path,
                                               const JournalCheck& check) {
  if (!spread(comm)) return std::make_unique<Journal>(path, check);
  std::unique_ptr<Journal> journal;
  std::string read_back;
  if (comm->is_root()) {
    journal = std::make_unique<Journal>(path, check);
    std::vector<TrialResult> finished;
    for (const auto& [key, trial] : journal->finished()) finished.push_back(trial);
    read_back = trials_text(finished);
  }
  comm->broadcast(read_back, 0);
  if (comm->is_root()) return journal;
  std::map<std::pair<int, std::int64_t>, TrialResult> finished;
  for (TrialResult& t : trials_of(read_back)) finished[{t.round, t.trial}] = std::move(t);
  return std::make_unique<Journal>(std::move(finished));
}

std::vector<std::int64_t> share_of_trials(Communicator* comm,
                                          const std::vector<std::int64_t>& pending) {
  if (!spread(comm)) return pending;
  std::vector<std::int64_t> mine;
  for (std::size_t i = static_cast<std::size_t>(comm->rank()); i < pending.size();
       i += static_cast<std::size_t>(comm->size()))
    mine.push_back(pending[i]);
  return mine;
}

std::vector<TrialResult> gather_trials(Communicator* comm, const std::vector<TrialResult>& mine,
                                       Journal& journal) {
  if (!spread(comm)) return mine;
  const std::vector<std::string> parts = comm->all_gather(trials_text(mine));
  std::vector<TrialResult> all;
  for (std::size_t r = 0; r < parts.size(); ++r)
    for (TrialResult& t : trials_of(parts[r])) {
      if (static_cast<int>(r) != comm->rank()) journal.append(t);
      all.push_back(std::move(t));
    }
  return all;
}

}  // namespace tabula::selection

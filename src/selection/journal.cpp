#include "selection/journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "artifact/fnv1a.hpp"
#include "io/atomic_file.hpp"
#include "tabula/core/error.hpp"

namespace tabula::selection {
namespace {

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

double number_from(const nlohmann::json& j) {
  return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

/// The checksum of a line's object without its "checksum" member. nlohmann's objects keep their
/// keys sorted and print numbers in their shortest round-trip form, so the dump of a parsed line
/// is the text that was hashed when it was written.
std::string line_checksum(const nlohmann::json& object) {
  const std::string text = object.dump();
  return fmt::format("fnv1a64:{:016x}", detail::fnv1a64(text.data(), text.size()));
}

/// The values a scorer can take (scikit-learn's conventions: losses are negated).
std::pair<double, double> score_range(const std::string& metric) {
  const double lowest = std::numeric_limits<double>::lowest();
  const double highest = std::numeric_limits<double>::max();
  if (metric.starts_with("neg_")) return {lowest, 0.0};
  if (metric == "r2" || metric == "explained_variance") return {lowest, 1.0};
  if (metric.starts_with("accuracy") || metric.starts_with("balanced_accuracy") ||
      metric.starts_with("f1") || metric.starts_with("precision") || metric.starts_with("recall") ||
      metric.starts_with("roc_auc"))
    return {0.0, 1.0};
  return {lowest, highest};  // any finite value
}

}  // namespace

nlohmann::json trial_to_json(const TrialResult& trial) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : trial.params) params[k] = v;
  nlohmann::json scores = nlohmann::json::array();
  for (const auto& metric : trial.scores) {
    nlohmann::json row = nlohmann::json::array();
    for (double v : metric) row.push_back(number_or_null(v));
    scores.push_back(row);
  }
  return {{"round", trial.round},
          {"trial", trial.trial},
          {"resource", trial.resource},
          {"params", params},
          {"scores", scores},
          {"fit_seconds", trial.fit_seconds},
          {"score_seconds", trial.score_seconds},
          {"path", trial.path}};
}

TrialResult trial_from_json(const nlohmann::json& j) {
  TrialResult t;
  t.round = j.at("round").get<int>();
  t.trial = j.at("trial").get<std::int64_t>();
  t.resource = j.at("resource").get<std::int64_t>();
  for (const auto& [k, v] : j.at("params").items()) t.params[k] = v.get<std::string>();
  for (const auto& metric : j.at("scores")) {
    std::vector<double> row;
    for (const auto& v : metric) row.push_back(number_from(v));
    t.scores.push_back(std::move(row));
  }
  t.fit_seconds = j.at("fit_seconds").get<double>();
  t.score_seconds = j.at("score_seconds").get<double>();
  t.path = j.at("path").get<std::string>();
  return t;
}

std::string journal_line_problem(const TrialResult& trial, const JournalCheck& check) {
  if (trial.round < 0 || trial.trial < 0 ||
      trial.trial >= static_cast<std::int64_t>(check.candidates.size()))
    return fmt::format("trial {} of round {} is not a candidate of this search ({} candidates)",
                       trial.trial, trial.round, check.candidates.size());
  if (trial.params != check.candidates[static_cast<std::size_t>(trial.trial)])
    return fmt::format("the parameters of trial {} are not those of candidate {}", trial.trial,
                       trial.trial);
  if (trial.scores.size() != check.metrics.size())
    return fmt::format("{} metric(s) scored, the search has {}", trial.scores.size(),
                       check.metrics.size());
  for (std::size_t m = 0; m < trial.scores.size(); ++m) {
    const std::vector<double>& row = trial.scores[m];
    if (row.size() != check.folds)
      return fmt::format("{} fold score(s) of {}, the search has {} folds", row.size(),
                         check.metrics[m], check.folds);
    const auto [low, high] = score_range(check.metrics[m]);
    for (double v : row)
      if (!(v >= low && v <= high))  // false for NaN too
        return fmt::format("a {} score of {} is not a finite number in [{}, {}]", check.metrics[m],
                           v, low, high);
  }
  if (!(trial.fit_seconds >= 0 && trial.score_seconds >= 0)) return "negative or missing timings";
  return "";
}

Journal::Journal(const std::string& path, JournalCheck check)
    : path_(path), check_(std::move(check)) {
  std::string kept;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    std::size_t start = 0;
    std::int64_t line_number = 0;
    while (start < text.size()) {
      const std::size_t end = text.find('\n', start);
      if (end == std::string::npos) break;  // torn last line: the trial did not finish
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      ++line_number;
      std::string problem;
      std::optional<TrialResult> t = read_line(line, problem);
      if (t) {
        finished_[{t->round, t->trial}] = std::move(*t);
        kept += line + "\n";
      } else if (!problem.empty()) {
        rejected_.push_back(fmt::format("{}:{}: {}", path, line_number, problem));
        spdlog::warn("{}; not believed, the trial runs again", rejected_.back());
      }
    }
  }
  detail::write_file_atomically(path, kept);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw InputError("cannot open the journal " + path + ": " + std::strerror(errno));
}

std::optional<TrialResult> Journal::read_line(const std::string& line, std::string& problem) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  const auto fingerprint = j.find("fingerprint");
  if (fingerprint == j.end() || !fingerprint->is_string() || *fingerprint != check_.fingerprint) {
    discarded_other_ = true;  // another search's trial: dropped without a warning
    return std::nullopt;
  }
  const auto sum = j.find("checksum");
  if (sum == j.end() || !sum->is_string()) {
    problem = "no checksum (edited, or written by an older tabula)";
    return std::nullopt;
  }
  const std::string claimed = sum->get<std::string>();
  j.erase("checksum");
  if (claimed != line_checksum(j)) {
    problem = "the checksum does not match the line (edited or corrupted)";
    return std::nullopt;
  }
  try {
    TrialResult t = trial_from_json(j);
    problem = journal_line_problem(t, check_);
    if (!problem.empty()) return std::nullopt;
    t.resumed = true;
    return t;
  } catch (const std::exception& e) {
    problem = std::string("unreadable trial: ") + e.what();
    return std::nullopt;
  }
}

Journal::Journal(std::map<std::pair<int, std::int64_t>, TrialResult> finished)
    : finished_(std::move(finished)) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const TrialResult& trial) {
  if (fd_ < 0) return;  // another rank keeps the file
  nlohmann::json j = trial_to_json(trial);
  j["fingerprint"] = check_.fingerprint;
  j["checksum"] = line_checksum(j);
  const std::string line = j.dump() + "\n";
  std::lock_guard lock(mutex_);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot write the journal " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd_) != 0)
    throw Error("cannot flush the journal " + path_ + ": " + std::strerror(errno));
}

}  // namespace tabula::selection

#include "selection/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "artifact/atomic_file.hpp"
#include "tabula/error.hpp"

namespace tabula::selection {
namespace {

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

double number_from(const nlohmann::json& j) {
  return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN();
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

Journal::Journal(const std::string& path, const std::string& fingerprint)
    : fingerprint_(fingerprint) {
  std::string kept;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = text.find('\n', start);
      if (end == std::string::npos) break;  // torn last line: the trial did not finish
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      if (j.value("fingerprint", "") != fingerprint_) {
        discarded_other_ = true;
        continue;
      }
      try {
        TrialResult t = trial_from_json(j);
        t.resumed = true;
        finished_[{t.round, t.trial}] = std::move(t);
        kept += line + "\n";
      } catch (const std::exception&) {
        continue;  // a line this version cannot read: the trial runs again
      }
    }
  }
  detail::write_file_atomically(path, kept);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw InputError("cannot open the journal " + path + ": " + std::strerror(errno));
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const TrialResult& trial) {
  nlohmann::json j = trial_to_json(trial);
  j["fingerprint"] = fingerprint_;
  const std::string line = j.dump() + "\n";
  std::lock_guard lock(mutex_);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("writing the journal: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd_);
}

}  // namespace tabula::selection

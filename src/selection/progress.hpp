// The search's progress bar on stderr: trials done, best so far, ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace tabula::selection {

class Progress {
 public:
  /// Draws nothing unless `enabled` (a terminal on stderr and no --no-progress).
  Progress(bool enabled, std::int64_t total) : enabled_(enabled), total_(total) {}
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Redraws the bar. Thread-safe.
  void update(std::int64_t done, double best);

 private:
  bool enabled_;
  std::int64_t total_;
  bool drawn_ = false;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace tabula::selection

// Seconds since a point in time, for the fit and score timings a search reports.
#pragma once

#include <chrono>

namespace tabula::selection {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace tabula::selection

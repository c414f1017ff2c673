// The time stamp written into artifacts and search results.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace tabula {

/// Now, in UTC, as ISO 8601 to the second ("2026-11-30T04:20:00Z").
inline std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace tabula

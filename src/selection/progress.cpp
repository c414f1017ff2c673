#include "selection/progress.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace tabula::selection {

Progress::~Progress() {
  if (enabled_ && drawn_) std::fputs("\n", stderr);
}

void Progress::update(std::int64_t done, double best) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int width = 30;
  const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : 0.0;
  std::fprintf(stderr, "\r[%s%s] %lld/%lld trials  best %s  ETA %02d:%02d ",
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
               static_cast<long long>(done), static_cast<long long>(total_),
               std::isfinite(best) ? fmt::format("{:.5g}", best).c_str() : "-",
               static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace tabula::selection

#include "core/check.hpp"

#include <array>
#include <string_view>

namespace tabula {

std::string source_location_text(const char* file, int line) {
  std::string_view path(file != nullptr ? file : "?");
  // The last top-level folder of this tree in the path wins: a checkout may itself sit under a
  // folder named src.
  constexpr std::array<std::string_view, 5> kTops = {"src/", "kernels/", "include/", "tests/",
                                                     "benchmarks/"};
  std::size_t cut = std::string_view::npos;
  for (std::string_view top : kTops) {
    const std::size_t found = path.rfind(std::string("/").append(top));
    if (found != std::string_view::npos && (cut == std::string_view::npos || found > cut))
      cut = found;
  }
  if (cut != std::string_view::npos) path.remove_prefix(cut + 1);
  return std::string(path) + ":" + std::to_string(line);
}

}  // namespace tabula

#include "io/path_identity.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "tabula/core/error.hpp"

namespace tabula::io {
namespace {

/// The canonical form of a path that may not exist yet: the existing prefix resolved through
/// its symlinks, the rest normalised. A dangling symlink is followed to its target, so that an
/// output written through it is compared with what the rename would replace.
std::filesystem::path canonical_form(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p = fs::absolute(path);
  std::error_code ec;
  for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) break;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  const fs::path resolved = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : resolved;
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {};
  struct stat sb {};
  const bool a_exists = ::stat(a.c_str(), &sa) == 0;
  const bool b_exists = ::stat(b.c_str(), &sb) == 0;
  if (a_exists && b_exists) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (a_exists != b_exists) return false;
  return canonical_form(a) == canonical_form(b);
}

void check_outputs_distinct(const std::vector<NamedPath>& inputs,
                            const std::vector<NamedPath>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& out = outputs[i];
    if (out.path.empty()) continue;
    auto clash = [&](const NamedPath& other, const char* what) {
      if (other.path.empty() || !same_file(out.path, other.path)) return;
      throw InputError(out.option + " '" + out.path + "' is the same file as " + other.option +
                       " '" + other.path + "': writing it would " + what + "; choose another path");
    };
    for (const NamedPath& in : inputs) clash(in, "destroy the input");
    for (std::size_t j = 0; j < i; ++j) clash(outputs[j], "lose one of the two outputs");
  }
}

}  // namespace tabula::io

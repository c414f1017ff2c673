// Telling whether two paths name the same file, so that no verb writes over one of its own
// inputs or writes two outputs to one file (the second rename would silently win).
#pragma once

#include <string>
#include <vector>

namespace tabula::io {

/// A file a verb reads or writes, with the option that named it (for the message).
struct NamedPath {
  std::string option;  // "--data", "--out", "--rejects", ...
  std::string path;
};

/// True when `a` and `b` name the same file: the same device and inode when both exist (a
/// symlink, a hard link or another spelling of one file), otherwise the same canonical path
/// (symlinks in the existing part resolved, "." and ".." removed).
bool same_file(const std::string& a, const std::string& b);

/// Throws InputError "--out 'x' is the same file as --data 'y'" when an output names the same
/// file as an input or as another output. Empty paths are ignored. Call before writing anything.
void check_outputs_distinct(const std::vector<NamedPath>& inputs,
                            const std::vector<NamedPath>& outputs);

}  // namespace tabula::io

// Writing a whole file atomically: a temporary file in the same folder, fsync, rename, so a
// reader sees the old file or the complete new one, never a partial one.
#pragma once

#include <string>
#include <string_view>

namespace tabula::detail {

/// Writes `bytes` to `path` atomically. On failure throws Error naming the path and the system
/// error, removes the temporary file and leaves any existing file at `path` untouched.
void write_file_atomically(const std::string& path, std::string_view bytes);

/// Reads a whole file; InputError naming it when it cannot be opened.
std::string read_whole_file(const std::string& path);

}  // namespace tabula::detail

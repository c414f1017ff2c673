// Writing a whole file atomically: a temporary file in the same folder, fsync, rename, so a
// reader sees the old file or the complete new one, never a partial one.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tabula::detail {

/// Writes `bytes` to `path` atomically. On failure throws Error naming the path and the system
/// error, removes the temporary file and leaves any existing file at `path` untouched.
void write_file_atomically(const std::string& path, std::string_view bytes);

/// Several files that appear together or not at all: each is first complete under a temporary
/// name beside its final path; commit() then renames them all into place. Until then nothing at
/// the final paths changes, so a failure (a full disk) part-way leaves the previous set of files
/// whole; the destructor removes the temporaries of an uncommitted set.
class PendingFiles {
 public:
  PendingFiles() = default;
  ~PendingFiles();
  PendingFiles(const PendingFiles&) = delete;
  PendingFiles& operator=(const PendingFiles&) = delete;

  /// Writes `bytes` (fsync'ed) under a temporary name for `path`. Error naming the path on a
  /// failed write.
  void add(const std::string& path, std::string_view bytes);
  /// A temporary name for `path`, for a writer of its own (which must leave a complete file
  /// there); it is renamed to `path` by commit().
  std::string reserve(const std::string& path);
  /// Renames every file into place, in the order added.
  void commit();

 private:
  std::vector<std::pair<std::string, std::string>> files_;  // (temporary, final)
  bool committed_ = false;
};

/// Reads a whole file; InputError naming it when it cannot be opened.
std::string read_whole_file(const std::string& path);

}  // namespace tabula::detail

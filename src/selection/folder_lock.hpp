// An exclusive lock on an output folder, so that two searches writing one folder fail fast
// instead of interleaving their journals and replacing each other's outputs.
#pragma once

#include <string>

namespace tabula::selection {

class FolderLock {
 public:
  /// Takes an exclusive flock on DIR/.lock (created if needed) without waiting. InputError
  /// naming the folder when another process holds it. The lock goes with the process, so a
  /// search that was killed never leaves the folder locked.
  explicit FolderLock(const std::string& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace tabula::selection

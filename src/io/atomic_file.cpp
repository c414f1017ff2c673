#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tabula/core/error.hpp"

namespace tabula::detail {
namespace {

std::string system_error(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(system_error("cannot write", path));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

/// Whether `path` is something other than a plain file or a folder: /dev/null, /dev/stdout, a
/// FIFO. A rename would replace it with a plain file (a root user's `--out /dev/null` would
/// leave a file where the device was), so its bytes are written into it instead.
bool is_special(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/// Writes `bytes` into the special file `path` (see is_special).
void write_into(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw Error(system_error("cannot open", path));
  try {
    write_all(fd, bytes, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw Error(system_error("cannot close", path));
}

/// Owns the temporary file: closes it and, unless committed, removes it.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(system_error("cannot create temporary file", path_));
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  void write_all(std::string_view bytes) { detail::write_all(fd_, bytes, path_); }

  void sync_and_close() {
    if (::fsync(fd_) != 0) throw Error(system_error("cannot flush", path_));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw Error(system_error("cannot close", path_));
  }

  /// Leaves the file under its temporary name (someone else renames or removes it).
  void keep() { committed_ = true; }

  void rename_to(const std::string& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0)
      throw Error(system_error("cannot rename temporary file to", target));
    committed_ = true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

namespace {

/// A fresh name in `path`'s folder (the system's temporary folder for a special file, whose
/// folder, /dev, is no place for files): hidden, with the pid and a random part.
std::string temporary_name(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = is_special(path)           ? fs::temp_directory_path()
                          : target.has_parent_path() ? target.parent_path()
                                                     : fs::path(".");
  std::random_device entropy;
  std::ostringstream name;
  name << "." << target.filename().string() << ".tmp." << ::getpid() << "." << std::hex
       << entropy();
  return (folder / name.str()).string();
}

void sync_folder_of(const std::string& path) {
  // Persist a rename; failure here cannot undo it, so it is best effort.
  const std::filesystem::path target(path);
  const std::filesystem::path folder =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view bytes) {
  if (is_special(path)) {
    write_into(path, bytes);
    return;
  }
  TempFile tmp(temporary_name(path));
  tmp.write_all(bytes);
  tmp.sync_and_close();
  tmp.rename_to(path);
  sync_folder_of(path);
}

PendingFiles::~PendingFiles() {
  if (committed_) return;
  for (const auto& [temporary, target] : files_) ::unlink(temporary.c_str());
}

void PendingFiles::add(const std::string& path, std::string_view bytes) {
  TempFile tmp(reserve(path));
  tmp.write_all(bytes);
  tmp.sync_and_close();
  tmp.keep();
}

std::string PendingFiles::reserve(const std::string& path) {
  files_.emplace_back(temporary_name(path), path);
  return files_.back().first;
}

void PendingFiles::commit() {
  for (const auto& [temporary, target] : files_) {
    if (is_special(target)) {  // complete by now: its bytes go into the device or pipe
      write_into(target, read_whole_file(temporary));
      ::unlink(temporary.c_str());
    } else if (::rename(temporary.c_str(), target.c_str()) != 0) {
      throw Error(system_error("cannot rename temporary file to", target));
    }
  }
  committed_ = true;
  for (const auto& [temporary, target] : files_)
    if (!is_special(target)) sync_folder_of(target);
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw InputError("cannot read '" + path + "'");
  return std::move(out).str();
}

}  // namespace tabula::detail

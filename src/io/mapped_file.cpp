#include "io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tabula/core/error.hpp"

namespace tabula::io {
namespace {

// Closes the descriptor on every path out of the constructor; the mapping outlives it.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(describe_location(path, 0, 0, "", what));
}

}  // namespace

MappedFile::MappedFile(const std::string& path, bool populate) {
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) fail(path, "is a directory, not a file");
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ == 0) return;
  void* map =
      ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), file.fd, 0);
  if (map == MAP_FAILED) fail(path, std::string("cannot map: ") + std::strerror(errno));
  ::madvise(map, size_, MADV_SEQUENTIAL);
  data_ = static_cast<const char*>(map);
}

void MappedFile::release(std::size_t offset, std::size_t size) const {
  if (offset >= size_) return;
  ::madvise(const_cast<char*>(data_) + offset, std::min(size, size_ - offset), MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

}  // namespace tabula::io

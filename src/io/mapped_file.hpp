// A read-only memory map of a whole file, unmapped when it goes out of scope.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tabula::io {

class MappedFile {
 public:
  /// Maps `path`; InputError naming the file when it is missing, unreadable or a directory.
  /// An empty file maps to an empty view.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view text() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tabula::io

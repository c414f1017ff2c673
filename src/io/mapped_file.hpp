// A read-only memory map of a whole file, unmapped when it goes out of scope.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tabula::io {

class MappedFile {
 public:
  /// Maps `path`; InputError naming the file when it is missing, unreadable or a directory.
  /// An empty file maps to an empty view. `populate`: read every page in up front (one
  /// sequential read); otherwise pages come in as they are touched.
  explicit MappedFile(const std::string& path, bool populate = true);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view text() const { return {data_, size_}; }
  /// Drops the pages of [offset, offset + size) from this process (they are read again if
  /// touched): a reader done with a part keeps its resident memory to the parts it reads, not
  /// the file. `offset` must be a multiple of the page size.
  void release(std::size_t offset, std::size_t size) const;

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tabula::io

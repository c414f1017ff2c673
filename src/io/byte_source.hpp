// Where a reader's bytes come from: a file, or the rows of a SQL query rendered as CSV text
// (src/io/sql/). FileBytes decompresses on top of it; both CSV readers read through FileBytes,
// so every source gets the same parsing, typing and errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tabula::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Up to `n` bytes into `out`; 0 at the end. InputError naming the source on failure.
  virtual std::size_t read(char* out, std::size_t n) = 0;
  /// The size in bytes when known in advance (a regular file), else 0.
  virtual std::uint64_t size() const { return 0; }
};

/// `path` opened: a SQL source for a "sqlite:" URL (InputError when this build has no SQLite),
/// else the file. InputError naming it when it cannot be opened.
std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

}  // namespace tabula::io

// A file's bytes, decompressed as they are read when the file is gzip, xz, zstd or bzip2
// (recognised by its first bytes, not its name). Both CSV readers read through it: the
// streaming reader block by block with flat memory, the whole-file reader into one buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tabula::io {

enum class Compression { kNone, kGzip, kXz, kZstd, kBzip2 };

/// The compression whose signature `head` (a file's first bytes) starts with; kNone otherwise.
Compression compression_of(std::string_view head);

/// "gzip", "xz", "zstd", "bzip2" (empty for kNone).
std::string_view compression_name(Compression compression);

/// Whether this build reads compressed files (zlib, liblzma, libbz2 and libzstd were found);
/// without them compressed files are refused by the CSV readers' signature check.
bool compression_supported();

class FileBytes {
 public:
  /// Opens `path`: InputError naming it when it is missing, unreadable or a directory.
  /// `encoding` (--encoding): the text's encoding, converted to UTF-8 after decompression;
  /// empty or UTF-8, or a SQL source: the bytes as they are. InputError for an encoding iconv
  /// does not know.
  explicit FileBytes(const std::string& path, const std::string& encoding = "");
  ~FileBytes();
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  /// Up to `n` decompressed (and converted) bytes into `out`; 0 at the end. InputError naming
  /// the file for corrupt or truncated compressed data (with the compressed byte offset) or a
  /// byte that is not valid in the encoding.
  std::size_t read(char* out, std::size_t n);
  Compression compression() const;
  /// The size on disk when it is a regular file, else 0.
  std::uint64_t file_size() const;

 private:
  std::size_t read_decompressed(char* out, std::size_t n);
  struct State;
  std::unique_ptr<State> state_;
};

/// Every decompressed byte of `path`. InputError when there are more than `limit` of them (a
/// whole-file read must fit in memory; the streaming reader has no such limit).
std::string read_all(FileBytes& bytes, const std::string& path, std::uint64_t limit);

/// A whole gzip file (every member) decompressed in one pass with libdeflate, 2-3x zlib's
/// inflate rate; nullopt when this build has no libdeflate, the data is corrupt or truncated,
/// or it holds more than `limit` bytes: read_all then reads it, and says what is wrong.
std::optional<std::string> gunzip_whole(std::string_view file, std::uint64_t limit);

}  // namespace tabula::io

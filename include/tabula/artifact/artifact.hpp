// The model artifact, format version 2: one self-describing file per model.
//
// Layout (little-endian; see docs/artifact-format.md):
//   magic "TABULA\0\1" (8 bytes) | format version u32 | header length u64 | header JSON (UTF-8)
//   | zero padding to 64 bytes | arrays, each starting on a 64-byte boundary | checksum u64
//   (version 1: FNV-1a 64; version 2: CRC-32 as in zlib, zero-extended)
// The JSON header holds the model kind, parameters, input schema, class labels, training
// metadata and an index of the arrays (name, dtype, shape, byte offset, byte length), so any
// language can read the weights with a JSON parser and a byte reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tabula {

/// Newest artifact format version; readers refuse newer versions with a clear message.
/// Version 1 files (checksum FNV-1a 64) still load; version 2 writes CRC-32 (zlib's); version 3
/// is version 2 holding content an older reader must not ignore (gradient boosting's
/// categorical splits), so a file is written in 3 only when it needs it.
inline constexpr std::uint32_t kArtifactFormatVersion = 3;
/// The version of files that need nothing newer.
inline constexpr std::uint32_t kArtifactBaseFormatVersion = 2;

/// Element types an artifact array may hold.
enum class DType { kFloat32, kFloat64, kInt32, kInt64, kUint8 };

/// Collects a header and named arrays, then writes them atomically (temporary name + rename).
class ArtifactWriter {
 public:
  /// Sets (replaces) a top-level header field, e.g. "model", "params", "schema", "training".
  void set(const std::string& key, nlohmann::json value);
  nlohmann::json& header() { return header_; }

  /// Adds a named array; `shape` multiplies to values.size(). Names are unique.
  void add(const std::string& name, std::span<const float> values, std::vector<std::int64_t> shape);
  void add(const std::string& name, std::span<const double> values,
           std::vector<std::int64_t> shape);
  void add(const std::string& name, std::span<const std::int32_t> values,
           std::vector<std::int64_t> shape);
  void add(const std::string& name, std::span<const std::int64_t> values,
           std::vector<std::int64_t> shape);
  void add(const std::string& name, std::span<const std::uint8_t> values,
           std::vector<std::int64_t> shape);

  /// Raises the format version the file is written in (kArtifactBaseFormatVersion by default)
  /// to `version`, for content that older readers would misread.
  void require_format_version(std::uint32_t version);

  /// Writes the file to `path` via a temporary file in the same folder and a rename; on any
  /// failure nothing is left at `path` (an existing file there is untouched).
  void write(const std::string& path) const;

 private:
  struct Array {
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
  };
  void add_bytes(const std::string& name, DType dtype, const void* data, std::size_t bytes,
                 std::vector<std::int64_t> shape);

  nlohmann::json header_ = nlohmann::json::object();
  std::map<std::string, Array> arrays_;
  std::uint32_t version_ = kArtifactBaseFormatVersion;
};

/// Reads and verifies an artifact. Throws InputError saying which of: not a tabula artifact
/// (magic), truncated, corrupted (checksum), written by a newer format version, malformed header.
class ArtifactReader {
 public:
  explicit ArtifactReader(const std::string& path);

  const nlohmann::json& header() const { return header_; }
  const std::string& path() const { return path_; }
  bool has(const std::string& name) const;
  /// The named array converted to the requested type; InputError when absent or when the stored
  /// type cannot be converted exactly (e.g. float64 to int32 is refused).
  std::vector<float> floats(const std::string& name) const;
  std::vector<double> doubles(const std::string& name) const;
  std::vector<std::int32_t> int32s(const std::string& name) const;
  std::vector<std::int64_t> int64s(const std::string& name) const;
  std::vector<std::uint8_t> uint8s(const std::string& name) const;
  std::vector<std::int64_t> shape(const std::string& name) const;

  /// Throws InputError unless header()["model"]["kind"] is one of `kinds` ("file X holds a
  /// <kind> model, expected ...").
  void expect_kind(std::initializer_list<std::string_view> kinds) const;
  /// The header's "fitted" section of an estimator's state; InputError unless it names
  /// `estimator` ("file X holds a <name> model, expected <estimator>").
  const nlohmann::json& fitted(std::string_view estimator) const;

 private:
  template <typename T>
  std::vector<T> read(const std::string& name) const;
  /// Parses the header JSON after bounding its size and nesting (artifact/validate.hpp).
  void parse_header(std::string_view text, bool checksum_ok, const std::string& where);

  std::string path_;
  nlohmann::json header_;
  std::vector<std::uint8_t> file_;  // whole file; arrays are read from it
  std::size_t data_start_ = 0;      // offset of the data section (64-byte aligned)
};

}  // namespace tabula

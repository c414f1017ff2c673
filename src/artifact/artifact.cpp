// The model artifact, format versions 1 to 3 (docs/artifact-format.md).
#include "tabula/artifact/artifact.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "artifact/crc32.hpp"
#include "artifact/fnv1a.hpp"
#include "artifact/validate.hpp"
#include "io/atomic_file.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the artifact writer stores host bytes and assumes a little-endian host");

constexpr char kMagic[8] = {'T', 'A', 'B', 'U', 'L', 'A', '\0', '\1'};
constexpr std::size_t kPrefixBytes = 8 + 4 + 8;  // magic, version, header length
constexpr std::size_t kChecksumBytes = 8;
constexpr std::size_t kAlignment = 64;

std::size_t round_up(std::size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kUint8:
      return "uint8";
  }
  return "?";
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
    case DType::kUint8:
      return 1;
  }
  return 0;
}

bool parse_dtype(const std::string& name, DType& out) {
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64, DType::kUint8})
    if (name == dtype_name(d)) {
      out = d;
      return true;
    }
  return false;
}

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T get(const std::vector<std::uint8_t>& file, std::size_t at) {
  T value;
  std::memcpy(&value, file.data() + at, sizeof(T));
  return value;
}

/// The checksum field of a file of `version`: 64-bit FNV-1a (version 1) or CRC-32 as in zlib,
/// zero-extended to 64 bits (version 2 on).
std::uint64_t checksum(std::uint32_t version, const void* data, std::size_t size) {
  if (version == 1) return detail::fnv1a64(data, size);
  return detail::crc32(data, size);
}

}  // namespace

// ---- ArtifactWriter ---------------------------------------------------------------------------

void ArtifactWriter::set(const std::string& key, nlohmann::json value) {
  header_[key] = std::move(value);
}

void ArtifactWriter::add_bytes(const std::string& name, DType dtype, const void* data,
                               std::size_t bytes, std::vector<std::int64_t> shape) {
  if (name.empty()) throw Error("artifact: an array needs a name");
  if (arrays_.count(name)) throw Error("artifact: array '" + name + "' added twice");
  std::int64_t count = 1;
  for (std::int64_t s : shape) {
    if (s < 0) throw Error("artifact: array '" + name + "' has a negative dimension");
    count *= s;
  }
  if (static_cast<std::size_t>(count) * dtype_size(dtype) != bytes)
    throw Error("artifact: array '" + name + "' shape does not match its " +
                std::to_string(bytes / dtype_size(dtype)) + " values");
  Array array{dtype, std::move(shape), {}};
  array.bytes.resize(bytes);
  if (bytes > 0) std::memcpy(array.bytes.data(), data, bytes);
  arrays_.emplace(name, std::move(array));
}

void ArtifactWriter::add(const std::string& name, std::span<const float> values,
                         std::vector<std::int64_t> shape) {
  add_bytes(name, DType::kFloat32, values.data(), values.size_bytes(), std::move(shape));
}
void ArtifactWriter::add(const std::string& name, std::span<const double> values,
                         std::vector<std::int64_t> shape) {
  add_bytes(name, DType::kFloat64, values.data(), values.size_bytes(), std::move(shape));
}
void ArtifactWriter::add(const std::string& name, std::span<const std::int32_t> values,
                         std::vector<std::int64_t> shape) {
  add_bytes(name, DType::kInt32, values.data(), values.size_bytes(), std::move(shape));
}
void ArtifactWriter::add(const std::string& name, std::span<const std::int64_t> values,
                         std::vector<std::int64_t> shape) {
  add_bytes(name, DType::kInt64, values.data(), values.size_bytes(), std::move(shape));
}
void ArtifactWriter::add(const std::string& name, std::span<const std::uint8_t> values,
                         std::vector<std::int64_t> shape) {
  add_bytes(name, DType::kUint8, values.data(), values.size_bytes(), std::move(shape));
}

void ArtifactWriter::require_format_version(std::uint32_t version) {
  TABULA_ASSERT(version <= kArtifactFormatVersion, "a format version this tabula cannot read");
  version_ = std::max(version_, version);
}

void ArtifactWriter::write(const std::string& path) const {
  nlohmann::json header = header_;
  nlohmann::json index = nlohmann::json::object();
  std::size_t offset = 0;  // relative to the start of the data section
  for (const auto& [name, array] : arrays_) {
    offset = round_up(offset);
    index[name] = {{"dtype", dtype_name(array.dtype)},
                   {"shape", array.shape},
                   {"offset", offset},
                   {"nbytes", array.bytes.size()}};
    offset += array.bytes.size();
  }
  header["format"] = {{"version", version_},
                      {"endianness", "little"},
                      {"alignment", kAlignment},
                      {"checksum", "crc32"}};
  header["arrays"] = std::move(index);
  header["data_bytes"] = offset;
  const std::string text = header.dump();

  std::string out;
  out.append(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, version_);
  put<std::uint64_t>(out, text.size());
  out += text;
  const std::size_t data_start = round_up(out.size());
  out.resize(data_start, '\0');
  for (const auto& [name, array] : arrays_) {
    out.resize(data_start + round_up(out.size() - data_start), '\0');
    out.append(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
  }
  put<std::uint64_t>(out, checksum(version_, out.data(), out.size()));
  detail::write_file_atomically(path, out);
}

// ---- ArtifactReader ---------------------------------------------------------------------------

// long: the file format's checks in byte order (magic, version, checksum, header length,
// header, sections); each refusal names the file and what in it is wrong.
ArtifactReader::ArtifactReader(const std::string& path) : path_(path) {
  const std::string bytes = detail::read_whole_file(path);
  file_.assign(bytes.begin(), bytes.end());
  const std::size_t size = file_.size();
  const std::string where = "model file '" + path + "'";

  const std::size_t magic_bytes = std::min(size, sizeof kMagic);
  if (size == 0 || std::memcmp(file_.data(), kMagic, magic_bytes) != 0)
    throw InputError(where + " is not a tabula model artifact (bad magic bytes)");
  if (size < kPrefixBytes)
    throw InputError(where + " is truncated: " + std::to_string(size) + " bytes");
  const auto version = get<std::uint32_t>(file_, 8);
  if (version > kArtifactFormatVersion)
    throw InputError(where + " was written in artifact format version " + std::to_string(version) +
                     "; this tabula reads up to version " + std::to_string(kArtifactFormatVersion) +
                     " (upgrade tabula)");
  if (version == 0) throw InputError(where + " is corrupted: format version 0");

  const bool checksum_ok = size >= kPrefixBytes + kChecksumBytes &&
                           checksum(version, file_.data(), size - kChecksumBytes) ==
                               get<std::uint64_t>(file_, size - kChecksumBytes);
  const auto header_bytes = get<std::uint64_t>(file_, 12);
  if (header_bytes > size - kPrefixBytes) {
    if (checksum_ok) throw InputError(where + " has a malformed header length");
    throw InputError(where + " is truncated: the header runs past the end of the file (" +
                     std::to_string(size) + " bytes)");
  }
  const char* text = reinterpret_cast<const char*>(file_.data() + kPrefixBytes);
  parse_header(std::string_view(text, header_bytes), checksum_ok, where);
  const std::size_t data_start = round_up(kPrefixBytes + header_bytes);
  std::size_t expected = 0;
  if (!header_.is_discarded() && header_.is_object() && header_.contains("data_bytes") &&
      header_["data_bytes"].is_number_unsigned()) {
    // Saturate instead of wrapping: an absurd length reads as "truncated".
    const auto data_bytes = header_["data_bytes"].get<std::size_t>();
    expected = data_bytes > SIZE_MAX / 2 ? SIZE_MAX : data_start + data_bytes + kChecksumBytes;
  }
  if (expected > 0 && size < expected)
    throw InputError(where + " is truncated: " + std::to_string(size) + " bytes, expected " +
                     std::to_string(expected));
  if (!checksum_ok)
    throw InputError(where +
                     " is corrupted: checksum mismatch (the file was changed after it "
                     "was written)");
  if (expected == 0 || !header_.contains("arrays") || !header_["arrays"].is_object())
    throw InputError(where + " has a malformed header (not the JSON of an artifact)");
  if (size != expected)
    throw InputError(where + " has a malformed header: " + std::to_string(size - expected) +
                     " unexpected bytes after the data");

  for (const auto& [name, entry] : header_["arrays"].items()) {
    DType dtype;
    bool ok = entry.is_object() && entry.contains("dtype") && entry["dtype"].is_string() &&
              parse_dtype(entry["dtype"].get<std::string>(), dtype) && entry.contains("shape") &&
              entry["shape"].is_array() && entry.contains("offset") &&
              entry["offset"].is_number_unsigned() && entry.contains("nbytes") &&
              entry["nbytes"].is_number_unsigned();
    if (ok) {
      // Every product and sum is checked against the data size first, so a crafted header
      // cannot overflow its way past the end of the file.
      const auto data_bytes = header_["data_bytes"].get<std::size_t>();
      const auto offset = entry["offset"].get<std::size_t>();
      const auto nbytes = entry["nbytes"].get<std::size_t>();
      std::size_t count = 1;
      for (const auto& s : entry["shape"]) {
        ok = ok && s.is_number_unsigned();
        if (!ok) break;
        const auto dim = s.get<std::size_t>();
        if (dim != 0 && count > data_bytes / dim)
          count = data_bytes + 1;  // too big either way
        else
          count *= dim;
      }
      ok = ok && count <= data_bytes && nbytes == count * dtype_size(dtype) &&
           offset % kAlignment == 0 && offset <= data_bytes && nbytes <= data_bytes - offset;
    }
    if (!ok)
      throw InputError(where + " has a malformed header: bad index entry for array '" + name + "'");
  }
  data_start_ = data_start;
}

void ArtifactReader::parse_header(std::string_view text, bool checksum_ok,
                                  const std::string& where) {
  // Bounded before parsing: the parser and every later copy or walk of the JSON recurse, so
  // a header nested a million deep would exhaust the stack.
  if (text.size() > artifact::kMaxHeaderBytes && checksum_ok)
    throw InputError(where + ": field 'header': " + std::to_string(text.size()) +
                     " bytes, above the limit of " + std::to_string(artifact::kMaxHeaderBytes));
  if (artifact::json_depth(text) > artifact::kMaxJsonDepth) {
    if (!checksum_ok) {
      header_ = nlohmann::json(nlohmann::json::value_t::discarded);
      return;
    }
    throw InputError(where + ": field 'header': JSON nested deeper than " +
                     std::to_string(artifact::kMaxJsonDepth) + " levels");
  }
  header_ = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
}

bool ArtifactReader::has(const std::string& name) const { return header_["arrays"].contains(name); }

std::vector<std::int64_t> ArtifactReader::shape(const std::string& name) const {
  if (!has(name)) throw InputError("model file '" + path_ + "' has no array '" + name + "'");
  return header_["arrays"][name]["shape"].get<std::vector<std::int64_t>>();
}

namespace {

/// Widening conversions only: every value of `from` is exactly representable as T.
template <typename T>
bool converts_exactly(DType from) {
  if constexpr (std::is_same_v<T, float>) return from == DType::kFloat32 || from == DType::kUint8;
  if constexpr (std::is_same_v<T, double>)
    return from == DType::kFloat32 || from == DType::kFloat64 || from == DType::kInt32 ||
           from == DType::kUint8;
  if constexpr (std::is_same_v<T, std::int32_t>)
    return from == DType::kInt32 || from == DType::kUint8;
  if constexpr (std::is_same_v<T, std::int64_t>)
    return from == DType::kInt32 || from == DType::kInt64 || from == DType::kUint8;
  return from == DType::kUint8;
}

template <typename T, typename S>
void convert(const std::uint8_t* src, std::size_t count, std::vector<T>& out) {
  out.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    S value;
    std::memcpy(&value, src + i * sizeof(S), sizeof(S));
    out[i] = static_cast<T>(value);
  }
}

}  // namespace

template <typename T>
std::vector<T> ArtifactReader::read(const std::string& name) const {
  if (!has(name)) throw InputError("model file '" + path_ + "' has no array '" + name + "'");
  const nlohmann::json& entry = header_["arrays"][name];
  DType dtype;
  parse_dtype(entry["dtype"].get<std::string>(), dtype);
  if (!converts_exactly<T>(dtype))
    throw InputError("model file '" + path_ + "': array '" + name + "' holds " + dtype_name(dtype) +
                     " values, which cannot be read exactly as requested");
  const std::uint8_t* src = file_.data() + data_start_ + entry["offset"].get<std::size_t>();
  const std::size_t count = entry["nbytes"].get<std::size_t>() / dtype_size(dtype);
  std::vector<T> out;
  switch (dtype) {
    case DType::kFloat32:
      convert<T, float>(src, count, out);
      break;
    case DType::kFloat64:
      convert<T, double>(src, count, out);
      break;
    case DType::kInt32:
      convert<T, std::int32_t>(src, count, out);
      break;
    case DType::kInt64:
      convert<T, std::int64_t>(src, count, out);
      break;
    case DType::kUint8:
      convert<T, std::uint8_t>(src, count, out);
      break;
  }
  return out;
}

std::vector<float> ArtifactReader::floats(const std::string& name) const {
  return read<float>(name);
}
std::vector<double> ArtifactReader::doubles(const std::string& name) const {
  return read<double>(name);
}
std::vector<std::int32_t> ArtifactReader::int32s(const std::string& name) const {
  return read<std::int32_t>(name);
}
std::vector<std::int64_t> ArtifactReader::int64s(const std::string& name) const {
  return read<std::int64_t>(name);
}
std::vector<std::uint8_t> ArtifactReader::uint8s(const std::string& name) const {
  return read<std::uint8_t>(name);
}

void ArtifactReader::expect_kind(std::initializer_list<std::string_view> kinds) const {
  std::string kind = "unknown";
  if (header_.contains("model") && header_["model"].is_object() &&
      header_["model"].contains("kind") && header_["model"]["kind"].is_string())
    kind = header_["model"]["kind"].get<std::string>();
  for (std::string_view k : kinds)
    if (k == kind) return;
  std::string expected;
  for (std::string_view k : kinds) expected += (expected.empty() ? "" : " or ") + std::string(k);
  throw InputError("model file '" + path_ + "' holds a " + kind + " model, expected " + expected);
}

const nlohmann::json& ArtifactReader::fitted(std::string_view estimator) const {
  const nlohmann::json& section = header_.at("fitted");
  const std::string held = section.at("estimator").get<std::string>();
  if (held != estimator)
    throw InputError("file " + path_ + " holds a " + held + " model, expected " +
                     std::string(estimator));
  return section;
}

}  // namespace tabula

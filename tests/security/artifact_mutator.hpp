// Mutations of valid model files that keep the checksum valid, as a hostile writer of the
// model repository would make them: the checksum catches accidents only, so every mutated file
// must either load (and then predict without a fault) or fail with an InputError. Shared by
// the deterministic mutator test (CI, every build) and the libFuzzer artifact target.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "artifact/crc32.hpp"
#include "artifact/fnv1a.hpp"

namespace tabula::testing {

inline constexpr std::size_t kArtifactPrefix = 20;  // magic, version u32, header length u64

/// Rewrites the last 8 bytes as the checksum the file's format version calls for (version 1:
/// FNV-1a 64; later: CRC-32), so a mutated file passes the integrity check.
inline void fix_checksum(std::string& file) {
  if (file.size() < kArtifactPrefix + 8) return;
  std::uint32_t version;
  std::memcpy(&version, file.data() + 8, 4);
  const std::size_t n = file.size() - 8;
  const std::uint64_t sum =
      version == 1 ? detail::fnv1a64(file.data(), n) : std::uint64_t{detail::crc32(file.data(), n)};
  std::memcpy(file.data() + n, &sum, 8);
}

/// A file split into its header JSON and its data section (from the 64-byte aligned start).
struct ArtifactParts {
  std::string prefix;  // magic + version
  nlohmann::json header;
  std::string data;
};

inline std::optional<ArtifactParts> split_artifact(const std::string& file) {
  if (file.size() < kArtifactPrefix + 8) return std::nullopt;
  std::uint64_t header_bytes;
  std::memcpy(&header_bytes, file.data() + 12, 8);
  if (header_bytes > file.size() - kArtifactPrefix - 8) return std::nullopt;
  ArtifactParts parts;
  parts.prefix = file.substr(0, 12);
  parts.header = nlohmann::json::parse(file.substr(kArtifactPrefix, header_bytes), nullptr, false);
  if (parts.header.is_discarded()) return std::nullopt;
  const std::size_t data_start = (kArtifactPrefix + header_bytes + 63) / 64 * 64;
  if (data_start > file.size() - 8) return std::nullopt;
  parts.data = file.substr(data_start, file.size() - 8 - data_start);
  return parts;
}

/// A file of `prefix`, header `text` and `data`, laid out as the writer does, with a valid
/// checksum.
inline std::string join_artifact_text(const std::string& prefix, const std::string& text,
                                      const std::string& data) {
  std::string out = prefix;
  const std::uint64_t n = text.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += text;
  out.resize((out.size() + 63) / 64 * 64, '\0');
  out += data;
  out.append(8, '\0');
  fix_checksum(out);
  return out;
}

inline std::string join_artifact(const ArtifactParts& parts) {
  return join_artifact_text(parts.prefix, parts.header.dump(), parts.data);
}

/// A value a hostile writer would try in place of a count, index or weight.
inline nlohmann::json hostile_number(std::mt19937_64& rng, const nlohmann::json& old) {
  const std::int64_t v = old.is_number_integer() ? old.get<std::int64_t>() : 1;
  switch (rng() % 10) {
    case 0:
      return 0;
    case 1:
      return -1;
    case 2:
      return v + 1;
    case 3:
      return v - 1;
    case 4:
      return (std::int64_t{1} << 62) + 1;
    case 5:
      return std::numeric_limits<std::int32_t>::max();
    case 6:
      return static_cast<std::int64_t>(static_cast<std::uint64_t>(v) * 2 + 1);
    case 7:
      return 1e308;
    case 8:
      return 1;
    default:
      return static_cast<std::int64_t>(rng() % 7);
  }
}

/// All leaves of `j`, as JSON pointers.
inline void collect_leaves(const nlohmann::json& j, const nlohmann::json::json_pointer& at,
                           std::vector<nlohmann::json::json_pointer>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) collect_leaves(v, at / k, out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) collect_leaves(j[i], at / i, out);
  }
  out.push_back(at);
}

/// One structured change to the header: a leaf replaced by a hostile number, an array grown or
/// shrunk by one entry, a key removed, or a string swapped.
inline void mutate_header(nlohmann::json& header, std::mt19937_64& rng) {
  std::vector<nlohmann::json::json_pointer> leaves;
  collect_leaves(header, nlohmann::json::json_pointer(), leaves);
  const auto& at = leaves[rng() % leaves.size()];
  if (at.empty()) return;
  nlohmann::json& node = header[at];
  switch (rng() % 5) {
    case 0:
    case 1:
      node = hostile_number(rng, node);
      break;
    case 2:
      if (node.is_array() && !node.empty() && rng() % 2)
        node.erase(node.size() - 1);
      else if (node.is_array())
        node.push_back(node.empty() ? nlohmann::json(1) : node.back());
      else
        node = hostile_number(rng, node);
      break;
    case 3:
      header[at.parent_pointer()].is_object() ? (void)header[at.parent_pointer()].erase(at.back())
                                              : (void)(node = nullptr);
      break;
    default:
      node = node.is_string() ? nlohmann::json(1) : nlohmann::json("x");
  }
}

/// Overwrites a few bytes of the data section with extreme values (-1, huge, NaN patterns).
inline void mutate_data(std::string& data, std::mt19937_64& rng) {
  if (data.empty()) return;
  const std::size_t at = (rng() % data.size()) & ~std::size_t{3};
  const std::uint32_t patterns[] = {
      0xFFFFFFFFu, 0x7FFFFFFFu, 0x7FC00000u, 0x7F800000u,
      0,           1,           2,           static_cast<std::uint32_t>(rng())};
  const std::uint32_t p = patterns[rng() % 8];
  std::memcpy(data.data() + at, &p, std::min<std::size_t>(4, data.size() - at));
}

/// One mutant of a valid file: structured (header or data) or raw byte changes, with the
/// checksum recomputed.
inline std::string mutate_artifact(const std::string& file, std::mt19937_64& rng) {
  std::optional<ArtifactParts> parts = split_artifact(file);
  const unsigned choice = static_cast<unsigned>(rng() % 8);
  if (parts && choice < 5) {
    mutate_header(parts->header, rng);
    if (choice == 4) mutate_header(parts->header, rng);
    return join_artifact(*parts);
  }
  if (parts && choice < 7) {
    mutate_data(parts->data, rng);
    return join_artifact(*parts);
  }
  std::string out = file;
  for (int k = 0; k < 4 && !out.empty(); ++k)
    out[rng() % out.size()] = static_cast<char>(rng() & 0xFF);
  fix_checksum(out);
  return out;
}

}  // namespace tabula::testing

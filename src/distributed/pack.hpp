// Bytes a rank sends to the others (all-gather parts): integers, doubles and length-prefixed
// text appended to a string, and a reader that checks every size against what is left, since a
// part from another rank is outside input like any other.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "tabula/core/error.hpp"

namespace tabula::distributed {

inline void pack(std::string& out, std::int64_t v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
inline void pack(std::string& out, double v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
/// Values of a trivially copyable type as they are in memory (the reader knows the count).
template <typename T>
void pack_values(std::string& out, std::span<const T> values) {
  out.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}
inline void pack_text(std::string& out, const std::string& text) {
  pack(out, static_cast<std::int64_t>(text.size()));
  out += text;
}

/// One rank's part, read in the order it was packed. InputError "rank R's <what>: <why>" for
/// a truncated part, a negative count or a length beyond the part.
class PartReader {
 public:
  PartReader(const std::string& bytes, std::size_t rank, const char* what)
      : bytes_(bytes), rank_(rank), what_(what) {}

  template <typename T>
  T scalar() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, bytes_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::int64_t count() {
    const auto n = scalar<std::int64_t>();
    if (n < 0) fail("a negative count");
    return n;
  }
  std::string text() {
    const auto length = static_cast<std::size_t>(count());
    need(length);
    std::string s = bytes_.substr(at_, length);
    at_ += length;
    return s;
  }
  /// `n` values packed by pack_values, appended to `out`.
  template <typename T>
  void values(std::size_t n, std::vector<T>& out) {
    if (n > (bytes_.size() - at_) / sizeof(T)) fail("truncated");
    const std::size_t old = out.size();
    out.resize(old + n);
    std::memcpy(out.data() + old, bytes_.data() + at_, n * sizeof(T));
    at_ += n * sizeof(T);
  }
  bool done() const { return at_ == bytes_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError("rank " + std::to_string(rank_) + "'s " + what_ + ": " + why);
  }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - at_ < n) fail("truncated");
  }
  const std::string& bytes_;
  std::size_t at_ = 0;
  std::size_t rank_;
  const char* what_;
};

}  // namespace tabula::distributed

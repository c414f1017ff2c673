// Text in another encoding (Latin-1, Windows-1252, UTF-16, Shift-JIS...) converted to UTF-8 as
// it is read, through glibc's iconv, so that `--encoding` files reach the CSV readers as the
// UTF-8 they parse. Spreadsheets on Windows export CSV in cp1252 or UTF-16.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tabula::io {

/// Whether `encoding` is empty or names UTF-8 ("utf-8", "UTF8", ...): no conversion.
bool is_utf8_name(const std::string& encoding);

class Utf8Transcoder {
 public:
  /// InputError naming `source` when iconv does not know `encoding`.
  Utf8Transcoder(const std::string& encoding, std::string source);
  ~Utf8Transcoder();
  Utf8Transcoder(const Utf8Transcoder&) = delete;
  Utf8Transcoder& operator=(const Utf8Transcoder&) = delete;

  /// Converts from `in` (advancing it) into out[0, n) and returns the bytes written (n >= 4
  /// leaves room for any character). An incomplete character at the end of `in` stays in `in`
  /// unless `last`, when it is an error. InputError naming the source, the encoding and the
  /// byte offset (in the encoded input) of a sequence that is not valid in it.
  std::size_t convert(std::string_view& in, char* out, std::size_t n, bool last);

 private:
  void* state_;  // iconv_t
  std::string encoding_, source_;
  std::uint64_t consumed_ = 0;  // encoded bytes converted so far
};

}  // namespace tabula::io

#include "io/transcode.hpp"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "tabula/core/error.hpp"

namespace tabula::io {

bool is_utf8_name(const std::string& encoding) {
  std::string name;
  for (char c : encoding)
    if (std::isalnum(static_cast<unsigned char>(c)))
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name.empty() || name == "utf8";
}

Utf8Transcoder::Utf8Transcoder(const std::string& encoding, std::string source)
    : state_(nullptr), encoding_(encoding), source_(std::move(source)) {
  const iconv_t cd = ::iconv_open("UTF-8", encoding.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1))
    throw InputError("'" + source_ + "': unknown --encoding '" + encoding +
                     "' (e.g. latin1, cp1252, utf-16, shift_jis; `iconv -l` lists them all)");
  state_ = cd;
}

Utf8Transcoder::~Utf8Transcoder() { ::iconv_close(static_cast<iconv_t>(state_)); }

std::size_t Utf8Transcoder::convert(std::string_view& in, char* out, std::size_t n, bool last) {
  char* from = const_cast<char*>(in.data());
  std::size_t from_left = in.size(), to_left = n;
  char* to = out;
  const std::size_t rc = ::iconv(static_cast<iconv_t>(state_), &from, &from_left, &to, &to_left);
  const int error = rc == static_cast<std::size_t>(-1) ? errno : 0;
  const std::size_t used = in.size() - from_left;
  consumed_ += used;
  in.remove_prefix(used);
  // E2BIG: out is full; EINVAL: an incomplete character waits for more input.
  if (error == EILSEQ || (error == EINVAL && last))
    throw InputError("'" + source_ + "': byte " + std::to_string(consumed_ + 1) + " is not " +
                     (error == EILSEQ ? "valid" : "a complete character") + " in the encoding '" +
                     encoding_ + "' (--encoding)");
  return n - to_left;
}

}  // namespace tabula::io

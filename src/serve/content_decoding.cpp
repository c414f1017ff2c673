// zlib inflation with a hard ceiling on the output.
#include "serve/content_decoding.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "serve/http_error.hpp"

namespace tabula::serve {
namespace {

std::string lower(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  text = text.substr(first, text.find_last_not_of(" \t") - first + 1);
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// RAII for one inflate stream.
class Inflater {
 public:
  explicit Inflater(int window_bits) {
    if (inflateInit2(&stream_, window_bits) != Z_OK) throw Error("serve: cannot initialise zlib");
  }
  ~Inflater() { inflateEnd(&stream_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Appends the inflated data to `out`; false when `in` is not one complete, valid stream.
  bool run(std::string_view in, std::int64_t max_bytes, std::string& out) {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    stream_.avail_in = static_cast<uInt>(in.size());
    char chunk[16384];
    for (;;) {
      stream_.next_out = reinterpret_cast<Bytef*>(chunk);
      stream_.avail_out = sizeof chunk;
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) return false;
      const std::size_t produced = sizeof chunk - stream_.avail_out;
      if (static_cast<std::int64_t>(out.size() + produced) > max_bytes)
        throw HttpError(413, "request body too large once decompressed (limit " +
                                 std::to_string(max_bytes) + " bytes)");
      out.append(chunk, produced);
      if (rc == Z_STREAM_END) return stream_.avail_in == 0;      // no trailing garbage
      if (stream_.avail_in == 0 && produced == 0) return false;  // truncated
    }
  }

 private:
  z_stream stream_{};
};

}  // namespace

std::string decode_content(std::string body, std::string_view encoding, std::int64_t max_bytes) {
  const std::string name = lower(encoding);
  if (name.empty() || name == "identity") return body;
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<uInt>::max()))
    throw HttpError(413, "compressed request body too large");
  std::string out;
  if (name == "gzip" || name == "x-gzip") {
    if (!Inflater(15 + 16).run(body, max_bytes, out))
      throw HttpError(400, "the request body is not valid gzip data");
    return out;
  }
  if (name == "deflate") {
    // RFC 9110's deflate is zlib-wrapped; some clients send raw deflate: accept both.
    if (Inflater(15).run(body, max_bytes, out)) return out;
    out.clear();
    if (Inflater(-15).run(body, max_bytes, out)) return out;
    throw HttpError(400, "the request body is not valid deflate data");
  }
  throw HttpError(
      415, "unsupported Content-Encoding '" + std::string(encoding) + "' (gzip, deflate or none)");
}

}  // namespace tabula::serve

#include "io/compressed_file.hpp"

#include "io/byte_source.hpp"
#include "io/sql/sql_source.hpp"
#include "io/transcode.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "tabula/core/error.hpp"

#ifdef TABULA_WITH_COMPRESSION
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#endif
#ifdef TABULA_WITH_LIBDEFLATE
#include <libdeflate.h>
#endif

namespace tabula::io {
namespace {

// Compressed bytes read per refill.
constexpr std::size_t kRawBlock = std::size_t{1} << 20;

#ifdef TABULA_WITH_COMPRESSION
// One format's streaming decompressor. step() decompresses from `in` (advancing it) into
// out[0, n) and returns the bytes written; `last` says no input follows `in`. mid_stream():
// a stream (gzip member, xz stream, zstd frame, bzip2 stream) was started and not finished, so
// the end of the file there means a truncated file. Concatenated streams are read one after
// another, as the command-line tools do. A failure throws std::runtime_error with the library's
// words; FileBytes adds the file and the offset.
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::size_t step(std::string_view& in, char* out, std::size_t n, bool last) = 0;
  bool mid_stream() const { return mid_stream_; }

 protected:
  bool mid_stream_ = false;
};

class GzipDecoder final : public Decoder {
 public:
  GzipDecoder() {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) throw std::runtime_error("zlib: out of memory");
  }
  ~GzipDecoder() override { inflateEnd(&z_); }
  std::size_t step(std::string_view& in, char* out, std::size_t n, bool) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(n);
    const int rc = inflate(&z_, Z_NO_FLUSH);
    in.remove_prefix(in.size() - z_.avail_in);
    const std::size_t produced = n - z_.avail_out;
    if (rc == Z_STREAM_END) {
      inflateReset(&z_);
      mid_stream_ = false;
    } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
      mid_stream_ = mid_stream_ || produced > 0 || z_.total_in > 0;
    } else {
      throw std::runtime_error(z_.msg != nullptr ? z_.msg : "corrupt data");
    }
    return produced;
  }

 private:
  z_stream z_{};
};

class XzDecoder final : public Decoder {
 public:
  XzDecoder() {
    if (lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
      throw std::runtime_error("liblzma: out of memory");
  }
  ~XzDecoder() override { lzma_end(&s_); }
  std::size_t step(std::string_view& in, char* out, std::size_t n, bool last) override {
    s_.next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    s_.avail_in = in.size();
    s_.next_out = reinterpret_cast<std::uint8_t*>(out);
    s_.avail_out = n;
    const lzma_ret rc = lzma_code(&s_, last ? LZMA_FINISH : LZMA_RUN);
    in.remove_prefix(in.size() - s_.avail_in);
    const std::size_t produced = n - s_.avail_out;
    mid_stream_ = rc != LZMA_STREAM_END;
    if (rc == LZMA_OK || rc == LZMA_STREAM_END) return produced;
    if (rc == LZMA_BUF_ERROR && produced == 0 && last) throw std::runtime_error("truncated");
    if (rc == LZMA_BUF_ERROR) return produced;
    throw std::runtime_error(rc == LZMA_FORMAT_ERROR ? "not xz data"
                             : rc == LZMA_DATA_ERROR ? "corrupt data"
                                                     : "liblzma error " + std::to_string(rc));
  }

 private:
  lzma_stream s_ = LZMA_STREAM_INIT;
};

class ZstdDecoder final : public Decoder {
 public:
  ZstdDecoder() : d_(ZSTD_createDStream()) {
    if (d_ == nullptr) throw std::runtime_error("libzstd: out of memory");
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(d_); }
  std::size_t step(std::string_view& in, char* out, std::size_t n, bool) override {
    if (in.empty() && !mid_stream_) return 0;  // between frames: nothing to flush
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out, n, 0};
    const std::size_t rc = ZSTD_decompressStream(d_, &output, &input);
    if (ZSTD_isError(rc)) throw std::runtime_error(ZSTD_getErrorName(rc));
    in.remove_prefix(input.pos);
    mid_stream_ = rc != 0;  // 0: a frame just ended
    return output.pos;
  }

 private:
  ZSTD_DStream* d_;
};

class Bzip2Decoder final : public Decoder {
 public:
  Bzip2Decoder() { start(); }
  ~Bzip2Decoder() override { BZ2_bzDecompressEnd(&s_); }
  std::size_t step(std::string_view& in, char* out, std::size_t n, bool) override {
    if (!mid_stream_ && in.empty()) return 0;
    s_.next_in = const_cast<char*>(in.data());
    s_.avail_in = static_cast<unsigned>(in.size());
    s_.next_out = out;
    s_.avail_out = static_cast<unsigned>(n);
    const int rc = BZ2_bzDecompress(&s_);
    in.remove_prefix(in.size() - s_.avail_in);
    const std::size_t produced = n - s_.avail_out;
    if (rc == BZ_STREAM_END) {
      BZ2_bzDecompressEnd(&s_);
      start();
      mid_stream_ = false;
    } else if (rc == BZ_OK) {
      mid_stream_ = true;
    } else {
      throw std::runtime_error(rc == BZ_DATA_ERROR_MAGIC ? "not bzip2 data" : "corrupt data");
    }
    return produced;
  }

 private:
  void start() {
    s_ = bz_stream{};
    if (BZ2_bzDecompressInit(&s_, 0, 0) != BZ_OK) throw std::runtime_error("libbz2: out of memory");
  }
  bz_stream s_{};
};

std::unique_ptr<Decoder> make_decoder(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return std::make_unique<GzipDecoder>();
    case Compression::kXz:
      return std::make_unique<XzDecoder>();
    case Compression::kZstd:
      return std::make_unique<ZstdDecoder>();
    case Compression::kBzip2:
      return std::make_unique<Bzip2Decoder>();
    case Compression::kNone:
      break;
  }
  return nullptr;
}
#endif

}  // namespace

Compression compression_of(std::string_view head) {
  if (head.starts_with(std::string_view("\x1F\x8B", 2))) return Compression::kGzip;
  if (head.starts_with(std::string_view("\xFD\x37zXZ\x00", 6))) return Compression::kXz;
  if (head.starts_with(std::string_view("\x28\xB5\x2F\xFD", 4))) return Compression::kZstd;
  // "BZh", a block size digit, then the block magic: a header merely starting "BZh" is text.
  if (head.size() >= 10 && head.starts_with("BZh") && head.substr(4, 6) == "1AY&SY")
    return Compression::kBzip2;
  return Compression::kNone;
}

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kXz:
      return "xz";
    case Compression::kZstd:
      return "zstd";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kNone:
      break;
  }
  return "";
}

bool compression_supported() {
#ifdef TABULA_WITH_COMPRESSION
  return true;
#else
  return false;
#endif
}

struct FileBytes::State {
  std::string path;
  std::unique_ptr<ByteSource> raw;
  Compression compression = Compression::kNone;
  std::vector<char> pending;  // raw bytes read but not yet consumed: pending[at, filled)
  std::size_t at = 0, filled = 0;
  bool raw_end = false;
  std::uint64_t consumed = 0;  // compressed bytes handed to the decoder
#ifdef TABULA_WITH_COMPRESSION
  std::unique_ptr<Decoder> decoder;
#endif
  // --encoding: decompressed bytes waiting for conversion, encoded[at, size).
  std::unique_ptr<Utf8Transcoder> transcoder;
  std::string encoded;
  std::size_t encoded_at = 0;
  bool encoded_end = false;

  explicit State(const std::string& p) : path(p), raw(open_byte_source(p)) {}

  void refill() {
    if (pending.size() < kRawBlock) pending.resize(kRawBlock);
    at = 0;
    filled = raw->read(pending.data(), pending.size());
    raw_end = filled == 0;
  }
};

FileBytes::FileBytes(const std::string& path, const std::string& encoding)
    : state_(std::make_unique<State>(path)) {
  State& s = *state_;
  // Rows rendered from SQL are UTF-8 already, whatever the files beside them are in.
  if (!is_utf8_name(encoding) && !is_sql_url(path))
    s.transcoder = std::make_unique<Utf8Transcoder>(encoding, path);
  s.refill();
#ifdef TABULA_WITH_COMPRESSION
  s.compression = compression_of(std::string_view(s.pending.data(), s.filled));
  s.decoder = make_decoder(s.compression);
#endif
}

FileBytes::~FileBytes() = default;

Compression FileBytes::compression() const { return state_->compression; }
std::uint64_t FileBytes::file_size() const { return state_->raw->size(); }

std::size_t FileBytes::read(char* out, std::size_t n) {
  State& s = *state_;
  if (!s.transcoder) return read_decompressed(out, n);
  constexpr std::size_t kEncodedBlock = std::size_t{1} << 20;
  for (;;) {
    std::string_view in(s.encoded.data() + s.encoded_at, s.encoded.size() - s.encoded_at);
    const std::size_t produced = s.transcoder->convert(in, out, n, s.encoded_end);
    s.encoded_at = s.encoded.size() - in.size();
    if (produced > 0 || (s.encoded_end && in.empty())) return produced;
    // Out of input (or an incomplete character at its end): keep what is left, read more.
    s.encoded.erase(0, s.encoded_at);
    s.encoded_at = 0;
    const std::size_t kept = s.encoded.size();
    s.encoded.resize(kept + kEncodedBlock);
    const std::size_t got = read_decompressed(s.encoded.data() + kept, kEncodedBlock);
    s.encoded.resize(kept + got);
    s.encoded_end = got == 0;
  }
}

std::size_t FileBytes::read_decompressed(char* out, std::size_t n) {
  State& s = *state_;
  if (n == 0) return 0;
#ifdef TABULA_WITH_COMPRESSION
  if (s.decoder) {
    for (;;) {
      if (s.at == s.filled && !s.raw_end) s.refill();
      std::string_view in(s.pending.data() + s.at, s.filled - s.at);
      const std::size_t before = in.size();
      std::size_t produced = 0;
      try {
        produced = s.decoder->step(in, out, n, s.raw_end);
      } catch (const std::runtime_error& e) {
        throw InputError("'" + s.path + "': " + std::string(compression_name(s.compression)) +
                         " data is corrupt in compressed bytes " + std::to_string(s.consumed) +
                         " to " + std::to_string(s.consumed + before) + " (" + e.what() + ")");
      }
      s.at += before - in.size();
      s.consumed += before - in.size();
      if (produced > 0) return produced;
      if (s.raw_end && s.at == s.filled) {
        if (s.decoder->mid_stream())
          throw InputError("'" + s.path + "': the " + std::string(compression_name(s.compression)) +
                           " data ends early, after " + std::to_string(s.consumed) +
                           " compressed bytes (a truncated file?)");
        return 0;
      }
    }
  }
#endif
  // Plain bytes: what is pending first, then straight from the file.
  if (s.at < s.filled) {
    const std::size_t take = std::min(n, s.filled - s.at);
    std::memcpy(out, s.pending.data() + s.at, take);
    s.at += take;
    return take;
  }
  return s.raw_end ? 0 : s.raw->read(out, n);
}

std::string read_all(FileBytes& bytes, const std::string& path, std::uint64_t limit) {
  std::string text;
  constexpr std::size_t kBlock = std::size_t{4} << 20;
  for (;;) {
    const std::size_t old = text.size();
    text.resize(old + kBlock);
    const std::size_t got = bytes.read(text.data() + old, kBlock);
    text.resize(old + got);
    if (got == 0) return text;
    if (text.size() > limit)
      throw InputError("'" + path + "' decompresses to more than " + std::to_string(limit >> 20) +
                       " MiB, more than a whole-file read may hold in memory here; decompress it "
                       "to disk first (predict and transform stream compressed files)");
  }
}

std::optional<std::string> gunzip_whole(std::string_view file, std::uint64_t limit) {
#ifdef TABULA_WITH_LIBDEFLATE
  struct Free {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  const std::unique_ptr<libdeflate_decompressor, Free> inflater(libdeflate_alloc_decompressor());
  if (!inflater) return std::nullopt;
  // A gzip file ends with its last member's size mod 2^32: exact for the usual one-member file
  // under 4 GiB. Too small a guess costs a retry of that member into twice the room.
  std::uint32_t trailer_size = 0;
  if (file.size() >= 18) std::memcpy(&trailer_size, file.data() + file.size() - 4, 4);
  std::string text;
  while (!file.empty()) {
    std::uint64_t room =
        std::max<std::uint64_t>({trailer_size, 3 * std::uint64_t{file.size()}, 1 << 16});
    for (;;) {
      room = std::min<std::uint64_t>(room, limit + 1 - std::min<std::uint64_t>(limit, text.size()));
      const std::size_t old = text.size();
      text.resize(old + room);
      std::size_t used = 0, produced = 0;
      const libdeflate_result rc = libdeflate_gzip_decompress_ex(
          inflater.get(), file.data(), file.size(), text.data() + old, room, &used, &produced);
      if (rc == LIBDEFLATE_SUCCESS) {
        text.resize(old + produced);
        if (text.size() > limit) return std::nullopt;
        file.remove_prefix(used);
        break;
      }
      text.resize(old);
      // Bad or truncated data, or past the limit: the streaming reader says where and why.
      if (rc != LIBDEFLATE_INSUFFICIENT_SPACE || old + room > limit) return std::nullopt;
      room *= 2;
    }
  }
  return text;
#else
  (void)file;
  (void)limit;
  return std::nullopt;
#endif
}

}  // namespace tabula::io

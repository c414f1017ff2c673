// Compressed input: every format round-trips through FileBytes (large, in small reads, several
// streams concatenated), truncated and corrupt data are InputErrors naming the file, and both
// CSV readers give the same table from a compressed file as from the plain one.
#include "io/compressed_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "io/transcode.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/io/csv_stream.hpp"

#ifdef TABULA_WITH_COMPRESSION
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#endif

namespace tabula::io {
namespace {

#ifdef TABULA_WITH_COMPRESSION
std::string gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string xz(const std::string& text) {
  std::string out(lzma_stream_buffer_bound(text.size()), '\0');
  std::size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, nullptr,
                                    reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                                    reinterpret_cast<std::uint8_t*>(out.data()), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

std::string bzip2(const std::string& text) {
  auto size = static_cast<unsigned>(text.size() * 1.01 + 600);
  std::string out(size, '\0');
  EXPECT_EQ(BZ2_bzBuffToBuffCompress(out.data(), &size, const_cast<char*>(text.data()),
                                     static_cast<unsigned>(text.size()), 1, 0, 0),
            BZ_OK);
  out.resize(size);
  return out;
}

std::string zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const std::size_t size = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 1);
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(size);
  return out;
}

struct Format {
  const char* name;
  Compression compression;
  std::string (*compress)(const std::string&);
};
const Format kFormats[] = {{"gzip", Compression::kGzip, gzip},
                           {"xz", Compression::kXz, xz},
                           {"bzip2", Compression::kBzip2, bzip2},
                           {"zstd", Compression::kZstd, zstd}};
#endif

using tabula::testing::TempFile;

// A CSV of a few MB (several raw blocks compressed, more decompressed).
std::string make_csv(int rows) {
  std::mt19937 rng(5);
  std::string text = "id,x,word\n";
  for (int i = 0; i < rows; ++i)
    text += std::to_string(i) + "," + std::to_string(rng() % 100000) + ",w" +
            std::to_string(rng() % 37) + "\n";
  return text;
}

std::string read_through(const std::string& path, std::size_t step) {
  FileBytes bytes(path);
  std::string out, block(step, '\0');
  for (std::size_t got; (got = bytes.read(block.data(), step)) > 0;) out.append(block, 0, got);
  return out;
}

std::string read_through_encoded(const std::string& path, const std::string& encoding) {
  FileBytes bytes(path, encoding);
  std::string out, block(4096, '\0');
  for (std::size_t got; (got = bytes.read(block.data(), block.size())) > 0;)
    out.append(block, 0, got);
  return out;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CompressedFile, PlainFilesPassThrough) {
  const std::string text = make_csv(1000);
  const TempFile file("plain.csv", text);
  EXPECT_EQ(read_through(file.path.string(), 7), text);
  EXPECT_EQ(FileBytes(file.path.string()).compression(), Compression::kNone);
  EXPECT_EQ(compression_of("BZh9 a header"), Compression::kNone);  // text, not bzip2
}

TEST(CompressedFile, EveryFormatRoundTripsAndConcatenates) {
  if (!compression_supported()) GTEST_SKIP() << "built without the compression libraries";
#ifdef TABULA_WITH_COMPRESSION
  const std::string text = make_csv(200000);  // ~3.5 MB
  const std::string tail = make_csv(10);
  for (const Format& f : kFormats) {
    SCOPED_TRACE(f.name);
    const TempFile one("one.csv", f.compress(text));
    EXPECT_EQ(FileBytes(one.path.string()).compression(), f.compression);
    EXPECT_EQ(read_through(one.path.string(), std::size_t{1} << 16), text);
    EXPECT_EQ(read_through(one.path.string(), 1000003), text);
    // Two streams back to back read as one text, as gunzip, unxz, bunzip2 and unzstd do.
    const TempFile two("two.csv", f.compress(text) + f.compress(tail));
    EXPECT_EQ(read_through(two.path.string(), 4096), text + tail);
  }
#endif
}

TEST(CompressedFile, TruncatedOrCorruptDataIsAnErrorNamingTheFile) {
  if (!compression_supported()) GTEST_SKIP() << "built without the compression libraries";
#ifdef TABULA_WITH_COMPRESSION
  const std::string text = make_csv(20000);
  for (const Format& f : kFormats) {
    SCOPED_TRACE(f.name);
    const std::string packed = f.compress(text);
    const TempFile cut("cut.csv", packed.substr(0, packed.size() / 2));
    const std::string truncated = error_of([&] { read_through(cut.path.string(), 1 << 16); });
    EXPECT_NE(truncated.find(cut.path.string()), std::string::npos) << truncated;
    EXPECT_TRUE(truncated.find("ends early") != std::string::npos ||
                truncated.find("corrupt") != std::string::npos)
        << truncated;
    // Compressed twice: the inner layer is named as what it is, not read as text.
    const TempFile twice("twice.csv", f.compress(packed));
    const std::string nested = error_of([&] { read_csv(twice.path.string()); });
    EXPECT_NE(nested.find(std::string(compression_name(f.compression)) + "-compressed file, not a "
                                                                         "CSV file"),
              std::string::npos)
        << nested;
    std::string flipped = packed;
    for (std::size_t i = 20; i < flipped.size(); i += 97)
      flipped[i] = static_cast<char>(~flipped[i]);
    const TempFile bad("bad.csv", flipped);
    const std::string corrupt = error_of([&] { read_through(bad.path.string(), 1 << 16); });
    EXPECT_NE(corrupt.find("corrupt"), std::string::npos) << corrupt;
  }
#endif
}

// Code points as UTF-8 and as UTF-16LE with a byte order mark.
std::pair<std::string, std::string> utf8_and_utf16(const std::vector<char32_t>& points) {
  std::string utf8, utf16 = "\xFF\xFE";
  const auto unit = [&](std::uint32_t u) {
    utf16 += static_cast<char>(u & 0xFF);
    utf16 += static_cast<char>(u >> 8);
  };
  for (const char32_t c : points) {
    if (c < 0x80) {
      utf8 += static_cast<char>(c);
    } else if (c < 0x800) {
      utf8 += static_cast<char>(0xC0 | (c >> 6));
      utf8 += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      utf8 += static_cast<char>(0xE0 | (c >> 12));
      utf8 += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      utf8 += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      utf8 += static_cast<char>(0xF0 | (c >> 18));
      utf8 += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      utf8 += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      utf8 += static_cast<char>(0x80 | (c & 0x3F));
    }
    if (c < 0x10000) {
      unit(c);
    } else {
      unit(0xD800 + ((c - 0x10000) >> 10));
      unit(0xDC00 + ((c - 0x10000) & 0x3FF));
    }
  }
  return {utf8, utf16};
}

TEST(CompressedFile, OtherEncodingsAreReadAsUtf8) {
  // Four-byte surrogate pairs straddle the 1 MiB blocks the conversion reads (the BOM shifts
  // them by two bytes), and every read size splits characters somewhere.
  std::vector<char32_t> points;
  for (int i = 0; points.size() < 700000; ++i)
    for (char32_t c : {U'x', U'\U0001F600', U'\u00E9', U',', U'\u20AC', U'\n'}) points.push_back(c);
  const auto [utf8, utf16] = utf8_and_utf16(points);
  const TempFile file("utf16.csv", utf16);
  for (const std::size_t step : {std::size_t{4}, std::size_t{7}, std::size_t{65536}}) {
    SCOPED_TRACE(step);
    FileBytes bytes(file.path.string(), "UTF-16");
    std::string out, block(step, '\0');
    for (std::size_t got; (got = bytes.read(block.data(), step)) > 0;) out.append(block, 0, got);
    EXPECT_EQ(out, utf8);
  }
  // Whole and streamed CSV readers agree with the UTF-8 file.
  const std::string table =
      "city,n\n" + utf8_and_utf16({U'N', U'\u00EE', U'm', U'e', U's'}).first + ",1\nOslo,2\n";
  std::string latin1 = table;
  latin1.replace(latin1.find("\xC3\xAE"), 2, "\xEE");  // î in Latin-1
  const TempFile plain("plain.csv", table), encoded("latin1.csv", latin1);
  CsvOptions options;
  options.encoding = "latin1";
  EXPECT_EQ(read_csv(encoded.path.string(), options).column("city").categories,
            read_csv(plain.path.string()).column("city").categories);
  // A byte that is not valid in the encoding, and an unknown encoding, are errors naming them.
  const TempFile bad("bad.csv", "\xFF\xFE" + std::string("a\0\x00\xDC", 4));  // lone low surrogate
  EXPECT_NE(error_of([&] { read_through_encoded(bad.path.string(), "UTF-16"); }).find("byte 5"),
            std::string::npos);
  EXPECT_NE(error_of([&] { FileBytes(plain.path.string(), "klingon"); }).find("unknown --encoding"),
            std::string::npos);
  EXPECT_TRUE(is_utf8_name("UTF-8") && is_utf8_name("utf8") && is_utf8_name(""));
  EXPECT_FALSE(is_utf8_name("utf-16"));
}

TEST(CompressedFile, WholeGzipFilesInOnePass) {
#ifndef TABULA_WITH_LIBDEFLATE
  GTEST_SKIP() << "built without libdeflate: whole gzip files go through zlib's stream";
#else
  const std::string text = make_csv(200000), tail = make_csv(10);
  EXPECT_EQ(gunzip_whole(gzip(text), 1 << 30), text);
  // Two members: the trailer holds the last one's size, far too small a guess for the first.
  EXPECT_EQ(gunzip_whole(gzip(text) + gzip(tail), 1 << 30), text + tail);
  EXPECT_EQ(gunzip_whole(gzip(""), 1 << 30), "");
  // Whatever it cannot read whole is left to the streaming reader, which says what is wrong.
  const std::string packed = gzip(text);
  EXPECT_FALSE(gunzip_whole(packed.substr(0, packed.size() / 2), 1 << 30));
  EXPECT_FALSE(gunzip_whole(packed + "trailing bytes", 1 << 30));
  std::string flipped = packed;
  flipped[flipped.size() / 2] = static_cast<char>(~flipped[flipped.size() / 2]);
  EXPECT_FALSE(gunzip_whole(flipped, 1 << 30));
  EXPECT_FALSE(gunzip_whole(packed, text.size() - 1));  // over the memory limit
  EXPECT_EQ(gunzip_whole(packed, text.size()), text);
#endif
}

TEST(CompressedFile, BothCsvReadersReadCompressedFilesAsPlainOnes) {
  if (!compression_supported()) GTEST_SKIP() << "built without the compression libraries";
#ifdef TABULA_WITH_COMPRESSION
  const std::string text = make_csv(50000);
  const TempFile plain("plain.csv", text);
  const Dataset want = read_csv(plain.path.string());
  for (const Format& f : kFormats) {
    SCOPED_TRACE(f.name);
    const TempFile packed("data.csv", f.compress(text));
    const Dataset got = read_csv(packed.path.string());
    ASSERT_EQ(got.rows(), want.rows());
    EXPECT_EQ(got.column("x").numeric, want.column("x").numeric);
    EXPECT_EQ(got.column("word").codes, want.column("word").codes);
    CsvStreamOptions options;
    options.chunk_rows = 7000;
    CsvStream stream(packed.path.string(), options);
    EXPECT_EQ(stream.file_size(), 0u);  // offsets are decompressed bytes: no total
    stream.select({{"x", StreamColumnKind::kNumeric}});
    CsvChunk chunk;
    std::vector<double> xs;
    while (stream.next(chunk)) {
      const auto& x = chunk.data.column("x").numeric;
      xs.insert(xs.end(), x.begin(), x.end());
    }
    EXPECT_EQ(xs, want.column("x").numeric);
  }
#endif
}

}  // namespace
}  // namespace tabula::io

// The artifact format: round trips, layout, and a distinct refusal for each kind of bad file.
#include "tabula/artifact/artifact.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "artifact/crc32.hpp"
#include "artifact/fnv1a.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

namespace fs = std::filesystem;

class ArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::unique_temp_path("dir");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  /// A small artifact with one array of each type.
  std::string write_sample(const std::string& name = "model.tbl") {
    ArtifactWriter w;
    w.set("model", {{"kind", "dummy"}, {"task", "regression"}});
    w.header()["schema"] = {{"features", {"a", "b"}}};
    const std::vector<double> coef{1.5, -2.25, 3.0};
    const std::vector<float> f{0.5f, 1.0f};
    const std::vector<std::int32_t> i32{-7, 8, 9, 10};
    const std::vector<std::int64_t> i64{1LL << 40};
    const std::vector<std::uint8_t> u8{1, 2, 3, 255, 0};
    w.add("coef_", coef, {3});
    w.add("f", f, {1, 2});
    w.add("i32", i32, {2, 2});
    w.add("i64", i64, {1});
    w.add("u8", u8, {5});
    const std::string p = path(name);
    w.write(p);
    return p;
  }

  static std::vector<char> bytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void put(const std::string& p, const std::vector<char>& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
  }
  static void expect_refused(const std::string& p, const std::string& needle) {
    try {
      ArtifactReader r(p);
      FAIL() << "expected InputError containing '" << needle << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(ArtifactTest, RoundTripsEveryType) {
  const std::string p = write_sample();
  ArtifactReader r(p);
  EXPECT_EQ(r.header()["model"]["kind"], "dummy");
  EXPECT_EQ(r.header()["schema"]["features"][1], "b");
  EXPECT_EQ(r.doubles("coef_"), (std::vector<double>{1.5, -2.25, 3.0}));
  EXPECT_EQ(r.floats("f"), (std::vector<float>{0.5f, 1.0f}));
  EXPECT_EQ(r.int32s("i32"), (std::vector<std::int32_t>{-7, 8, 9, 10}));
  EXPECT_EQ(r.int64s("i64"), (std::vector<std::int64_t>{1LL << 40}));
  EXPECT_EQ(r.uint8s("u8"), (std::vector<std::uint8_t>{1, 2, 3, 255, 0}));
  EXPECT_EQ(r.shape("i32"), (std::vector<std::int64_t>{2, 2}));
  // Widening conversions are allowed, narrowing ones refused.
  EXPECT_EQ(r.doubles("i32")[0], -7.0);
  EXPECT_EQ(r.int64s("u8")[3], 255);
  EXPECT_THROW(r.int32s("coef_"), InputError);
  EXPECT_THROW(r.floats("coef_"), InputError);
  EXPECT_FALSE(r.has("missing"));
  EXPECT_THROW(r.doubles("missing"), InputError);
}

TEST_F(ArtifactTest, LayoutIsAlignedLittleEndianWithTrailingChecksum) {
  const std::string p = write_sample();
  const std::vector<char> b = bytes(p);
  ASSERT_GE(b.size(), 28u);
  EXPECT_EQ(std::memcmp(b.data(), "TABULA\0\1", 8), 0);
  std::uint32_t version;
  std::uint64_t header_len, checksum;
  std::memcpy(&version, b.data() + 8, 4);
  std::memcpy(&header_len, b.data() + 12, 8);
  std::memcpy(&checksum, b.data() + b.size() - 8, 8);
  EXPECT_EQ(version, kArtifactBaseFormatVersion);
  // Format version 2: CRC-32 as in zlib, zero-extended (version 1 files carried FNV-1a 64).
  EXPECT_EQ(checksum, detail::crc32(b.data(), b.size() - 8));
  EXPECT_EQ(detail::crc32("123456789", 9), 0xCBF43926u) << "the standard CRC-32 check value";
  const auto header = nlohmann::json::parse(b.begin() + 20, b.begin() + 20 + header_len);
  const std::size_t data_start = (20 + header_len + 63) / 64 * 64;
  for (const auto& [name, entry] : header["arrays"].items()) {
    const auto offset = entry["offset"].get<std::size_t>();
    EXPECT_EQ((data_start + offset) % 64, 0u) << name;
  }
  double first;
  std::memcpy(&first,
              b.data() + data_start + header["arrays"]["coef_"]["offset"].get<std::size_t>(), 8);
  EXPECT_EQ(first, 1.5);
  EXPECT_EQ(b.size(), data_start + header["data_bytes"].get<std::size_t>() + 8);
}

TEST_F(ArtifactTest, RefusesTruncatedFiles) {
  const std::string p = write_sample();
  const std::vector<char> b = bytes(p);
  for (std::size_t keep :
       {std::size_t{4}, std::size_t{15}, std::size_t{60}, b.size() - 40, b.size() - 1}) {
    put(p, std::vector<char>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(keep)));
    expect_refused(p, "truncated");
  }
}

TEST_F(ArtifactTest, RefusesBadMagic) {
  const std::string p = path("notes.csv");
  put(p, {'a', ',', 'b', '\n', '1', ',', '2', '\n'});
  expect_refused(p, "not a tabula model artifact");
  put(p, {});
  expect_refused(p, "not a tabula model artifact");
}

TEST_F(ArtifactTest, RefusesChecksumMismatch) {
  const std::string p = write_sample();
  std::vector<char> b = bytes(p);
  b[b.size() - 20] ^= 0x01;  // a byte of array data
  put(p, b);
  expect_refused(p, "checksum mismatch");
  b = bytes(write_sample());
  b[25] = b[25] == 'x' ? 'y' : 'x';  // a byte of the JSON header
  put(p, b);
  expect_refused(p, "corrupted");
}

TEST_F(ArtifactTest, RefusesFutureVersion) {
  const std::string p = write_sample();
  std::vector<char> b = bytes(p);
  const std::uint32_t future = kArtifactFormatVersion + 1;
  std::memcpy(b.data() + 8, &future, 4);
  put(p, b);
  expect_refused(p, "format version " + std::to_string(kArtifactFormatVersion + 1));
}

TEST_F(ArtifactTest, ExpectKindNamesBothKinds) {
  ArtifactReader r(write_sample());
  EXPECT_NO_THROW(r.expect_kind({"linear", "dummy"}));
  try {
    r.expect_kind({"pca"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("holds a dummy model, expected pca"), std::string::npos)
        << e.what();
  }
}

TEST_F(ArtifactTest, WriteIsAtomic) {
  const std::string p = write_sample();
  const std::vector<char> before = bytes(p);
  // A failed write (folder missing) leaves nothing behind; a good rewrite leaves no temp file.
  ArtifactWriter w;
  w.set("model", {{"kind", "dummy"}});
  EXPECT_THROW(w.write(path("no/such/folder/model.tbl")), Error);
  w.write(p);
  EXPECT_NE(bytes(p), before);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "model.tbl");
  }
  EXPECT_EQ(files, 1u);
  EXPECT_NO_THROW(ArtifactReader{p});
}

/// A file with the given header and data section and a valid checksum, built by hand.
void write_raw(const std::string& p, const nlohmann::json& header, std::size_t data_bytes) {
  const std::string text = header.dump();
  std::string out("TABULA\0\1", 8);
  const std::uint32_t version = 1;
  const std::uint64_t length = text.size();
  out.append(reinterpret_cast<const char*>(&version), 4);
  out.append(reinterpret_cast<const char*>(&length), 8);
  out += text;
  out.resize((out.size() + 63) / 64 * 64 + data_bytes, '\0');
  const std::uint64_t checksum = detail::fnv1a64(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(&checksum), 8);
  std::ofstream(p, std::ios::binary).write(out.data(), static_cast<std::streamsize>(out.size()));
}

TEST_F(ArtifactTest, RefusesMalformedIndexEvenWithAValidChecksum) {
  const std::string p = path("crafted.tbl");
  auto header = [](nlohmann::json entry) {
    return nlohmann::json{{"data_bytes", 64}, {"arrays", {{"a", entry}}}};
  };
  write_raw(p, header({{"dtype", "float64"}, {"shape", {8}}, {"offset", 0}, {"nbytes", 64}}), 64);
  EXPECT_EQ(ArtifactReader(p).doubles("a").size(), 8u);  // the hand-built file is valid
  const nlohmann::json bad[] = {
      {{"dtype", "float64"}, {"shape", {8}}, {"offset", 64}, {"nbytes", 64}},  // past the end
      {{"dtype", "float64"}, {"shape", {9}}, {"offset", 0}, {"nbytes", 64}},   // shape vs bytes
      {{"dtype", "float64"}, {"shape", {8}}, {"offset", 0xFFFFFFFFFFFFFFC0ULL}, {"nbytes", 64}},
      {{"dtype", "float64"},
       {"shape", {0x2000000000000000ULL, 8}},
       {"offset", 0},
       {"nbytes", 0}},  // count overflows to 0
      {{"dtype", "complex"}, {"shape", {4}}, {"offset", 0}, {"nbytes", 64}},
      {{"dtype", "uint8"}, {"shape", {64}}, {"offset", 1}, {"nbytes", 64}},  // misaligned
  };
  for (const nlohmann::json& entry : bad) {
    write_raw(p, header(entry), 64);
    expect_refused(p, "malformed header");
  }
  write_raw(p, nlohmann::json{{"data_bytes", 0}}, 0);
  expect_refused(p, "malformed header");
  write_raw(p, nlohmann::json{{"data_bytes", 1ULL << 62}, {"arrays", nlohmann::json::object()}}, 0);
  expect_refused(p, "truncated");
}

TEST_F(ArtifactTest, RejectsInconsistentArrays) {
  ArtifactWriter w;
  const std::vector<double> v{1, 2, 3};
  EXPECT_THROW(w.add("v", v, {2, 2}), Error);
  w.add("v", v, {3});
  EXPECT_THROW(w.add("v", v, {3}), Error);
}

}  // namespace
}  // namespace tabula

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/npy.hpp"

namespace tabula::io {
namespace {

const std::string kNpy = std::string(TABULA_TEST_DATA_DIR) + "/npy";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh folder under the system temp dir, removed afterwards.
class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::unique_temp_path("dir");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

// The arrays make_npy_fixtures.py writes.
std::vector<double> f8_2d_values() {
  std::vector<double> values(12);
  for (int i = 0; i < 12; ++i) values[i] = i * 0.5 - 1.0;
  return values;
}

std::string error_of(const std::string& file) {
  try {
    read_npy(file);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError for " << file;
  return "";
}

TEST_F(NpyTest, ReadsNumpyFloat64Matrix) {
  const NpyArray a = read_npy(kNpy + "/f8_2d.npy");
  EXPECT_EQ(a.dtype, NpyDtype::kFloat64);
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(a.f64, f8_2d_values());
  EXPECT_TRUE(a.f32.empty());
}

TEST_F(NpyTest, ReadsFortranOrderAsCOrder) {
  const NpyArray a = read_npy(kNpy + "/f8_fortran.npy");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(a.f64, f8_2d_values());
}

TEST_F(NpyTest, ReadsFloat32VectorAndVersion2) {
  const NpyArray v = read_npy(kNpy + "/f4_1d.npy");
  EXPECT_EQ(v.dtype, NpyDtype::kFloat32);
  ASSERT_EQ(v.shape, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(v.cols(), 1);
  EXPECT_EQ(v.f32[0], 1.5f);
  EXPECT_EQ(v.f32[1], -2.25f);
  EXPECT_TRUE(std::isnan(v.f32[2]));
  EXPECT_TRUE(std::isinf(v.f32[3]));

  const NpyArray m = read_npy(kNpy + "/f4_v2.npy");
  EXPECT_EQ(m.shape, (std::vector<std::int64_t>{3, 4}));
  const std::vector<double> expected = f8_2d_values();
  ASSERT_EQ(m.to_double(), expected);
}

TEST_F(NpyTest, ReadsEmptyArray) {
  const NpyArray a = read_npy(kNpy + "/f8_empty.npy");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_TRUE(a.f64.empty());
}

// Our writer lays files out exactly as numpy.save does, so numpy reads what we write.
TEST_F(NpyTest, WriterIsByteIdenticalToNumpySave) {
  const std::vector<double> m = f8_2d_values();
  write_npy(path("m.npy"), std::span<const double>(m), 3, 4);
  EXPECT_EQ(read_bytes(path("m.npy")), read_bytes(kNpy + "/f8_2d.npy"));

  const std::vector<float> v = {1.5f, -2.25f, NAN, INFINITY, 0.0f};
  write_npy(path("v.npy"), std::span<const float>(v), 5);
  EXPECT_EQ(read_bytes(path("v.npy")), read_bytes(kNpy + "/f4_1d.npy"));

  write_npy(path("e.npy"), std::span<const double>(), 0, 3);
  EXPECT_EQ(read_bytes(path("e.npy")), read_bytes(kNpy + "/f8_empty.npy"));
}

TEST_F(NpyTest, RoundTripsLargeShapesAndLeavesNoTemporaryFiles) {
  std::vector<float> values(1000 * 7);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.25f - 3.f;
  write_npy(path("big.npy"), std::span<const float>(values), 1000, 7);
  const NpyArray back = read_npy(path("big.npy"));
  EXPECT_EQ(back.shape, (std::vector<std::int64_t>{1000, 7}));
  EXPECT_EQ(back.f32, values);
  // Data starts at a multiple of 64 bytes, as numpy requires for version 1.0 files.
  EXPECT_EQ((std::filesystem::file_size(path("big.npy")) - values.size() * 4) % 64, 0u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(NpyTest, FailedWriteLeavesTheOldFile) {
  const std::vector<double> m = f8_2d_values();
  write_npy(path("keep.npy"), std::span<const double>(m), 3, 4);
  const std::string before = read_bytes(path("keep.npy"));
  EXPECT_THROW(write_npy(path("keep.npy"), std::span<const double>(m), 5, 4), InputError);
  EXPECT_EQ(read_bytes(path("keep.npy")), before);
  EXPECT_THROW(write_npy(path("no_such_dir/x.npy"), std::span<const double>(m), 12), InputError);
}

TEST_F(NpyTest, ClearErrors) {
  EXPECT_NE(error_of(kNpy + "/i8.npy").find("dtype '<i8' is not supported"), std::string::npos);
  EXPECT_NE(error_of(kNpy + "/f8_big_endian.npy").find("big-endian"), std::string::npos);
  EXPECT_NE(error_of(kNpy + "/f8_3d.npy").find("3-D arrays are not supported"), std::string::npos);
  const std::string truncated = error_of(kNpy + "/truncated.npy");
  EXPECT_NE(truncated.find("truncated.npy"), std::string::npos) << truncated;
  EXPECT_NE(truncated.find("needs 96 bytes, the file has 88"), std::string::npos) << truncated;
  EXPECT_NE(error_of(kNpy + "/bad_magic.npy").find("bad magic"), std::string::npos);
  EXPECT_NE(error_of(kNpy + "/missing.npy").find("cannot open"), std::string::npos);
}

TEST_F(NpyTest, ToDataset) {
  const Dataset d = npy_to_dataset(read_npy(kNpy + "/f8_2d.npy"), "f8_2d.npy");
  ASSERT_EQ(d.cols(), 4);
  ASSERT_EQ(d.rows(), 3);
  EXPECT_EQ(d.columns[1].name, "x1");
  EXPECT_EQ(d.columns[1].numeric, (std::vector<double>{-0.5, 1.5, 3.5}));
  const std::vector<float> matrix = d.numeric_matrix_row_major();
  EXPECT_EQ(matrix[1 * 4 + 2], 2.0f);  // element (1, 2)
}

}  // namespace
}  // namespace tabula::io

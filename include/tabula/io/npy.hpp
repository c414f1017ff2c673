// Reading and writing NumPy .npy files: float32/float64, 1-D or 2-D, little-endian.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tabula/core/dataset.hpp"

namespace tabula::io {

enum class NpyDtype { kFloat32, kFloat64 };

/// An array read from a .npy file, in host memory, always in C (row-major) order: a file
/// written with fortran_order=True is transposed on reading. Exactly one of f32/f64 is filled,
/// as `dtype` says, with shape[0] (x shape[1]) elements.
struct NpyArray {
  NpyDtype dtype = NpyDtype::kFloat64;
  std::vector<std::int64_t> shape;  // 1 or 2 entries; an entry may be 0
  std::vector<float> f32;
  std::vector<double> f64;

  std::int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  /// 1 for a 1-D array.
  std::int64_t cols() const { return shape.size() == 2 ? shape[1] : 1; }
  /// The values as float64 (a copy), C order.
  std::vector<double> to_double() const;
};

/// Reads a .npy file (format versions 1.0, 2.0 and 3.0). InputError naming the file for a bad
/// magic string or header, a dtype other than '<f4'/'<f8', more than 2 dimensions, or data
/// shorter than the shape says.
NpyArray read_npy(const std::string& path);

/// Writes `data` (row-major, rows x cols elements; cols == 0 writes a 1-D array of `rows`) as
/// a version 1.0 .npy file laid out exactly as numpy.save does. The file is written under a
/// temporary name in the same folder and renamed, so `path` never holds a partial file.
void write_npy(const std::string& path, std::span<const float> data, std::int64_t rows,
               std::int64_t cols = 0);
void write_npy(const std::string& path, std::span<const double> data, std::int64_t rows,
               std::int64_t cols = 0);

/// A numeric Dataset with one column per array column, named x0, x1, ... (a 1-D array gives
/// one column, x0).
Dataset npy_to_dataset(const NpyArray& array, const std::string& source);

}  // namespace tabula::io

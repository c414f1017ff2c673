// The .npy format (numpy/lib/format.py): magic "\x93NUMPY", two version bytes, a little-endian
// header length (2 bytes in 1.0, 4 in 2.0/3.0), a Python dict literal padded with spaces and
// a newline so the data starts at a multiple of 64 bytes, then the raw array.
#include "tabula/io/npy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "io/mapped_file.hpp"
#include "tabula/core/error.hpp"

namespace tabula::io {
namespace {

static_assert(std::endian::native == std::endian::little, ".npy I/O assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kAlign = 64;             // numpy's ARRAY_ALIGN
constexpr std::size_t kGrowthAxisDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(describe_location(path, 0, 0, "", "not a readable .npy file: " + what));
}

// Finds `'key':` in the header dict and returns the text after it, spaces skipped.
std::string_view value_of(std::string_view header, std::string_view key, const std::string& path) {
  for (const char quote : {'\'', '"'}) {
    std::string needle(1, quote);
    needle.append(key).push_back(quote);
    std::size_t at = header.find(needle);
    if (at == std::string_view::npos) continue;
    at = header.find(':', at + needle.size());
    if (at == std::string_view::npos) break;
    std::string_view rest = header.substr(at + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return rest;
  }
  fail(path, "header has no '" + std::string(key) + "' entry");
}

std::string parse_descr(std::string_view header, const std::string& path) {
  std::string_view rest = value_of(header, "descr", path);
  if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
    fail(path, "'descr' is not a simple dtype string (structured arrays are not supported)");
  const char quote = rest.front();
  const std::size_t close = rest.find(quote, 1);
  if (close == std::string_view::npos) fail(path, "unterminated 'descr' string");
  return std::string(rest.substr(1, close - 1));
}

bool parse_fortran_order(std::string_view header, const std::string& path) {
  const std::string_view rest = value_of(header, "fortran_order", path);
  if (rest.starts_with("True")) return true;
  if (rest.starts_with("False")) return false;
  fail(path, "'fortran_order' is neither True nor False");
}

std::vector<std::int64_t> parse_shape(std::string_view header, const std::string& path) {
  std::string_view rest = value_of(header, "shape", path);
  if (rest.empty() || rest.front() != '(') fail(path, "'shape' is not a tuple");
  const std::size_t close = rest.find(')');
  if (close == std::string_view::npos) fail(path, "unterminated 'shape' tuple");
  std::vector<std::int64_t> shape;
  std::string_view inner = rest.substr(1, close - 1);
  while (!inner.empty()) {
    while (!inner.empty() && (inner.front() == ' ' || inner.front() == ',')) inner.remove_prefix(1);
    if (inner.empty()) break;
    std::int64_t value = 0;
    std::size_t digits = 0;
    while (digits < inner.size() && inner[digits] >= '0' && inner[digits] <= '9') {
      if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10)
        fail(path, "'shape' entry too large");
      value = value * 10 + (inner[digits] - '0');
      ++digits;
    }
    if (digits == 0) fail(path, "'shape' holds something other than integers");
    shape.push_back(value);
    inner.remove_prefix(digits);
  }
  return shape;
}

// Removes the temporary file unless it was renamed into place; closes the descriptor.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& target) : path_(target + ".tmp.XXXXXX") {
    fd_ = ::mkstemp(path_.data());
    if (fd_ < 0)
      throw InputError(describe_location(
          target, 0, 0, "",
          std::string("cannot create a temporary file next to it: ") + std::strerror(errno)));
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  void write(const void* data, std::size_t size, const std::string& target) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t written = ::write(fd_, bytes, size);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0)
        throw InputError(describe_location(target, 0, 0, "",
                                           std::string("write failed: ") + std::strerror(errno)));
      bytes += written;
      size -= static_cast<std::size_t>(written);
    }
  }

  void commit(const std::string& target) {
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      throw InputError(describe_location(target, 0, 0, "",
                                         std::string("write failed: ") + std::strerror(errno)));
    }
    fd_ = -1;
    if (::rename(path_.c_str(), target.c_str()) != 0)
      throw InputError(describe_location(target, 0, 0, "",
                                         std::string("cannot rename the temporary file into "
                                                     "place: ") +
                                             std::strerror(errno)));
    committed_ = true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

// The header numpy.save writes for a C-order array: dict, growth spaces, padding, newline.
std::string npy_header(const char* descr, std::int64_t rows, std::int64_t cols) {
  // Built with append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string dict = "{'descr': '";
  dict.append(descr).append("', 'fortran_order': False, 'shape': (").append(std::to_string(rows));
  if (cols == 0)
    dict.append(",)");
  else
    dict.append(", ").append(std::to_string(cols)).append(")");
  dict.append(", }");
  dict.append(kGrowthAxisDigits - std::to_string(rows).size(), ' ');
  const std::size_t unpadded = kMagicSize + 2 + 2 + dict.size() + 1;
  dict.append(kAlign - unpadded % kAlign, ' ');
  dict.push_back('\n');
  std::string header(kMagic, kMagicSize);
  header.push_back('\x01');
  header.push_back('\x00');
  if (dict.size() > std::numeric_limits<std::uint16_t>::max()) throw Error("npy header too long");
  header.push_back(static_cast<char>(dict.size() & 0xFF));
  header.push_back(static_cast<char>(dict.size() >> 8));
  return header + dict;
}

template <typename T>
void write_array(const std::string& path, std::span<const T> data, std::int64_t rows,
                 std::int64_t cols, const char* descr) {
  if (rows < 0 || cols < 0)
    throw InputError(describe_location(path, 0, 0, "", "negative array shape"));
  const std::int64_t count = cols == 0 ? rows : rows * cols;
  if (static_cast<std::int64_t>(data.size()) != count)
    throw InputError(describe_location(path, 0, 0, "",
                                       "array has " + std::to_string(data.size()) +
                                           " values, the shape says " + std::to_string(count)));
  const std::string header = npy_header(descr, rows, cols);
  TemporaryFile file(path);
  file.write(header.data(), header.size(), path);
  file.write(data.data(), data.size_bytes(), path);
  file.commit(path);
}

template <typename T>
std::vector<T> load_values(const char* bytes, std::int64_t rows, std::int64_t cols, bool fortran) {
  const auto count = static_cast<std::size_t>(rows * cols);
  std::vector<T> values(count);
  if (count == 0) return values;
  if (!fortran) {
    std::memcpy(values.data(), bytes, count * sizeof(T));
    return values;
  }
  // Column-major on disk: element (i, j) is at j * rows + i.
  std::vector<T> column_major(count);
  std::memcpy(column_major.data(), bytes, count * sizeof(T));
  for (std::int64_t j = 0; j < cols; ++j)
    for (std::int64_t i = 0; i < rows; ++i)
      values[static_cast<std::size_t>(i * cols + j)] =
          column_major[static_cast<std::size_t>(j * rows + i)];
  return values;
}

}  // namespace

std::vector<double> NpyArray::to_double() const {
  if (dtype == NpyDtype::kFloat64) return f64;
  return std::vector<double>(f32.begin(), f32.end());
}

NpyArray read_npy(const std::string& path) {
  const MappedFile file(path);
  const std::string_view text = file.text();
  if (text.size() < kMagicSize + 4 ||
      text.substr(0, kMagicSize) != std::string_view(kMagic, kMagicSize))
    fail(path, "bad magic string (expected \\x93NUMPY)");
  const auto major = static_cast<unsigned char>(text[6]);
  std::size_t header_size = 0, header_start = 0;
  const auto byte = [&](std::size_t i) {
    return static_cast<std::size_t>(static_cast<unsigned char>(text[i]));
  };
  if (major == 1) {
    header_size = byte(8) | byte(9) << 8;
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (text.size() < 12) fail(path, "truncated header");
    header_size = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    header_start = 12;
  } else {
    fail(path, "format version " + std::to_string(major) + " is not supported (1, 2 or 3)");
  }
  if (header_start + header_size > text.size()) fail(path, "truncated header");
  const std::string_view header = text.substr(header_start, header_size);

  NpyArray array;
  const std::string descr = parse_descr(header, path);
  std::size_t item = 0;
  if (descr == "<f4") {
    array.dtype = NpyDtype::kFloat32;
    item = 4;
  } else if (descr == "<f8") {
    array.dtype = NpyDtype::kFloat64;
    item = 8;
  } else if (descr == ">f4" || descr == ">f8") {
    fail(path, "dtype '" + descr + "' is big-endian; only little-endian '<f4'/'<f8' is supported");
  } else {
    fail(path, "dtype '" + descr + "' is not supported (float32 '<f4' or float64 '<f8')");
  }
  const bool fortran = parse_fortran_order(header, path);
  array.shape = parse_shape(header, path);
  if (array.shape.empty() || array.shape.size() > 2)
    fail(path, std::to_string(array.shape.size()) + "-D arrays are not supported (1-D or 2-D)");
  const std::int64_t rows = array.rows(), cols = array.cols();
  constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;
  if (rows > kMaxElements || cols > kMaxElements || (cols > 0 && rows > kMaxElements / cols))
    fail(path, "shape too large");
  const std::size_t expected = static_cast<std::size_t>(rows * cols) * item;
  const std::size_t available = text.size() - header_start - header_size;
  if (available < expected)
    fail(path, "truncated data: the shape needs " + std::to_string(expected) +
                   " bytes, the file has " + std::to_string(available));
  const char* bytes = text.data() + header_start + header_size;
  if (array.dtype == NpyDtype::kFloat32)
    array.f32 = load_values<float>(bytes, rows, cols, fortran);
  else
    array.f64 = load_values<double>(bytes, rows, cols, fortran);
  return array;
}

void write_npy(const std::string& path, std::span<const float> data, std::int64_t rows,
               std::int64_t cols) {
  write_array(path, data, rows, cols, "<f4");
}

void write_npy(const std::string& path, std::span<const double> data, std::int64_t rows,
               std::int64_t cols) {
  write_array(path, data, rows, cols, "<f8");
}

Dataset npy_to_dataset(const NpyArray& array, const std::string& source) {
  const std::vector<double> values = array.to_double();
  const auto rows = static_cast<std::size_t>(array.rows());
  const auto cols = static_cast<std::size_t>(array.cols());
  Dataset dataset;
  dataset.source = source;
  dataset.columns.resize(cols);
  for (std::size_t j = 0; j < cols; ++j) {
    Column& column = dataset.columns[j];
    column.name = std::string("x").append(std::to_string(j));
    column.type = ColumnType::kNumeric;
    column.numeric.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) column.numeric[i] = values[i * cols + j];
  }
  return dataset;
}

}  // namespace tabula::io

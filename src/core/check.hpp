// One checked-condition macro with a formatted message, for CPU and CUDA code alike (as FAISS's
// FAISS_THROW_IF_NOT_FMT): TABULA_CHECK(cond, "fmt", args...) throws tabula::Error, and
// TABULA_CHECK_AS(DeviceError, cond, ...) another tabula error type, with the message
// "<file>:<line>: <formatted message>" (file relative to the source tree). The CUDA, cuBLAS and
// cuSOLVER checks (src/backend/cuda/cuda_check.hpp) throw through throw_at too.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

#include "tabula/core/error.hpp"

namespace tabula {

/// "src/backend/cuda/cuda_check.cpp:12": `file` (a __FILE__) cut to the part from the source
/// tree's top folder (src/, kernels/, include/, tests/, benchmarks/), so messages do not name
/// the build machine's paths.
std::string source_location_text(const char* file, int line);

/// Throws `E` (a tabula::Error) with "<file>:<line>: <message>". Out of line in effect: the
/// callers' fast path is the macro's branch only.
template <typename E = Error>
[[noreturn]] void throw_at(const char* file, int line, std::string_view message) {
  throw E(source_location_text(file, line) + ": " + std::string(message));
}

template <typename E, typename... Args>
[[noreturn]] void throw_at_fmt(const char* file, int line, fmt::format_string<Args...> format,
                               Args&&... args) {
  throw_at<E>(file, line, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tabula

/// Throws `ErrorType` (tabula::Error or a subclass) with a formatted message when `cond` is false.
#define TABULA_CHECK_AS(ErrorType, cond, ...)                             \
  do {                                                                    \
    if (!(cond)) [[unlikely]]                                             \
      ::tabula::throw_at_fmt<ErrorType>(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

/// Throws tabula::Error "<file>:<line>: <formatted message>" when `cond` is false.
#define TABULA_CHECK(cond, ...) TABULA_CHECK_AS(::tabula::Error, cond, __VA_ARGS__)

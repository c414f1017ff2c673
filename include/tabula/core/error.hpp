// Error types. Every failure that reaches a user is one of these, with enough context
// (file, line, column, parameter, device) to act on without a debugger.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tabula {

/// Base of every tabula exception.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad user input: a data file, a parameter, a command-line value. The CLI prints the message
/// and exits non-zero; nothing is written.
class InputError : public Error {
 public:
  using Error::Error;
};

/// A device that was asked for cannot be used (missing, built without CUDA, out of memory).
class DeviceError : public Error {
 public:
  using Error::Error;
};

/// Formats the position of a problem in a text file: "data.csv:17: column 3 ('age'): <message>".
/// `line` is 1-based; `column` is 1-based, 0 when the problem is not in one column.
std::string describe_location(std::string_view file, std::int64_t line, std::int64_t column,
                              std::string_view column_name, std::string_view message);

}  // namespace tabula

/// Throws tabula::Error when `cond` is false: for broken internal invariants, not user input.
#define TABULA_ASSERT(cond, msg)                                                     \
  do {                                                                               \
    if (!(cond))                                                                     \
      throw ::tabula::Error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                            ": internal error: " + (msg));                           \
  } while (0)

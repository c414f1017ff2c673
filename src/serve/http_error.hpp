// An error that maps to one HTTP status: thrown by request handling, turned into
// {"error": "..."} with that status by the server.
#pragma once

#include <string>

#include "tabula/core/error.hpp"

namespace tabula::serve {

class HttpError : public Error {
 public:
  HttpError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

}  // namespace tabula::serve

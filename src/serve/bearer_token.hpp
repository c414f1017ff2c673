// The server's bearer token (--auth-token-file), checked the same way by the REST and gRPC
// front ends.
#pragma once

#include <string>
#include <string_view>

namespace tabula::serve {

class BearerToken {
 public:
  /// Reads the token from `path` (surrounding whitespace dropped); an empty path means no token.
  /// InputError when the file cannot be read or holds only whitespace.
  explicit BearerToken(const std::string& path);

  /// No token configured: every request is accepted.
  bool empty() const { return token_.empty(); }
  /// `authorization` is "Bearer <token>"; compared in time that does not depend on the content.
  bool accepts(std::string_view authorization) const;

 private:
  std::string token_;
};

}  // namespace tabula::serve

// Reading and comparing the bearer token.
#include "serve/bearer_token.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "tabula/core/error.hpp"

namespace tabula::serve {
namespace {

/// Compares without an early exit, so the time taken says nothing about the token.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

BearerToken::BearerToken(const std::string& path) {
  if (path.empty()) return;
  std::ifstream in(path);
  if (!in) throw InputError("--auth-token-file: cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front())))
    token.erase(token.begin());
  if (token.empty()) throw InputError("--auth-token-file: '" + path + "' is empty");
  token_ = "Bearer " + token;
}

bool BearerToken::accepts(std::string_view authorization) const {
  return token_.empty() || same_secret(authorization, token_);
}

}  // namespace tabula::serve

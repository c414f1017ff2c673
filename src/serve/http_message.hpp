// One HTTP request and its response as the routes see them, independent of the HTTP library:
// the transport (http_transport.cpp) fills HttpRequest only after every limit has been checked
// (header size, framing, decoded body size), and writes HttpResponse back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tabula::serve {

using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;                 // as sent, e.g. "GET"
  std::string path;                   // the target's path, still percent-encoded (for messages)
  std::vector<std::string> segments;  // the path split at '/', each percent-decoded and checked
  HttpFields query;                   // decoded name/value pairs, in order
  HttpFields headers;                 // names as sent; look them up with header()
  std::string body;                   // after chunking and Content-Encoding were undone

  /// The first header named `name` (ASCII case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
  /// The first query parameter named `name`; empty when absent.
  std::string param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  HttpFields headers;
  std::string body;

  void set(int code, std::string content, std::string type = "application/json") {
    status = code;
    body = std::move(content);
    content_type = std::move(type);
  }
};

/// Splits a request target (origin form, "/a/b?x=1") into `request.path`, `segments` and
/// `query`. Returns an error message (the request gets 400) when the target is not origin form,
/// a percent escape is malformed, or a decoded segment or query value is not valid UTF-8 or
/// holds a control character (NUL included); a segment may also not be "." or ".." nor hold
/// '/', so a decoded name can never walk out of the model repository.
std::optional<std::string> parse_target(std::string_view target, HttpRequest& request);

/// {"error": message} as JSON text; bytes of `message` that are not UTF-8 are replaced, so
/// building an error never fails (a decoded name may hold anything).
std::string error_body(std::string_view message);

/// Whether `text` is valid UTF-8 (no overlong forms, no surrogates) without control characters.
bool is_clean_text(std::string_view text);

}  // namespace tabula::serve

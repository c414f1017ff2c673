// Request bodies sent with Content-Encoding: gzip or deflate, inflated under a size limit so
// that a small compressed body cannot become gigabytes in memory (a "gzip bomb").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tabula::serve {

/// Returns `body` decoded per `encoding` ("", "identity", "gzip", "x-gzip", "deflate"; names
/// are case-insensitive). HttpError 413 when the decoded body would exceed `max_bytes` (found
/// while inflating, never after), 400 when the data is not valid for its encoding, 415 for any
/// other encoding (a list of several included).
std::string decode_content(std::string body, std::string_view encoding, std::int64_t max_bytes);

}  // namespace tabula::serve

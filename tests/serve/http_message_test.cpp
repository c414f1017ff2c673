// Request targets (percent-decoding, refused names), JSON nesting limits and bounded
// decompression: the pieces of the HTTP layer that need no socket.
#include <gtest/gtest.h>

#include <string>

#include "serve/http_error.hpp"
#include "serve/http_message.hpp"
#include "serve/request_table.hpp"
#ifdef TABULA_WITH_SERVER
#include <zlib.h>

#include "serve/content_decoding.hpp"
#endif

namespace tabula::serve {
namespace {

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const HttpError& e) {
    return e.status();
  }
  return 0;
}

TEST(HttpTarget, DecodesSegmentsAndQuery) {
  HttpRequest r;
  ASSERT_FALSE(parse_target("/v2/models/caf%C3%A9/versions/2?model=a+b&version=%31&flag", r));
  EXPECT_EQ(r.path, "/v2/models/caf%C3%A9/versions/2");
  EXPECT_EQ(r.segments, (std::vector<std::string>{"v2", "models", "caf\xC3\xA9", "versions", "2"}));
  EXPECT_EQ(r.param("model"), "a b");
  EXPECT_EQ(r.param("version"), "1");
  EXPECT_EQ(r.param("flag"), "");
  ASSERT_FALSE(parse_target("/", r));
  EXPECT_TRUE(r.segments.empty());
}

TEST(HttpTarget, RefusesWhatCouldHarmANameOrAMessage) {
  for (const char* target :
       {"/v2/health/%FF", "/v2/health/%C0", "/v2/models/%C0%AF", "/v2/models/d%00",
        "/v2/models/%2E%2E/load", "/v2/models/.", "/v2/models/a%2Fb", "/v2/%ED%A0%80", "/v2/%G1",
        "/v2/%", "/v2/%4", "http://host/v2", "*", "", "/v2?model=%00", "/v2?model=%FF",
        "/v2/a%7Fb"}) {
    HttpRequest r;
    EXPECT_TRUE(parse_target(target, r).has_value()) << target;
  }
}

TEST(HttpTarget, HeadersAreCaseInsensitive) {
  HttpRequest r;
  r.headers = {{"Content-Type", "a"}, {"x-AB-key", "k"}};
  EXPECT_EQ(r.header("content-type").value_or(""), "a");
  EXPECT_EQ(r.header("X-Ab-Key").value_or(""), "k");
  EXPECT_FALSE(r.header("authorization"));
}

TEST(HttpTarget, ErrorBodiesSurviveAnyBytes) {
  const std::string body = error_body("no model '\xFF\xC0'");
  EXPECT_EQ(nlohmann::json::parse(body)["error"].get<std::string>().find("no model"), 0u);
}

TEST(RequestJson, NestingIsBoundedBeforeParsing) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_EQ(status_of([&] { parse_request_json(deep, 32); }), 400);
  const std::string ok = std::string(32, '[') + std::string(32, ']');
  EXPECT_EQ(status_of([&] { parse_request_json(ok, 32); }), 0);
  const std::string over = "[" + ok + "]";
  EXPECT_EQ(status_of([&] { parse_request_json(over, 32); }), 400);
  // Brackets inside strings (escaped quotes included) do not count.
  const std::string text = R"({"a": "[[[[[[\"[[[[[[[[[", "b": [1]})";
  EXPECT_EQ(parse_request_json(text, 2)["b"][0], 1);
  EXPECT_EQ(status_of([] { parse_request_json("{not json", 32); }), 400);
}

#ifdef TABULA_WITH_SERVER
std::string compress(const std::string& data, int window_bits) {
  z_stream s{};
  deflateInit2(&s, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

TEST(ContentDecoding, InflatesWithinTheLimitOnly) {
  const std::string text = R"({"inputs": [1, 2, 3]})";
  EXPECT_EQ(decode_content(compress(text, 15 + 16), "gzip", 1000), text);
  EXPECT_EQ(decode_content(compress(text, 15 + 16), " X-GZIP ", 1000), text);
  EXPECT_EQ(decode_content(compress(text, 15), "deflate", 1000), text);
  EXPECT_EQ(decode_content(compress(text, -15), "deflate", 1000), text);
  EXPECT_EQ(decode_content(text, "", 10), text);  // identity: the transport checked the size
  const std::string bomb = compress(std::string(16 << 20, '0'), 15 + 16);
  EXPECT_LT(bomb.size(), 50000u);
  EXPECT_EQ(status_of([&] { decode_content(bomb, "gzip", 1 << 20); }), 413);
  EXPECT_EQ(status_of([&] { decode_content("not gzip", "gzip", 1000); }), 400);
  const std::string whole = compress(text, 15 + 16);
  EXPECT_EQ(status_of([&] { decode_content(whole.substr(0, whole.size() / 2), "gzip", 1000); }),
            400);
  EXPECT_EQ(status_of([&] { decode_content(whole + "junk", "gzip", 1000); }), 400);
  EXPECT_EQ(status_of([&] { decode_content(text, "br", 1000); }), 415);
  EXPECT_EQ(status_of([&] { decode_content(text, "gzip, gzip", 1000); }), 415);
}
#endif

}  // namespace
}  // namespace tabula::serve

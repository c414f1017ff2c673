// SQL URLs to the engine that reads them, and the fingerprint of a query's result.
#include "io/sql/sql_source.hpp"

#include <algorithm>
#include <cstring>

#include "artifact/fnv1a.hpp"
#include "io/sql/sql_engines.hpp"

namespace tabula::io {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";
// libpq's two URI schemes.
constexpr std::string_view kPostgresPrefixes[] = {"postgresql:", "postgres:"};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool is_postgres_url(std::string_view path) {
  for (std::string_view prefix : kPostgresPrefixes)
    if (starts_with(path, prefix)) return true;
  return false;
}

}  // namespace

bool is_sql_url(std::string_view path) {
  return starts_with(path, kSqlitePrefix) || is_postgres_url(path);
}

std::unique_ptr<ByteSource> open_sql_source(const std::string& url) {
  return is_postgres_url(url) ? sql::open_postgres_rows(url) : sql::open_sqlite_rows(url);
}

std::uint64_t sql_result_hash(const std::string& url) {
  const std::unique_ptr<ByteSource> source = open_sql_source(url);
  std::string block(std::size_t{1} << 20, '\0');
  std::uint64_t hash = tabula::detail::kFnvOffsetBasis;
  while (const std::size_t got = source->read(block.data(), block.size()))
    hash = tabula::detail::fnv1a64(block.data(), got, hash);
  return hash;
}

namespace sql {

std::size_t RenderedRows::read(char* out, std::size_t n) {
  while (text_.size() - at_ < n && !done_) render_more();
  const std::size_t take = std::min(n, text_.size() - at_);
  std::memcpy(out, text_.data() + at_, take);
  at_ += take;
  if (at_ == text_.size()) text_.clear(), at_ = 0;
  return take;
}

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string select_all_from(std::string_view name) {
  std::string quoted;
  for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return "SELECT * FROM \"" + quoted + "\"";
}

bool blank_query(std::string_view query) {
  return query.find_first_not_of(" \t\r\n;") == std::string_view::npos;
}

}  // namespace sql
}  // namespace tabula::io

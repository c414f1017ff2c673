// SQL sources: `--data "sqlite:///file.db?query=SELECT ..."` (or `?table=NAME`), and PostgreSQL's
// `postgresql://host/db?query=...` (src/io/sql/postgres_source.cpp). The query's rows
// are rendered as CSV text while they are read (header = the result's column names; NULL is an
// empty cell, integers and reals exactly, text quoted), so a table read from SQL is typed, checked
// and streamed exactly as its CSV export would be.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "io/byte_source.hpp"

namespace tabula::io {

/// Whether `path` is a SQL URL ("sqlite:", "postgresql:", "postgres:") rather than a file name.
bool is_sql_url(std::string_view path);

/// The query's rows as CSV text. InputError naming the URL for a malformed URL, a database that
/// or server that cannot be reached, a query that does not compile or would write, a BLOB (bytea)
/// value, or a build without the engine's library.
std::unique_ptr<ByteSource> open_sql_source(const std::string& url);

/// FNV-1a of the rendered CSV text: the data fingerprint of a SQL source.
std::uint64_t sql_result_hash(const std::string& url);

}  // namespace tabula::io

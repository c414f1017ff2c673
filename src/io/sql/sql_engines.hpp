// The SQL engines behind open_sql_source (src/io/sql/sql_source.cpp), and what their renderers
// share. Each engine renders its rows as CSV text: header = the result's column names, NULL an
// empty cell, numbers as the engine prints them exactly, text always quoted.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "io/byte_source.hpp"

namespace tabula::io::sql {

/// "sqlite:///FILE?query=..." or "?table=NAME".
std::unique_ptr<ByteSource> open_sqlite_rows(const std::string& url);

/// "postgresql://[user@]host[:port]/db[?libpq params&]query=..." or "table=NAME".
std::unique_ptr<ByteSource> open_postgres_rows(const std::string& url);

/// A ByteSource over text rendered a batch at a time: read() asks render_more() for more until it
/// has `n` bytes or the rows end.
class RenderedRows : public ByteSource {
 public:
  std::size_t read(char* out, std::size_t n) final;

 protected:
  /// Appends the next row or rows to text_, or sets done_ at the end.
  virtual void render_more() = 0;

  std::string text_;  // rendered text not yet read: text_[at_, size)
  bool done_ = false;

 private:
  std::size_t at_ = 0;
};

/// A CSV cell for text: always quoted (so spaces and delimiters survive, and numbers stored as
/// text are typed as their CSV export's quoted cells are), quotes doubled.
void append_quoted(std::string& out, std::string_view text);

/// `name` as a quoted SQL identifier: SELECT * FROM "na""me".
std::string select_all_from(std::string_view name);

/// Whether `query` is blank once spaces and semicolons are left out.
bool blank_query(std::string_view query);

}  // namespace tabula::io::sql

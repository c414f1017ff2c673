// SQLite, embedded: the database is opened read-only and the statement must be read-only, so a
// query in a data URL can never change the database.
#include <fmt/format.h>

#include <filesystem>

#include "io/sql/sql_engines.hpp"
#include "tabula/core/error.hpp"

#ifdef TABULA_WITH_SQLITE
#include <sqlite3.h>
#endif

namespace tabula::io::sql {
namespace {

constexpr std::string_view kSqliteUrlStart = "sqlite:///";
constexpr std::string_view kUrlForm =
    "sqlite:///FILE?query=SELECT ... or sqlite:///FILE?table=NAME (FILE relative, or /absolute "
    "after the three slashes)";

struct SqliteUrl {
  std::string file;
  std::string query;
};

/// SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute.db. The query is taken as
/// written after "query=" (no URL encoding: '%' and '?' are SQL's).
SqliteUrl parse_url(const std::string& url) {
  if (url.rfind(kSqliteUrlStart, 0) != 0)
    throw InputError("'" + url + "': expected " + std::string(kUrlForm));
  const std::string rest = url.substr(kSqliteUrlStart.size());
  const std::size_t mark = rest.find('?');
  SqliteUrl out;
  out.file = rest.substr(0, mark);
  if (out.file.empty() || mark == std::string::npos)
    throw InputError("'" + url + "': expected " + std::string(kUrlForm));
  const std::string parameter = rest.substr(mark + 1);
  if (parameter.rfind("query=", 0) == 0) {
    out.query = parameter.substr(6);
  } else if (parameter.rfind("table=", 0) == 0 && parameter.size() > 6) {
    out.query = select_all_from(parameter.substr(6));
  } else {
    throw InputError("'" + url + "': expected " + std::string(kUrlForm));
  }
  if (blank_query(out.query)) throw InputError("'" + url + "': the query is empty");
  return out;
}

#ifdef TABULA_WITH_SQLITE

struct CloseDatabase {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

class SqliteRows : public RenderedRows {
 public:
  explicit SqliteRows(const std::string& url) : url_(url) {
    const SqliteUrl parsed = parse_url(url);
    // SQLite would report a missing file only as "unable to open database file".
    std::error_code ec;
    if (!std::filesystem::is_regular_file(parsed.file, ec))
      throw InputError(where() + "no database file '" + parsed.file + "'");
    sqlite3* db = nullptr;
    const int opened = sqlite3_open_v2(parsed.file.c_str(), &db,
                                       SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(db);
    if (opened != SQLITE_OK)
      throw InputError(where() + "cannot open '" + parsed.file + "': " + message());
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* statement = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db, parsed.query.c_str(), static_cast<int>(parsed.query.size()),
                           &statement, &tail) != SQLITE_OK)
      throw InputError(where() + message());
    statement_.reset(statement);
    if (!statement_ || std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string::npos)
      throw InputError(where() + "expected exactly one SQL statement");
    if (!sqlite3_stmt_readonly(statement))
      throw InputError(where() + "the query must only read (SELECT ...)");
    columns_ = sqlite3_column_count(statement);
    if (columns_ == 0) throw InputError(where() + "the statement returns no columns");
    for (int c = 0; c < columns_; ++c) {
      if (c > 0) text_ += ',';
      append_quoted(text_, sqlite3_column_name(statement, c));
    }
    text_ += '\n';
  }

 private:
  std::string where() const { return "'" + url_ + "': "; }
  std::string message() const { return db_ ? sqlite3_errmsg(db_.get()) : "out of memory"; }

  /// One row rendered, or the end.
  void render_more() override {
    sqlite3_stmt* s = statement_.get();
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
      done_ = true;
      return;
    }
    if (rc != SQLITE_ROW)
      throw InputError(where() + "row " + std::to_string(rows_ + 1) + ": " + message());
    ++rows_;
    for (int c = 0; c < columns_; ++c) {
      if (c > 0) text_ += ',';
      switch (sqlite3_column_type(s, c)) {
        case SQLITE_NULL:
          break;
        case SQLITE_INTEGER:
          text_ += std::to_string(sqlite3_column_int64(s, c));
          break;
        case SQLITE_FLOAT:  // shortest text that reads back as the same double
          text_ += fmt::format("{}", sqlite3_column_double(s, c));
          break;
        case SQLITE_TEXT: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
          append_quoted(
              text_, std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(s, c))));
          break;
        }
        default:
          throw InputError(where() + "row " + std::to_string(rows_) + ", column '" +
                           sqlite3_column_name(s, c) +
                           "': a BLOB, which is neither a number nor text (CAST it in the query)");
      }
    }
    text_ += '\n';
  }

  std::string url_;
  std::unique_ptr<sqlite3, CloseDatabase> db_;
  std::unique_ptr<sqlite3_stmt, FinalizeStatement> statement_;
  int columns_ = 0;
  std::int64_t rows_ = 0;
};

#endif

}  // namespace

std::unique_ptr<ByteSource> open_sqlite_rows(const std::string& url) {
#ifdef TABULA_WITH_SQLITE
  return std::make_unique<SqliteRows>(url);
#else
  parse_url(url);
  throw InputError("'" + url +
                   "': this tabula was built without SQLite (install libsqlite3-dev "
                   "and rebuild)");
#endif
}

}  // namespace tabula::io::sql

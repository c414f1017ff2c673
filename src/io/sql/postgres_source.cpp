// PostgreSQL through libpq. The query runs in a READ ONLY transaction as one server-side cursor
// (DECLARE ... CURSOR FOR, sent with the extended protocol, which takes exactly one statement),
// fetched kFetchRows rows at a time: memory stays one batch deep however large the result, and a
// query in a data URL can never change the database.
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "io/sql/sql_engines.hpp"
#include "tabula/core/error.hpp"

#ifdef TABULA_WITH_POSTGRES
#include <libpq-fe.h>
#endif

namespace tabula::io::sql {
namespace {

constexpr std::string_view kUrlForm =
    "postgresql://[USER@]HOST[:PORT]/DATABASE?query=SELECT ... or ?table=NAME (libpq's "
    "parameters, such as sslmode=require, go before query= or table=, which come last; the "
    "password from PGPASSWORD or ~/.pgpass)";

struct PostgresUrl {
  std::string connection;  // the libpq URI, without our parameter
  std::string query;
};

/// Our parameter (query= or table=) is the last one and taken as written, not URL-decoded: '%',
/// '&' and '=' are SQL's. What comes before it is libpq's URI.
PostgresUrl parse_url(const std::string& url) {
  std::size_t at = std::string::npos;
  std::string key;
  for (const char* name : {"query=", "table="})
    for (const char* separator : {"?", "&"}) {
      const std::size_t found = url.find(std::string(separator) + name);
      if (found < at) at = found, key = name;
    }
  if (at == std::string::npos) throw InputError("'" + url + "': expected " + std::string(kUrlForm));
  PostgresUrl out;
  out.connection = url.substr(0, at);
  const std::string value = url.substr(at + 1 + key.size());
  if (key == "table=") {
    if (value.empty()) throw InputError("'" + url + "': expected " + std::string(kUrlForm));
    out.query = select_all_from(value);
  } else {
    out.query = value;
  }
  if (blank_query(out.query)) throw InputError("'" + url + "': the query is empty");
  return out;
}

#ifdef TABULA_WITH_POSTGRES

constexpr int kFetchRows = 10000;
constexpr std::string_view kDeclare = "DECLARE tabula_rows NO SCROLL CURSOR FOR ";

// Type OIDs (src/include/catalog/pg_type.dat; fixed since PostgreSQL 7). libpq-dev does not
// ship the server's pg_type_d.h.
enum TypeOid : Oid {
  kBool = 16,
  kBytea = 17,
  kInt8 = 20,
  kInt2 = 21,
  kInt4 = 23,
  kOid = 26,
  kFloat4 = 700,
  kFloat8 = 701,
  kDate = 1082,
  kTimestamp = 1114,
  kTimestampTz = 1184,
  kNumeric = 1700,
};

enum class Render { kNumber, kBoolean, kDate, kZonedTimestamp, kText, kRefused };

Render render_of(Oid type) {
  switch (type) {
    case kInt8:
    case kInt2:
    case kInt4:
    case kOid:
    case kFloat4:
    case kFloat8:
    case kNumeric:
      return Render::kNumber;
    case kBool:
      return Render::kBoolean;
    case kDate:
    case kTimestamp:
      return Render::kDate;
    case kTimestampTz:
      return Render::kZonedTimestamp;
    case kBytea:
      return Render::kRefused;
    default:
      return Render::kText;
  }
}

struct FinishConnection {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ClearResult {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ClearResult>;

class PostgresRows : public RenderedRows {
 public:
  explicit PostgresRows(const std::string& url) : url_(url) {
    const PostgresUrl parsed = parse_url(url);
    refuse_password(parsed.connection);
    // connect_timeout before dbname: a default the URL's own connect_timeout overrides.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "tabula", parsed.connection.c_str(), nullptr};
    connection_.reset(PQconnectdbParams(keys, values, 1));
    if (!connection_) throw InputError(where() + "out of memory");
    if (PQstatus(connection_.get()) != CONNECTION_OK)
      throw InputError(where() + "cannot connect: " + message());
    // Text as UTF-8; dates as ISO; zoned timestamps in UTC; floats in their shortest exact form.
    command("SET client_encoding = 'UTF8'");
    command("SET DateStyle = 'ISO, YMD'");
    command("SET TimeZone = 'UTC'");
    command("SET extra_float_digits = 1");
    command("BEGIN READ ONLY");
    const std::string declare = std::string(kDeclare) + parsed.query;
    check(Result(PQexecParams(connection_.get(), declare.c_str(), 0, nullptr, nullptr, nullptr,
                              nullptr, 0)),
          PGRES_COMMAND_OK, "");
    const Result described(PQdescribePortal(connection_.get(), "tabula_rows"));
    check_status(described.get(), PGRES_COMMAND_OK, "");
    const int columns = PQnfields(described.get());
    if (columns == 0) throw InputError(where() + "the query returns no columns");
    for (int c = 0; c < columns; ++c) {
      names_.emplace_back(PQfname(described.get(), c));
      renders_.push_back(render_of(PQftype(described.get(), c)));
      if (c > 0) text_ += ',';
      append_quoted(text_, names_.back());
    }
    text_ += '\n';
  }

 private:
  std::string where() const { return "'" + url_ + "': "; }
  std::string message() const {
    std::string text = connection_ ? PQerrorMessage(connection_.get()) : "out of memory";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }

  /// A password written in the URL would be stored in the model file's training record, shown
  /// in process lists and kept in shell history: libpq reads it from PGPASSWORD or ~/.pgpass.
  void refuse_password(const std::string& connection) const {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
    if (!options) {
      const std::string text = error ? error : "out of memory";
      PQfreemem(error);
      throw InputError(where() + text + "; expected " + std::string(kUrlForm));
    }
    bool password = false;
    for (PQconninfoOption* o = options; o->keyword; ++o)
      if (std::strcmp(o->keyword, "password") == 0 && o->val && *o->val) password = true;
    PQconninfoFree(options);
    if (password)
      throw InputError(
          "a PostgreSQL URL must not hold a password (it would be kept in the model file, "
          "process lists and shell history): leave it out and set PGPASSWORD or ~/.pgpass");
  }

  void command(const char* sql) {
    check(Result(PQexec(connection_.get(), sql)), PGRES_COMMAND_OK, "");
  }

  void check_status(const PGresult* result, ExecStatusType expected,
                    const std::string& context) const {
    if (result && PQresultStatus(result) == expected) return;
    const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    if (!primary) throw InputError(where() + context + message());
    std::string text = primary;
    if (text == "cannot insert multiple commands into a prepared statement")
      text = "expected exactly one SQL statement";
    // The position counts from the start of our DECLARE; the user wrote what follows it.
    if (const char* position = PQresultErrorField(result, PG_DIAG_STATEMENT_POSITION)) {
      const long at = std::strtol(position, nullptr, 10) - static_cast<long>(kDeclare.size());
      if (at > 0) text += " (at character " + std::to_string(at) + " of the query)";
    }
    if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT))
      text += std::string("; hint: ") + hint;
    throw InputError(where() + context + text);
  }
  void check(const Result& result, ExecStatusType expected, const std::string& context) const {
    check_status(result.get(), expected, context);
  }

  /// The next batch of rows rendered, or the end.
  void render_more() override {
    static const std::string sql =
        "FETCH FORWARD " + std::to_string(kFetchRows) + " FROM tabula_rows";
    const Result result(PQexec(connection_.get(), sql.c_str()));
    check(result, PGRES_TUPLES_OK, "after row " + std::to_string(rows_) + ": ");
    const int rows = PQntuples(result.get());
    if (rows == 0) {
      done_ = true;
      connection_.reset();  // the transaction ends with the connection; it changed nothing
      return;
    }
    for (int r = 0; r < rows; ++r) {
      ++rows_;
      for (int c = 0; c < static_cast<int>(renders_.size()); ++c) {
        if (c > 0) text_ += ',';
        if (PQgetisnull(result.get(), r, c)) continue;
        const std::string_view value(PQgetvalue(result.get(), r, c),
                                     static_cast<std::size_t>(PQgetlength(result.get(), r, c)));
        append_value(value, c);
      }
      text_ += '\n';
    }
  }

  void append_value(std::string_view value, int c) {
    switch (renders_[static_cast<std::size_t>(c)]) {
      case Render::kNumber:
        text_ += value;
        break;
      case Render::kBoolean:  // numeric 1/0, as Parquet booleans are read
        text_ += value == "t" ? '1' : '0';
        break;
      case Render::kDate:
        text_ += value;
        break;
      case Render::kZonedTimestamp:  // "... 08:15:00+00" in the UTC session: ISO 8601's Z
        if (value.size() > 3 && value.substr(value.size() - 3) == "+00")
          value.remove_suffix(3), text_ += value, text_ += 'Z';
        else
          text_ += value;
        break;
      case Render::kText:
        append_quoted(text_, value);
        break;
      case Render::kRefused:
        throw InputError(where() + "row " + std::to_string(rows_) + ", column '" +
                         names_[static_cast<std::size_t>(c)] +
                         "': bytea, which is neither a number nor text (cast it in the query)");
    }
  }

  std::string url_;
  std::unique_ptr<PGconn, FinishConnection> connection_;
  std::vector<std::string> names_;
  std::vector<Render> renders_;
  std::int64_t rows_ = 0;
};

#endif

}  // namespace

std::unique_ptr<ByteSource> open_postgres_rows(const std::string& url) {
#ifdef TABULA_WITH_POSTGRES
  return std::make_unique<PostgresRows>(url);
#else
  parse_url(url);
  throw InputError("'" + url +
                   "': this tabula was built without PostgreSQL (install libpq-dev and rebuild)");
#endif
}

}  // namespace tabula::io::sql

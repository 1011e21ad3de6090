// One SQL connection, with the two implementations the views use: SQLite (the embedded
// default) and PostgreSQL (the shared store). Callers write one SQL text for both: parameters
// are $1..$n, and the few type names that differ are written as placeholders in DDL (see
// ExpandDdl). Not thread-safe: one thread owns a connection.
#ifndef COOP_CONSUMERS_VIEWS_SQL_CONNECTION_H_
#define COOP_CONSUMERS_VIEWS_SQL_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace coop::views::sql {

// Binary data (BLOB in SQLite, bytea in PostgreSQL); plain std::string values are text.
struct Blob {
  std::string bytes;
  friend bool operator==(const Blob&, const Blob&) = default;
};

// One parameter or column value. std::monostate is SQL NULL.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;
using Row = std::vector<Value>;

enum class Dialect { kSqlite, kPostgres };

// Accessors for query results. AsInt and AsDouble convert between the two number types (a
// double is truncated); a NULL, text or blob gives the default.
int64_t AsInt(const Value& value);
double AsDouble(const Value& value);
// The text or the blob bytes.
const std::string& AsString(const Value& value);
bool IsNull(const Value& value);

// The statement as error messages quote it: whitespace collapsed, cut after about 60 bytes (on
// a UTF-8 character boundary) with "..." appended.
std::string StatementExcerpt(absl::string_view sql);

// Replaces the type placeholders of a DDL script for `dialect`:
//   {BLOB}  -> BLOB   | BYTEA
//   {INT}   -> INTEGER | BIGINT     (64-bit integers)
//   {REAL}  -> REAL   | DOUBLE PRECISION
std::string ExpandDdl(absl::string_view ddl, Dialect dialect);

// Errors: UNAVAILABLE when the database cannot be reached or is busy past the timeout (retry),
// ABORTED for a serialization failure or deadlock (retry the transaction), ALREADY_EXISTS for a
// unique-constraint violation, INVALID_ARGUMENT for a malformed statement, INTERNAL otherwise.
// The message names the statement's first words and the database's own message.
class Connection {
 public:
  virtual ~Connection() = default;

  virtual Dialect dialect() const = 0;

  // Runs a script of one or more ';'-separated statements without parameters (DDL).
  virtual absl::Status ExecuteScript(absl::string_view sql) = 0;

  // Runs one statement with parameters $1..$n; returns the number of rows it changed.
  // Statements are prepared once per connection and reused (keyed by their text).
  virtual absl::StatusOr<int64_t> Execute(absl::string_view sql,
                                          absl::Span<const Value> params = {}) = 0;

  // Runs one query with parameters $1..$n and returns every row.
  virtual absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                                 absl::Span<const Value> params = {}) = 0;

  // Transactions. Begin(kWrite) takes the write lock at once (SQLite BEGIN IMMEDIATE;
  // PostgreSQL READ COMMITTED). Begin(kSnapshot) is a read-only transaction that sees one
  // consistent state for all its statements (SQLite deferred read; PostgreSQL REPEATABLE READ
  // READ ONLY). Statements outside a transaction run in autocommit mode.
  enum class TxMode { kWrite, kSnapshot };
  virtual absl::Status Begin(TxMode mode) = 0;
  virtual absl::Status Commit() = 0;
  // Never fails in a way the caller can act on; safe to call without an open transaction.
  virtual void Rollback() = 0;
  virtual bool InTransaction() const = 0;
};

// Opens (creating if needed) the SQLite database file at `path`, in WAL mode with
// synchronous=FULL (a committed transaction survives power loss), foreign keys on and a busy
// timeout of 5 s. ":memory:" opens a private in-memory database.
absl::StatusOr<std::unique_ptr<Connection>> OpenSqlite(const std::string& path);

// Connects to PostgreSQL (`url`: a libpq connection string or postgresql:// URL). When
// `schema` is set, the connection creates the schema if missing and sets search_path to it,
// so unqualified table names resolve there.
absl::StatusOr<std::unique_ptr<Connection>> OpenPostgres(const std::string& url,
                                                         const std::string& schema);

}  // namespace coop::views::sql

#endif  // COOP_CONSUMERS_VIEWS_SQL_CONNECTION_H_

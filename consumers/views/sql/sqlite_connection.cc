// Connection on the sqlite3 C API. Every SQLite result code becomes a Status in SqliteError().
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "consumers/views/sql/connection.h"

namespace coop::views::sql {
namespace {

constexpr int kBusyTimeoutMs = 5000;

// The one place where SQLite result codes become Status. `code` is an extended result code.
//   SQLITE_BUSY, SQLITE_LOCKED (busy past the timeout), SQLITE_CANTOPEN   -> UNAVAILABLE
//   SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY                 -> ALREADY_EXISTS
//   failure to prepare (syntax, unknown table or column), SQLITE_RANGE,
//   SQLITE_MISMATCH, SQLITE_TOOBIG                                         -> INVALID_ARGUMENT
//   anything else                                                          -> INTERNAL
absl::Status SqliteError(int code, absl::string_view message, absl::string_view sql,
                         bool preparing) {
  absl::StatusCode status_code = absl::StatusCode::kInternal;
  switch (code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
      status_code = absl::StatusCode::kUnavailable;
      break;
    case SQLITE_CONSTRAINT:
      if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        status_code = absl::StatusCode::kAlreadyExists;
      }
      break;
    case SQLITE_ERROR:
      if (preparing) status_code = absl::StatusCode::kInvalidArgument;
      break;
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      status_code = absl::StatusCode::kInvalidArgument;
      break;
    default:
      break;
  }
  return absl::Status(status_code, absl::StrCat("SQLite \"", StatementExcerpt(sql), "\": ", message,
                                                " (", sqlite3_errstr(code), ")"));
}

struct DbCloser {
  // sqlite3_close_v2 cannot fail for a valid handle; prepared statements are finalized first.
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Resets a cached statement and drops its bindings (which point into the caller's values)
// when a call is done with it.
class StatementLease {
 public:
  explicit StatementLease(sqlite3_stmt* stmt) : stmt_(stmt) {}
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  ~StatementLease() {
    // sqlite3_reset repeats the error of the last step, which the caller has already seen.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* const stmt_;
};

Value ColumnValue(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, column));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, column);
    case SQLITE_TEXT: {
      // Pointer first, then the size (the order SQLite documents).
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
      const int size = sqlite3_column_bytes(stmt, column);
      return text != nullptr ? std::string(text, static_cast<size_t>(size)) : std::string();
    }
    case SQLITE_BLOB: {
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, column));
      const int size = sqlite3_column_bytes(stmt, column);
      // A zero-length blob comes back as a null pointer.
      return Blob{size > 0 ? std::string(bytes, static_cast<size_t>(size)) : std::string()};
    }
    default:
      return std::monostate();
  }
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(DbHandle db) : db_(std::move(db)) {}

  ~SqliteConnection() override { Rollback(); }

  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::Status ExecuteScript(absl::string_view sql) override {
    const std::string script(sql);
    char* raw_message = nullptr;
    const int rc = sqlite3_exec(db_.get(), script.c_str(), nullptr, nullptr, &raw_message);
    std::unique_ptr<char, decltype(&sqlite3_free)> message(raw_message, &sqlite3_free);
    if (rc != SQLITE_OK) {
      // sqlite3_exec prepares and runs each statement in turn: a failure is either.
      return Fail(SqliteError(sqlite3_extended_errcode(db_.get()),
                              message != nullptr ? message.get() : sqlite3_errstr(rc), sql,
                              /*preparing=*/(rc & 0xFF) == SQLITE_ERROR));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> Execute(absl::string_view sql, absl::Span<const Value> params) override {
    COOP_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    StatementLease lease(stmt);
    COOP_RETURN_IF_ERROR(Bind(stmt, sql, params));
    // sqlite3_changes64 keeps the count of the last INSERT, UPDATE or DELETE; other statements
    // leave it (and the total) alone, so an unchanged total means this one changed nothing.
    const int64_t total_before = sqlite3_total_changes64(db_.get());
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return StepError(sql);
    if (sqlite3_total_changes64(db_.get()) == total_before) return 0;
    return static_cast<int64_t>(sqlite3_changes64(db_.get()));
  }

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         absl::Span<const Value> params) override {
    COOP_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    StatementLease lease(stmt);
    COOP_RETURN_IF_ERROR(Bind(stmt, sql, params));
    const int columns = sqlite3_column_count(stmt);
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row& row = rows.emplace_back();
      row.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) row.push_back(ColumnValue(stmt, c));
    }
    if (rc != SQLITE_DONE) return StepError(sql);
    return rows;
  }

  absl::Status Begin(TxMode mode) override {
    if (in_transaction_) {
      return absl::FailedPreconditionError("SQLite: Begin while a transaction is open");
    }
    if (mode == TxMode::kWrite) {
      COOP_RETURN_IF_ERROR(Execute("BEGIN IMMEDIATE", {}).status());
    } else {
      // query_only makes the snapshot read-only, as PostgreSQL's READ ONLY does.
      COOP_RETURN_IF_ERROR(Execute("PRAGMA query_only = ON", {}).status());
      snapshot_ = true;
      absl::Status status = Execute("BEGIN DEFERRED", {}).status();
      // A deferred transaction takes its snapshot at the first read: read now, so the snapshot
      // is the state at Begin and not at the caller's first query.
      if (status.ok()) status = Query("SELECT 1 FROM sqlite_master LIMIT 1", {}).status();
      if (!status.ok()) {
        EndTransaction();
        return status;
      }
    }
    in_transaction_ = true;
    failed_ = false;
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (!in_transaction_) {
      return absl::FailedPreconditionError("SQLite: Commit without an open transaction");
    }
    if (failed_ || sqlite3_get_autocommit(db_.get()) != 0) {
      // A statement of this transaction failed (SQLite may even have rolled it back already).
      // Committing the rest would differ from PostgreSQL, which aborts the whole transaction.
      EndTransaction();
      return absl::AbortedError(
          "SQLite: transaction rolled back at Commit because one of its statements failed");
    }
    absl::Status status = Execute("COMMIT", {}).status();
    if (status.ok() || sqlite3_get_autocommit(db_.get()) != 0) {
      EndTransaction();
    } else {
      // Busy: the transaction stays open and intact; the caller may retry Commit or roll back.
      failed_ = false;
    }
    return status;
  }

  void Rollback() override {
    if (!in_transaction_) return;
    EndTransaction();
  }

  bool InTransaction() const override { return in_transaction_; }

  // Sets the journal mode, durability, foreign keys and busy timeout (see OpenSqlite).
  absl::Status Configure(absl::string_view path) {
    sqlite3_extended_result_codes(db_.get(), 1);
    sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
    COOP_ASSIGN_OR_RETURN(std::vector<Row> mode, Query("PRAGMA journal_mode = WAL", {}));
    const std::string got = mode.empty() || mode[0].empty() ? "" : AsString(mode[0][0]);
    // In-memory databases keep journal_mode=memory; WAL needs a file.
    if (got != "wal" && !(got == "memory" && path == ":memory:")) {
      return absl::InternalError(
          absl::StrCat("SQLite: could not switch ", path, " to WAL mode (journal_mode=", got, ")"));
    }
    // Reads go through a memory map of the file (shared with the other connections through the
    // OS page cache) rather than pread copies into each connection's own page cache, which is
    // kept small; the WAL is checkpointed every 16 MiB rather than every 4 MiB.
    COOP_RETURN_IF_ERROR(
        ExecuteScript("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                      "PRAGMA mmap_size = 4294967296; PRAGMA cache_size = -131072; "
                      "PRAGMA wal_autocheckpoint = 4000; PRAGMA temp_store = MEMORY;"));
    return absl::OkStatus();
  }

 private:
  // Returns the cached statement for `sql`, preparing it on first use.
  absl::StatusOr<sqlite3_stmt*> Prepare(absl::string_view sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    // A default-constructed string_view has a null data(), which SQLite rejects as misuse.
    const char* text = sql.data() != nullptr ? sql.data() : "";
    const int rc = sqlite3_prepare_v3(db_.get(), text, static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    StatementHandle stmt(raw);
    if (rc != SQLITE_OK) {
      return Fail(SqliteError(rc, sqlite3_errmsg(db_.get()), sql, /*preparing=*/true));
    }
    if (stmt == nullptr) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("SQLite \"", StatementExcerpt(sql), "\": no statement in the text")));
    }
    const absl::string_view rest =
        absl::StripAsciiWhitespace(sql.substr(static_cast<size_t>(tail - text)));
    if (!rest.empty()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("SQLite \"", StatementExcerpt(sql),
                       "\": more than one statement (use ExecuteScript for scripts)")));
    }
    return statements_.emplace(std::string(sql), std::move(stmt)).first->second.get();
  }

  // Binds params[i] to the parameter named $<i+1>. SQLite numbers named parameters by first
  // appearance, so binding by index would mix them up when $2 comes before $1.
  absl::Status Bind(sqlite3_stmt* stmt, absl::string_view sql, absl::Span<const Value> params) {
    if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(params.size())) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("SQLite \"", StatementExcerpt(sql), "\": the statement takes ",
                       sqlite3_bind_parameter_count(stmt), " parameters, got ", params.size())));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string name = absl::StrCat("$", i + 1);
      const int index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) {
        return Fail(absl::InvalidArgumentError(
            absl::StrCat("SQLite \"", StatementExcerpt(sql), "\": parameters must be $1..$",
                         params.size(), "; ", name, " is missing")));
      }
      // SQLITE_STATIC: the values outlive the call, and the lease clears the bindings.
      const Value& value = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(value)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const int64_t* n = std::get_if<int64_t>(&value)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const double* d = std::get_if<double>(&value)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (const std::string* s = std::get_if<std::string>(&value)) {
        // data() is never null, so an empty string binds as '' and not as NULL.
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        const std::string& bytes = std::get<Blob>(value).bytes;
        rc = sqlite3_bind_blob64(stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) {
        return Fail(SqliteError(rc, sqlite3_errmsg(db_.get()), sql, /*preparing=*/false));
      }
    }
    return absl::OkStatus();
  }

  absl::Status StepError(absl::string_view sql) {
    return Fail(SqliteError(sqlite3_extended_errcode(db_.get()), sqlite3_errmsg(db_.get()), sql,
                            /*preparing=*/false));
  }

  // Records that a statement of the open transaction failed, so Commit refuses it.
  absl::Status Fail(absl::Status status) {
    if (in_transaction_) failed_ = true;
    return status;
  }

  // Rolls back whatever is open and leaves snapshot mode. SQLite's ROLLBACK only fails when no
  // transaction is open, which is the state it is meant to reach.
  void EndTransaction() {
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    if (snapshot_) {
      sqlite3_exec(db_.get(), "PRAGMA query_only = OFF", nullptr, nullptr, nullptr);
      snapshot_ = false;
    }
    in_transaction_ = false;
    failed_ = false;
  }

  // Destroyed in reverse order: the statements are finalized before the database is closed.
  DbHandle db_;
  absl::flat_hash_map<std::string, StatementHandle> statements_;
  bool in_transaction_ = false;
  // A statement failed inside the open transaction.
  bool failed_ = false;
  // The open transaction is a snapshot (query_only is on).
  bool snapshot_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> OpenSqlite(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // The handle exists (and must be closed) even when opening failed, unless memory ran out.
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    return SqliteError(rc, db != nullptr ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc),
                       absl::StrCat("open ", path), /*preparing=*/false);
  }
  auto connection = std::make_unique<SqliteConnection>(std::move(db));
  COOP_RETURN_IF_ERROR(connection->Configure(path));
  return connection;
}

}  // namespace coop::views::sql

// Connection on libpqxx 6. libpqxx reports every failure as an exception: Guarded() catches them
// all, and PostgresError() is the one place where they become Status. A lost connection is
// replaced at the next call (EnsureConnected).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <pqxx/binarystring>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/transaction>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "consumers/views/sql/connection.h"

namespace coop::views::sql {
namespace {

// Type OIDs of the built-in types (PostgreSQL's catalog/pg_type.dat; they never change).
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kByteaOid = 17;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;
constexpr pqxx::oid kFloat4Oid = 700;
constexpr pqxx::oid kFloat8Oid = 701;
constexpr pqxx::oid kNumericOid = 1700;

using WriteTransaction = pqxx::transaction<pqxx::read_committed, pqxx::read_write>;
using SnapshotTransaction = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

std::string Message(absl::string_view sql, absl::string_view what) {
  // libpq's messages span lines ("ERROR:  ...\nDETAIL:  ...\n").
  std::string text = absl::StrReplaceAll(absl::StripAsciiWhitespace(what), {{"\n", " "}});
  return absl::StrCat("PostgreSQL \"", StatementExcerpt(sql), "\": ", text);
}

// The one place where PostgreSQL's SQLSTATE codes become Status.
//   23505 unique_violation                                          -> ALREADY_EXISTS
//   class 40 (serialization failure, deadlock), 25P02 (statement
//   in a transaction that an earlier error aborted)                 -> ABORTED
//   class 08 (connection) except 08P01, 57P01-57P03 (shutdown,
//   starting up), 53300 too_many_connections                        -> UNAVAILABLE
//   class 42 (syntax, undefined table or column), class 22 (bad
//   value), 08P01 (wrong number of parameters)                      -> INVALID_ARGUMENT
//   anything else                                                   -> INTERNAL
absl::StatusCode CodeForSqlState(absl::string_view state) {
  const absl::string_view sql_class = state.substr(0, 2);
  if (state == "23505") return absl::StatusCode::kAlreadyExists;
  if (sql_class == "40" || state == "25P02") return absl::StatusCode::kAborted;
  if (state == "08P01") return absl::StatusCode::kInvalidArgument;
  if (sql_class == "08" || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "53300") {
    return absl::StatusCode::kUnavailable;
  }
  if (sql_class == "42" || sql_class == "22") return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kInternal;
}

// `connection_open`: whether the connection survived the error. libpqxx 6 throws
// broken_connection for every SQLSTATE class 08 error, also for 08P01 on a healthy connection
// (the statement got the wrong number of parameters); only a closed connection is unavailable.
absl::Status PostgresError(absl::string_view sql, std::exception_ptr error, bool connection_open) {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const pqxx::broken_connection& e) {
    if (connection_open) return absl::InvalidArgumentError(Message(sql, e.what()));
    return absl::UnavailableError(Message(sql, e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(Message(
        sql, absl::StrCat("connection lost during COMMIT; the transaction may or may not have "
                          "been committed: ",
                          e.what())));
  } catch (const pqxx::transaction_rollback& e) {
    // libpqxx 6 throws these (SQLSTATE class 40) without their SQLSTATE.
    return absl::AbortedError(Message(sql, e.what()));
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    return absl::Status(CodeForSqlState(state),
                        Message(sql, absl::StrCat(e.what(), " (SQLSTATE ", state, ")")));
  } catch (const std::exception& e) {
    return absl::InternalError(Message(sql, e.what()));
  } catch (...) {
    return absl::InternalError(Message(sql, "unknown exception from libpqxx"));
  }
}

std::string DoubleText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[64];
  // Shortest text that reads back as the same double.
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// Parameters go in PostgreSQL's text format, as libpqxx 6 sends them (its dynamic parameter
// lists hold one C++ type, so binary bytea cannot be mixed with text). The server parses each
// value as the type the statement gives the parameter; a bytea value goes as hex ("\x00ff").
// std::nullopt is SQL NULL.
absl::StatusOr<std::vector<std::optional<std::string>>> EncodeParams(
    absl::string_view sql, absl::Span<const Value> params) {
  std::vector<std::optional<std::string>> out;
  out.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& value = params[i];
    if (std::holds_alternative<std::monostate>(value)) {
      out.emplace_back();
    } else if (const int64_t* n = std::get_if<int64_t>(&value)) {
      out.push_back(absl::StrCat(*n));
    } else if (const double* d = std::get_if<double>(&value)) {
      out.push_back(DoubleText(*d));
    } else if (const std::string* s = std::get_if<std::string>(&value)) {
      if (s->find('\0') != std::string::npos) {
        return absl::InvalidArgumentError(Message(
            sql, absl::StrCat("parameter $", i + 1,
                              " is text containing a NUL byte, which PostgreSQL text cannot "
                              "hold (use a Blob)")));
      }
      out.push_back(*s);
    } else {
      out.push_back(absl::StrCat("\\x", absl::BytesToHexString(std::get<Blob>(value).bytes)));
    }
  }
  return out;
}

absl::StatusOr<Value> FieldValue(const pqxx::field& field, pqxx::oid type) {
  if (field.is_null()) return std::monostate();
  const absl::string_view text(field.c_str(), field.size());
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t n;
      if (!absl::SimpleAtoi(text, &n)) break;
      return n;
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double d;
      if (!absl::SimpleAtod(text, &d)) break;
      return d;
    }
    case kBoolOid:
      return static_cast<int64_t>(text == "t" ? 1 : 0);
    case kByteaOid:
      return Blob{pqxx::binarystring(field).str()};
    default:
      return std::string(text);
  }
  return absl::InternalError(absl::StrCat("PostgreSQL: cannot read '", text, "' of column \"",
                                          field.name(), "\" (type oid ", type, ") as a number"));
}

absl::StatusOr<std::vector<Row>> ToRows(const pqxx::result& result) {
  const size_t columns = result.columns();
  std::vector<pqxx::oid> types(columns);
  for (size_t c = 0; c < columns; ++c) types[c] = result.column_type(pqxx::row::size_type(c));
  std::vector<Row> rows;
  rows.reserve(result.size());
  for (const pqxx::row& row : result) {
    Row& out = rows.emplace_back();
    out.reserve(columns);
    for (size_t c = 0; c < columns; ++c) {
      COOP_ASSIGN_OR_RETURN(Value value, FieldValue(row[pqxx::row::size_type(c)], types[c]));
      out.push_back(std::move(value));
    }
  }
  return rows;
}

class PostgresConnection final : public Connection {
 public:
  PostgresConnection(std::string url, std::string schema)
      : url_(std::move(url)), schema_(std::move(schema)) {}

  ~PostgresConnection() override { Rollback(); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  absl::Status ExecuteScript(absl::string_view sql) override {
    COOP_RETURN_IF_ERROR(EnsureConnected());
    // One simple query: PostgreSQL runs several ';'-separated statements in it.
    return Fail(Guarded(sql, [&]() -> absl::Status {
      if (transaction_ != nullptr) {
        transaction_->exec(std::string(sql));
      } else {
        pqxx::nontransaction autocommit(*connection_);
        autocommit.exec(std::string(sql));
        autocommit.commit();
      }
      return absl::OkStatus();
    }));
  }

  absl::StatusOr<int64_t> Execute(absl::string_view sql, absl::Span<const Value> params) override {
    COOP_ASSIGN_OR_RETURN(pqxx::result result, Run(sql, params));
    return static_cast<int64_t>(result.affected_rows());
  }

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         absl::Span<const Value> params) override {
    COOP_ASSIGN_OR_RETURN(pqxx::result result, Run(sql, params));
    return ToRows(result);
  }

  absl::Status Begin(TxMode mode) override {
    if (transaction_ != nullptr) {
      return absl::FailedPreconditionError("PostgreSQL: Begin while a transaction is open");
    }
    COOP_RETURN_IF_ERROR(EnsureConnected());
    const char* what = mode == TxMode::kWrite ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                              : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    absl::Status status = Guarded(what, [&]() -> absl::Status {
      if (mode == TxMode::kWrite) {
        transaction_ = std::make_unique<WriteTransaction>(*connection_);
      } else {
        transaction_ = std::make_unique<SnapshotTransaction>(*connection_);
        // REPEATABLE READ takes its snapshot at the first statement: take it now, so the
        // snapshot is the state at Begin and not at the caller's first query.
        transaction_->exec("SELECT 1");
      }
      return absl::OkStatus();
    });
    failed_ = false;
    if (!status.ok()) Rollback();
    return status;
  }

  absl::Status Commit() override {
    if (transaction_ == nullptr) {
      return absl::FailedPreconditionError("PostgreSQL: Commit without an open transaction");
    }
    if (failed_) {
      // The server has aborted the transaction; COMMIT would roll it back without an error.
      Rollback();
      return absl::AbortedError(
          "PostgreSQL: transaction rolled back at Commit because one of its statements failed");
    }
    absl::Status status = Guarded("COMMIT", [&]() -> absl::Status {
      transaction_->commit();
      return absl::OkStatus();
    });
    // A failed commit ends the transaction too (libpqxx aborts it, or the outcome is in doubt).
    transaction_.reset();
    failed_ = false;
    return status;
  }

  void Rollback() override {
    if (transaction_ == nullptr) return;
    absl::Status status = Guarded("ROLLBACK", [&]() -> absl::Status {
      transaction_->abort();
      return absl::OkStatus();
    });
    // Ignored: ROLLBACK fails only when the connection is gone, and then the server has rolled
    // the transaction back itself.
    static_cast<void>(status);
    transaction_.reset();
    failed_ = false;
  }

  bool InTransaction() const override { return transaction_ != nullptr; }

  // Connects when there is no open connection: at first, and after the connection was lost
  // (the call that lost it returned UNAVAILABLE). A transaction open at the time is over, so
  // the caller must Rollback before the connection is replaced.
  absl::Status EnsureConnected() {
    if (connection_ != nullptr && connection_->is_open()) return absl::OkStatus();
    if (transaction_ != nullptr) {
      return absl::UnavailableError(
          "PostgreSQL: the connection was lost during the transaction; roll it back");
    }
    // Prepared statements lived in the old session. libpqxx would reconnect by itself, but
    // not reliably in version 6, so the connection is replaced instead.
    statements_.clear();
    connection_.reset();
    std::unique_ptr<pqxx::connection> connection;
    COOP_RETURN_IF_ERROR(Guarded("connect", [&]() -> absl::Status {
      connection = std::make_unique<pqxx::connection>(url_);
      return absl::OkStatus();
    }));
    connection_ = std::move(connection);
    absl::Status configured = Configure();
    if (!configured.ok()) connection_.reset();
    return configured;
  }

 private:
  // Quiets notices, then creates schema_ if needed and puts it first on the search path.
  absl::Status Configure() {
    COOP_RETURN_IF_ERROR(Guarded("SET client_min_messages", [&]() -> absl::Status {
      connection_->set_variable("client_min_messages", "warning");
      return absl::OkStatus();
    }));
    if (schema_.empty()) return absl::OkStatus();
    std::string quoted;
    COOP_RETURN_IF_ERROR(Guarded("quote schema name", [&]() -> absl::Status {
      quoted = connection_->quote_name(schema_);
      return absl::OkStatus();
    }));
    const std::string create = absl::StrCat("CREATE SCHEMA IF NOT EXISTS ", quoted);
    absl::Status created = Guarded(create, [&]() -> absl::Status {
      pqxx::nontransaction autocommit(*connection_);
      autocommit.exec(create);
      autocommit.commit();
      return absl::OkStatus();
    });
    // Two sessions creating the same schema at once can both pass IF NOT EXISTS; the loser
    // gets a unique violation on the catalog, and the schema is there all the same.
    if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) return created;
    return Guarded("SET search_path", [&]() -> absl::Status {
      connection_->set_variable("search_path", quoted);
      return absl::OkStatus();
    });
  }

  // Executes `sql` (prepared once per connection) in the open transaction, or in autocommit.
  absl::StatusOr<pqxx::result> Run(absl::string_view sql, absl::Span<const Value> params) {
    COOP_ASSIGN_OR_RETURN(const std::vector<std::optional<std::string>> encoded,
                          EncodeParams(sql, params));
    // libpqxx reads a null pointer as SQL NULL.
    std::vector<const char*> pointers;
    pointers.reserve(encoded.size());
    for (const std::optional<std::string>& value : encoded) {
      pointers.push_back(value.has_value() ? value->c_str() : nullptr);
    }
    COOP_RETURN_IF_ERROR(EnsureConnected());
    return Fail(Guarded(sql, [&]() -> absl::StatusOr<pqxx::result> {
      const std::string& name = StatementName(sql);
      auto values = pqxx::prepare::make_dynamic_params(pointers);
      if (transaction_ != nullptr) return transaction_->exec_prepared(name, values);
      pqxx::nontransaction autocommit(*connection_);
      pqxx::result result = autocommit.exec_prepared(name, values);
      autocommit.commit();
      return result;
    }));
  }

  // The name of the prepared statement for `sql`. libpqxx prepares it on the server at its
  // first execution.
  const std::string& StatementName(absl::string_view sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    std::string name = absl::StrCat("s", statements_.size() + 1);
    connection_->prepare(name, std::string(sql));
    return statements_.emplace(std::string(sql), std::move(name)).first->second;
  }

  // Runs `body`, which may throw; returns what it returns, or the exception as a Status.
  template <typename Body>
  auto Guarded(absl::string_view sql, Body&& body) -> decltype(body()) {
    try {
      return body();
    } catch (...) {
      return PostgresError(sql, std::current_exception(),
                           connection_ != nullptr && connection_->is_open());
    }
  }

  // Records that a statement of the open transaction failed, so Commit refuses it.
  template <typename T>
  T Fail(T result) {
    if (!result.ok() && transaction_ != nullptr) failed_ = true;
    return result;
  }

  const std::string url_;
  const std::string schema_;
  // Destroyed in reverse order: the transaction ends before its connection closes.
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::dbtransaction> transaction_;
  // SQL text -> prepared statement name, for the current connection_.
  absl::flat_hash_map<std::string, std::string> statements_;
  // A statement failed inside the open transaction.
  bool failed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> OpenPostgres(const std::string& url,
                                                         const std::string& schema) {
  auto connection = std::make_unique<PostgresConnection>(url, schema);
  COOP_RETURN_IF_ERROR(connection->EnsureConnected());
  return connection;
}

}  // namespace coop::views::sql

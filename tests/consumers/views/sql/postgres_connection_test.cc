// Integration: the PostgreSQL connection against the server in COOP_TEST_POSTGRES_URL. Every
// test works in a schema of its own, which it drops at the end.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "consumers/views/sql/connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_env.h"

namespace coop::views::sql {

void PrintTo(const Blob& blob, std::ostream* os) {
  *os << "Blob{'\\x" << absl::BytesToHexString(blob.bytes) << "'}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSchema[] = R"sql(
  CREATE TABLE items (
    id {INT} PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    price {REAL},
    payload {BLOB},
    note TEXT
  );
)sql";

// Bytes that text handling would damage: NUL, 0xFF, and an invalid UTF-8 sequence.
const Blob kAwkwardBlob{std::string("a\0b\xff\xfe\x80z", 7)};

// PostgreSQL's syntax for an identifier that needs quoting (only for names the test makes up).
std::string Quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

TEST(PostgresExpandDdlTest, WritesPostgresTypes) {
  EXPECT_EQ(
      ExpandDdl("CREATE TABLE t (a {INT} PRIMARY KEY, b {REAL}, c {BLOB})", Dialect::kPostgres),
      "CREATE TABLE t (a BIGINT PRIMARY KEY, b DOUBLE PRECISION, c BYTEA)");
}

TEST(PostgresOpenTest, UnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      OpenPostgres("postgresql://postgres@127.0.0.1:1/coop?connect_timeout=5", "");
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable) << conn.status();
}

class PostgresConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = coop::testing::PostgresUrlOrFail();
    if (url_.empty()) GTEST_FAIL() << "no PostgreSQL server";
    schema_ = coop::testing::UniqueSchemaName();
    conn_ = Open(schema_);
    ASSERT_NE(conn_, nullptr);
    const absl::Status created = conn_->ExecuteScript(ExpandDdl(kSchema, Dialect::kPostgres));
    ASSERT_TRUE(created.ok()) << created;
  }

  void TearDown() override {
    conn_.reset();
    if (!schema_.empty()) DropSchema(schema_);
  }

  // A further connection, working in `schema`.
  std::unique_ptr<Connection> Open(const std::string& schema) {
    absl::StatusOr<std::unique_ptr<Connection>> conn = OpenPostgres(url_, schema);
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  void DropSchema(const std::string& schema) {
    std::unique_ptr<Connection> admin = Open("");
    ASSERT_NE(admin, nullptr);
    const absl::Status dropped =
        admin->ExecuteScript(absl::StrCat("DROP SCHEMA IF EXISTS ", Quoted(schema), " CASCADE"));
    EXPECT_TRUE(dropped.ok()) << dropped;
  }

  int64_t CountItems(Connection& conn) {
    absl::StatusOr<std::vector<Row>> rows = conn.Query("SELECT COUNT(*) FROM items");
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? AsInt(rows->at(0).at(0)) : -1;
  }

  absl::Status InsertItem(Connection& conn, int64_t id, const std::string& name) {
    return conn.Execute("INSERT INTO items (id, name) VALUES ($1, $2)", {id, name}).status();
  }

  std::string url_;
  std::string schema_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(PostgresConnectionTest, EveryValueTypeRoundTrips) {
  EXPECT_EQ(conn_->dialect(), Dialect::kPostgres);
  const std::vector<Value> row = {int64_t{std::numeric_limits<int64_t>::min()},
                                  std::string("Қонаев"), 0.1, kAwkwardBlob, std::monostate()};
  absl::StatusOr<int64_t> inserted = conn_->Execute(
      "INSERT INTO items (id, name, price, payload, note) VALUES ($1, $2, $3, $4, $5)", row);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(*inserted, 1);
  const std::vector<Value> empty = {int64_t{std::numeric_limits<int64_t>::max()}, std::string(),
                                    -2.5e300, Blob{}, std::string()};
  const absl::Status second = conn_
                                  ->Execute(
                                      "INSERT INTO items (id, name, price, payload, note) "
                                      "VALUES ($1, $2, $3, $4, $5)",
                                      empty)
                                  .status();
  ASSERT_TRUE(second.ok()) << second;

  absl::StatusOr<std::vector<Row>> rows =
      conn_->Query("SELECT id, name, price, payload, note FROM items ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(row, empty));
}

TEST_F(PostgresConnectionTest, ResultTypesMapByColumnType) {
  absl::StatusOr<std::vector<Row>> rows = conn_->Query(
      "SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, 2.25::numeric, true, false, "
      "'v'::varchar, 'bytes'::bytea, NULL::int8, 'Infinity'::float8, 'NaN'::float8");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  const Row& row = rows->at(0);
  ASSERT_EQ(row.size(), 12u);
  EXPECT_EQ(row[0], Value(int64_t{1}));
  EXPECT_EQ(row[1], Value(int64_t{2}));
  EXPECT_EQ(row[2], Value(int64_t{3}));
  EXPECT_EQ(row[3], Value(1.5));
  EXPECT_EQ(row[4], Value(2.25));
  EXPECT_EQ(row[5], Value(int64_t{1}));
  EXPECT_EQ(row[6], Value(int64_t{0}));
  EXPECT_EQ(row[7], Value(std::string("v")));
  EXPECT_EQ(row[8], Value(Blob{"bytes"}));
  EXPECT_TRUE(IsNull(row[9]));
  EXPECT_EQ(row[10], Value(std::numeric_limits<double>::infinity()));
  EXPECT_TRUE(std::isnan(AsDouble(row[11])));
}

TEST_F(PostgresConnectionTest, SpecialDoublesRoundTrip) {
  for (double price : {std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity(), 5e-324, 1.0 / 3}) {
    absl::StatusOr<std::vector<Row>> rows = conn_->Query("SELECT $1::float8", {Value(price)});
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(AsDouble(rows->at(0).at(0)), price);
  }
}

TEST_F(PostgresConnectionTest, ParametersBindByNumberWhateverTheirOrderInTheText) {
  ASSERT_TRUE(
      conn_->Execute("INSERT INTO items (name, id) VALUES ($2, $1)", {int64_t{7}, "seven"}).ok());
  absl::StatusOr<std::vector<Row>> rows = conn_->Query(
      "SELECT id, $2 || name || $2 FROM items WHERE id = $1", {int64_t{7}, std::string("-")});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{int64_t{7}, std::string("-seven-")}));
}

TEST_F(PostgresConnectionTest, ExecuteReturnsTheNumberOfChangedRows) {
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  ASSERT_TRUE(InsertItem(*conn_, 2, "two").ok());
  absl::StatusOr<int64_t> updated = conn_->Execute("UPDATE items SET note = $1", {"n"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(*updated, 2);
  absl::StatusOr<int64_t> none = conn_->Execute("DELETE FROM items WHERE id = $1", {int64_t{9}});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, 0);
}

TEST_F(PostgresConnectionTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  const absl::Status duplicate_key = InsertItem(*conn_, 1, "uno");
  EXPECT_EQ(duplicate_key.code(), absl::StatusCode::kAlreadyExists) << duplicate_key;
  const absl::Status duplicate_name = InsertItem(*conn_, 2, "one");
  EXPECT_EQ(duplicate_name.code(), absl::StatusCode::kAlreadyExists) << duplicate_name;
  EXPECT_THAT(duplicate_name.message(), HasSubstr("INSERT INTO items"));
  EXPECT_THAT(duplicate_name.message(), HasSubstr("23505"));
  EXPECT_TRUE(InsertItem(*conn_, 2, "two").ok());
}

TEST_F(PostgresConnectionTest, SyntaxErrorIsInvalidArgumentNamingTheStatement) {
  const absl::Status status = conn_->Execute("SELEKT name FROM items").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("SELEKT name FROM items"));
  EXPECT_THAT(status.message(), HasSubstr("syntax error"));
}

TEST_F(PostgresConnectionTest, UnknownTableIsInvalidArgument) {
  const absl::Status status = conn_->Query("SELECT * FROM nowhere").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(PostgresConnectionTest, WrongParameterCountIsInvalidArgument) {
  const absl::Status status =
      conn_->Execute("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{1}}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(PostgresConnectionTest, TextWithANulByteIsInvalidArgument) {
  const absl::Status status = InsertItem(*conn_, 1, std::string("a\0b", 3));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(PostgresConnectionTest, ScriptRunsEveryStatement) {
  const absl::Status script = conn_->ExecuteScript(
      "CREATE TABLE a (x BIGINT); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);");
  ASSERT_TRUE(script.ok()) << script;
  absl::StatusOr<std::vector<Row>> rows = conn_->Query("SELECT SUM(x)::int8 FROM a");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(AsInt(rows->at(0).at(0)), 3);
  const absl::Status error = conn_->ExecuteScript("CREATE TABLE b (x BIGINT); CREATE TABEL c;");
  EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument) << error;
}

TEST_F(PostgresConnectionTest, CommittedTransactionIsVisibleToAnotherConnection) {
  std::unique_ptr<Connection> other = Open(schema_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  EXPECT_TRUE(conn_->InTransaction());
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  ASSERT_TRUE(InsertItem(*conn_, 2, "two").ok());
  EXPECT_EQ(CountItems(*other), 0);
  const absl::Status commit = conn_->Commit();
  ASSERT_TRUE(commit.ok()) << commit;
  EXPECT_FALSE(conn_->InTransaction());
  EXPECT_EQ(CountItems(*other), 2);
}

TEST_F(PostgresConnectionTest, RollbackDiscardsTheTransaction) {
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  conn_->Rollback();
  EXPECT_FALSE(conn_->InTransaction());
  EXPECT_EQ(CountItems(*conn_), 0);
  conn_->Rollback();  // Without a transaction: nothing happens.
  EXPECT_TRUE(InsertItem(*conn_, 1, "one").ok());
}

TEST_F(PostgresConnectionTest, CommitAfterAFailedStatementIsAbortedAndRollsBack) {
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  ASSERT_TRUE(InsertItem(*conn_, 2, "two").ok());
  ASSERT_EQ(InsertItem(*conn_, 1, "again").code(), absl::StatusCode::kAlreadyExists);
  // The server refuses further statements of the aborted transaction.
  EXPECT_EQ(InsertItem(*conn_, 3, "three").code(), absl::StatusCode::kAborted);
  const absl::Status commit = conn_->Commit();
  EXPECT_EQ(commit.code(), absl::StatusCode::kAborted) << commit;
  EXPECT_FALSE(conn_->InTransaction());
  EXPECT_EQ(CountItems(*conn_), 1);
}

TEST_F(PostgresConnectionTest, MisusedTransactionCallsAreFailedPrecondition) {
  EXPECT_EQ(conn_->Commit().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  EXPECT_EQ(conn_->Begin(Connection::TxMode::kSnapshot).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(conn_->InTransaction());
  EXPECT_TRUE(conn_->Commit().ok());
}

TEST_F(PostgresConnectionTest, SnapshotDoesNotSeeALaterCommit) {
  std::unique_ptr<Connection> writer = Open(schema_);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(InsertItem(*writer, 1, "one").ok());
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kSnapshot).ok());
  // Committed after Begin but before the snapshot's first query of the table.
  ASSERT_TRUE(InsertItem(*writer, 2, "two").ok());
  EXPECT_EQ(CountItems(*conn_), 1);
  ASSERT_TRUE(InsertItem(*writer, 3, "three").ok());
  EXPECT_EQ(CountItems(*conn_), 1);
  ASSERT_TRUE(conn_->Commit().ok());
  EXPECT_EQ(CountItems(*conn_), 3);
}

TEST_F(PostgresConnectionTest, SnapshotIsReadOnly) {
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kSnapshot).ok());
  const absl::Status write = InsertItem(*conn_, 1, "one");
  EXPECT_EQ(write.code(), absl::StatusCode::kInternal) << write;
  conn_->Rollback();
  EXPECT_TRUE(InsertItem(*conn_, 1, "one").ok());
}

TEST_F(PostgresConnectionTest, DeadlockIsAborted) {
  std::unique_ptr<Connection> other = Open(schema_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  ASSERT_TRUE(InsertItem(*conn_, 2, "two").ok());
  const std::string update = "UPDATE items SET note = $1 WHERE id = $2";
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  ASSERT_TRUE(other->Begin(Connection::TxMode::kWrite).ok());
  ASSERT_TRUE(conn_->Execute(update, {"first", int64_t{1}}).ok());
  ASSERT_TRUE(other->Execute(update, {"second", int64_t{2}}).ok());

  // Each now wants the row the other holds; the server detects the cycle (after its
  // deadlock_timeout, 1 s by default) and aborts one of the two statements.
  absl::Status first;
  std::thread waiter([&] { first = conn_->Execute(update, {"first", int64_t{2}}).status(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const absl::Status second = other->Execute(update, {"second", int64_t{1}}).status();
  waiter.join();

  ASSERT_NE(first.ok(), second.ok()) << first << " / " << second;
  Connection& victim = first.ok() ? *other : *conn_;
  Connection& survivor = first.ok() ? *conn_ : *other;
  const absl::Status& error = first.ok() ? second : first;
  EXPECT_EQ(error.code(), absl::StatusCode::kAborted) << error;
  EXPECT_EQ(victim.Commit().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(survivor.Commit().ok());
}

TEST_F(PostgresConnectionTest, SchemasKeepTablesApart) {
  const std::string odd = absl::StrCat(schema_, " Odd \"Name\"");
  std::unique_ptr<Connection> elsewhere = Open(odd);
  ASSERT_NE(elsewhere, nullptr);
  EXPECT_EQ(elsewhere->Query("SELECT * FROM items").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(elsewhere->ExecuteScript(ExpandDdl(kSchema, Dialect::kPostgres)).ok());
  ASSERT_TRUE(InsertItem(*elsewhere, 1, "one").ok());
  EXPECT_EQ(CountItems(*elsewhere), 1);
  EXPECT_EQ(CountItems(*conn_), 0);
  // Opening again finds the schema there.
  std::unique_ptr<Connection> again = Open(odd);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(CountItems(*again), 1);
  elsewhere.reset();
  again.reset();
  DropSchema(odd);
}

TEST_F(PostgresConnectionTest, LostSessionIsUnavailableThenReconnectsInTheSchema) {
  absl::StatusOr<std::vector<Row>> pid = conn_->Query("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  std::unique_ptr<Connection> admin = Open("");
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Query("SELECT pg_terminate_backend($1)", {pid->at(0).at(0)}).ok());

  const absl::Status lost = conn_->Query("SELECT COUNT(*) FROM items").status();
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  // The next call reconnects, with the same search path and prepared statements.
  EXPECT_EQ(CountItems(*conn_), 1);
  EXPECT_TRUE(InsertItem(*conn_, 2, "two").ok());
}

}  // namespace
}  // namespace coop::views::sql

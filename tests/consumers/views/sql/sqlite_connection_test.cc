// Unit: the SQLite connection against temporary database files and :memory:.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "consumers/views/sql/connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coop::views::sql {

void PrintTo(const Blob& blob, std::ostream* os) {
  *os << "Blob{x'" << absl::BytesToHexString(blob.bytes) << "'}";
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

TEST(SqliteValueTest, AccessorsGiveTheValueOrTheDefault) {
  EXPECT_EQ(AsInt(Value(int64_t{42})), 42);
  EXPECT_EQ(AsInt(Value(1.5)), 1) << "a double is truncated";
  EXPECT_EQ(AsInt(Value()), 0);
  EXPECT_EQ(AsDouble(Value(1.5)), 1.5);
  EXPECT_EQ(AsDouble(Value(int64_t{1})), 1.0);
  EXPECT_EQ(AsString(Value(std::string("Қонаев"))), "Қонаев");
  EXPECT_EQ(AsString(Value(kAwkwardBlob)), kAwkwardBlob.bytes);
  EXPECT_EQ(AsString(Value(int64_t{1})), "");
  EXPECT_TRUE(IsNull(Value()));
  EXPECT_FALSE(IsNull(Value(std::string())));
}

TEST(SqliteExpandDdlTest, ReplacesPlaceholdersForEachDialect) {
  const std::string ddl = "CREATE TABLE t (a {INT}, b {REAL}, c {BLOB}, d {INT});";
  EXPECT_EQ(ExpandDdl(ddl, Dialect::kSqlite),
            "CREATE TABLE t (a INTEGER, b REAL, c BLOB, d INTEGER);");
  EXPECT_EQ(ExpandDdl(ddl, Dialect::kPostgres),
            "CREATE TABLE t (a BIGINT, b DOUBLE PRECISION, c BYTEA, d BIGINT);");
}

class SqliteConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(::testing::TempDir(), "coop_sqlite_", info->name(), "_", getpid(), ".db");
    RemoveFiles();
    conn_ = Open();
    ASSERT_NE(conn_, nullptr);
    ASSERT_TRUE(conn_->ExecuteScript(ExpandDdl(kSchema, Dialect::kSqlite)).ok());
  }

  void TearDown() override {
    conn_.reset();
    RemoveFiles();
  }

  // A further connection to the test's database file.
  std::unique_ptr<Connection> Open() {
    absl::StatusOr<std::unique_ptr<Connection>> conn = OpenSqlite(path_);
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  void RemoveFiles() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(path_, suffix).c_str());
    }
  }

  int64_t CountItems(Connection& conn) {
    absl::StatusOr<std::vector<Row>> rows = conn.Query("SELECT COUNT(*) FROM items");
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? AsInt(rows->at(0).at(0)) : -1;
  }

  absl::Status InsertItem(Connection& conn, int64_t id, const std::string& name) {
    return conn.Execute("INSERT INTO items (id, name) VALUES ($1, $2)", {id, name}).status();
  }

  std::string path_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(SqliteConnectionTest, MemoryDatabaseRunsStatements) {
  absl::StatusOr<std::unique_ptr<Connection>> memory = OpenSqlite(":memory:");
  ASSERT_TRUE(memory.ok()) << memory.status();
  Connection& conn = **memory;
  EXPECT_EQ(conn.dialect(), Dialect::kSqlite);
  ASSERT_TRUE(conn.ExecuteScript(ExpandDdl(kSchema, Dialect::kSqlite)).ok());
  ASSERT_TRUE(InsertItem(conn, 1, "one").ok());
  EXPECT_EQ(CountItems(conn), 1);
}

TEST_F(SqliteConnectionTest, FileDatabaseIsDurableWalWithForeignKeys) {
  absl::StatusOr<std::vector<Row>> mode = conn_->Query("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok()) << mode.status();
  EXPECT_EQ(AsString(mode->at(0).at(0)), "wal");
  absl::StatusOr<std::vector<Row>> synchronous = conn_->Query("PRAGMA synchronous");
  ASSERT_TRUE(synchronous.ok()) << synchronous.status();
  EXPECT_EQ(AsInt(synchronous->at(0).at(0)), 2);  // FULL
  absl::StatusOr<std::vector<Row>> foreign_keys = conn_->Query("PRAGMA foreign_keys");
  ASSERT_TRUE(foreign_keys.ok()) << foreign_keys.status();
  EXPECT_EQ(AsInt(foreign_keys->at(0).at(0)), 1);
}

TEST_F(SqliteConnectionTest, EveryValueTypeRoundTrips) {
  const std::vector<Value> row = {int64_t{std::numeric_limits<int64_t>::min()},
                                  std::string("Қонаев"), 0.1, kAwkwardBlob, std::monostate()};
  absl::StatusOr<int64_t> inserted = conn_->Execute(
      "INSERT INTO items (id, name, price, payload, note) VALUES ($1, $2, $3, $4, $5)", row);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(*inserted, 1);
  const std::vector<Value> empty = {int64_t{std::numeric_limits<int64_t>::max()}, std::string(),
                                    -2.5e300, Blob{}, std::string()};
  ASSERT_TRUE(conn_
                  ->Execute("INSERT INTO items (id, name, price, payload, note) "
                            "VALUES ($1, $2, $3, $4, $5)",
                            empty)
                  .ok());

  absl::StatusOr<std::vector<Row>> rows =
      conn_->Query("SELECT id, name, price, payload, note FROM items ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(row, empty));
}

TEST_F(SqliteConnectionTest, ParametersBindByNumberWhateverTheirOrderInTheText) {
  ASSERT_TRUE(
      conn_->Execute("INSERT INTO items (name, id) VALUES ($2, $1)", {int64_t{7}, "seven"}).ok());
  absl::StatusOr<std::vector<Row>> rows = conn_->Query(
      "SELECT id, name, $2 || $1 || $2 FROM items WHERE id = $1", {int64_t{7}, std::string("-")});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{int64_t{7}, std::string("seven"), std::string("-7-")}));
}

TEST_F(SqliteConnectionTest, ExecuteReturnsTheNumberOfChangedRows) {
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  ASSERT_TRUE(InsertItem(*conn_, 2, "two").ok());
  absl::StatusOr<int64_t> updated = conn_->Execute("UPDATE items SET note = $1", {"n"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(*updated, 2);
  absl::StatusOr<int64_t> none = conn_->Execute("DELETE FROM items WHERE id = $1", {int64_t{9}});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, 0);
  absl::StatusOr<int64_t> select = conn_->Execute("SELECT * FROM items");
  ASSERT_TRUE(select.ok()) << select.status();
  EXPECT_EQ(*select, 0);
}

TEST_F(SqliteConnectionTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  const absl::Status duplicate_key = InsertItem(*conn_, 1, "uno");
  EXPECT_EQ(duplicate_key.code(), absl::StatusCode::kAlreadyExists) << duplicate_key;
  const absl::Status duplicate_name = InsertItem(*conn_, 2, "one");
  EXPECT_EQ(duplicate_name.code(), absl::StatusCode::kAlreadyExists) << duplicate_name;
  EXPECT_THAT(duplicate_name.message(), HasSubstr("INSERT INTO items"));
  // The cached statement was reset after the failure and works again.
  EXPECT_TRUE(InsertItem(*conn_, 2, "two").ok());
}

TEST_F(SqliteConnectionTest, SyntaxErrorIsInvalidArgumentNamingTheStatement) {
  const absl::Status status = conn_->Execute("SELEKT name FROM items").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("SELEKT name FROM items"));
  EXPECT_THAT(status.message(), HasSubstr("syntax error"));
}

TEST_F(SqliteConnectionTest, UnknownTableIsInvalidArgument) {
  const absl::Status status = conn_->Query("SELECT * FROM nowhere").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(SqliteConnectionTest, WrongParameterCountIsInvalidArgument) {
  const absl::Status status =
      conn_->Execute("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{1}}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(SqliteConnectionTest, TwoStatementsInExecuteAreInvalidArgument) {
  const absl::Status status = conn_->Execute("DELETE FROM items; DELETE FROM items").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(SqliteConnectionTest, ScriptErrorIsInvalidArgument) {
  const absl::Status status = conn_->ExecuteScript("CREATE TABLE a (x); CREATE TABEL b (y);");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(SqliteConnectionTest, CommittedTransactionIsVisibleToAnotherConnection) {
  std::unique_ptr<Connection> other = Open();
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

TEST_F(SqliteConnectionTest, RollbackDiscardsTheTransaction) {
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  conn_->Rollback();
  EXPECT_FALSE(conn_->InTransaction());
  EXPECT_EQ(CountItems(*conn_), 0);
  conn_->Rollback();  // Without a transaction: nothing happens.
  EXPECT_TRUE(InsertItem(*conn_, 1, "one").ok());
}

TEST_F(SqliteConnectionTest, CommitAfterAFailedStatementIsAbortedAndRollsBack) {
  ASSERT_TRUE(InsertItem(*conn_, 1, "one").ok());
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  ASSERT_TRUE(InsertItem(*conn_, 2, "two").ok());
  ASSERT_EQ(InsertItem(*conn_, 1, "again").code(), absl::StatusCode::kAlreadyExists);
  const absl::Status commit = conn_->Commit();
  EXPECT_EQ(commit.code(), absl::StatusCode::kAborted) << commit;
  EXPECT_FALSE(conn_->InTransaction());
  EXPECT_EQ(CountItems(*conn_), 1);
}

TEST_F(SqliteConnectionTest, MisusedTransactionCallsAreFailedPrecondition) {
  EXPECT_EQ(conn_->Commit().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  EXPECT_EQ(conn_->Begin(Connection::TxMode::kSnapshot).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(conn_->InTransaction());
  EXPECT_TRUE(conn_->Commit().ok());
}

TEST_F(SqliteConnectionTest, SnapshotDoesNotSeeALaterCommit) {
  std::unique_ptr<Connection> writer = Open();
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

TEST_F(SqliteConnectionTest, SnapshotIsReadOnly) {
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kSnapshot).ok());
  const absl::Status write = InsertItem(*conn_, 1, "one");
  EXPECT_EQ(write.code(), absl::StatusCode::kInternal) << write;
  conn_->Rollback();
  // Writes work again once the snapshot is over.
  EXPECT_TRUE(InsertItem(*conn_, 1, "one").ok());
}

TEST_F(SqliteConnectionTest, WriteTransactionWaitsOutTheBusyTimeoutThenIsUnavailable) {
  std::unique_ptr<Connection> other = Open();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(conn_->Begin(Connection::TxMode::kWrite).ok());
  const auto start = std::chrono::steady_clock::now();
  const absl::Status busy = other->Begin(Connection::TxMode::kWrite);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable) << busy;
  EXPECT_GE(waited, std::chrono::milliseconds(4500));
  EXPECT_FALSE(other->InTransaction());
  // Once the first writer is done, the second gets the lock.
  ASSERT_TRUE(conn_->Commit().ok());
  EXPECT_TRUE(other->Begin(Connection::TxMode::kWrite).ok());
  other->Rollback();
}

TEST_F(SqliteConnectionTest, OpenInAMissingDirectoryIsUnavailable) {
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      OpenSqlite(absl::StrCat(::testing::TempDir(), "no/such/directory/views.db"));
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable) << conn.status();
}

}  // namespace
}  // namespace coop::views::sql

#include "tools/bench/views_bench_phases.h"

#include <librdkafka/rdkafka.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/events/record_codec.h"
#include "common/kafka/producer.h"
#include "common/status_macros.h"
#include "consumers/views/sql/connection.h"
#include "consumers/views/view_consumer.h"
#include "tools/bench/measurement.h"

namespace coop::bench {
namespace {

using views::sql::Connection;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfHandle = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionListHandle = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MessageHandle = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

constexpr absl::Duration kIdleTimeout = absl::Seconds(60);

// The raw consumer: what kafka::Consumer sets for the views consumer (common/kafka/consumer.cc),
// with a private group id that never joins a group.
absl::StatusOr<KafkaHandle> MakeRawConsumer(const kafka::KafkaConfig& kafka) {
  ConfHandle conf(rd_kafka_conf_new());
  std::array<char, 512> err{};
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", kafka.bootstrap_servers},
      {"client.id", kafka.client_id},
      {"group.id", absl::StrCat("coop-views-bench-raw-", absl::ToUnixNanos(absl::Now()))},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", "read_committed"},
  };
  for (const auto& [name, value] : kafka.properties) settings.emplace_back(name, value);
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err.data(), err.size()) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", err.data()));
    }
  }
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), err.data(), err.size()));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create consumer: ", err.data()));
  }
  conf.release();  // Owned by rk now.
  rd_kafka_poll_set_consumer(rk.get());
  return rk;
}

views::ViewConsumerOptions ConsumerOptions(const EventLog& log, const ProjectionOptions& options) {
  views::ViewConsumerOptions consumer;
  consumer.kafka = log.kafka;
  consumer.topic = log.topic;
  consumer.dead_letter_topic = log.dead_letter_topic;
  consumer.max_batch_records = options.max_batch_records;
  return consumer;
}

// Runs a ViewConsumer on `connection` to the end of `log`; `server_pid` is the database
// process serving the connection (0: none).
absl::StatusOr<ConsumeResult> Project(const EventLog& log, const ProjectionOptions& options,
                                      std::unique_ptr<Connection> connection, pid_t server_pid,
                                      const std::string& phase) {
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<views::ViewConsumer> consumer,
                        views::ViewConsumer::Create(ConsumerOptions(log, options),
                                                    std::move(connection), log.cluster_id));
  using Offsets = std::map<int32_t, int64_t>;
  COOP_ASSIGN_OR_RETURN(const Offsets ends, consumer->EndOffsets());
  int64_t end_total = 0;
  for (const auto& [partition, end] : ends) end_total += end;
  if (end_total != log.records) {
    return absl::FailedPreconditionError(absl::StrCat("topic ", log.topic, " holds ", end_total,
                                                      " records; expected ", log.records));
  }
  std::atomic<bool> stop{false};
  CpuMeter cpu(server_pid, log.broker_pid);
  cpu.Start();
  const int64_t start_ns = NowNanos();
  COOP_RETURN_IF_ERROR(consumer->Run(stop, ends));
  const int64_t end_ns = NowNanos();
  cpu.Stop();

  const views::ViewConsumerStats& stats = consumer->stats();
  ConsumeResult result;
  result.phase = phase;
  result.applied = stats.applied.load();
  result.duplicates = stats.duplicates.load();
  result.batches = stats.batches.load();
  result.records = result.applied + result.duplicates;
  result.wall_seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  result.client_cpu_seconds = cpu.client_seconds();
  result.server_cpu_seconds = cpu.server_seconds();
  result.broker_cpu_seconds = cpu.broker_seconds();
  if (stats.dead_lettered.load() != 0 || result.records != log.records) {
    return absl::FailedPreconditionError(
        absl::StrCat(phase, ": the consumer applied ", result.applied, " and skipped ",
                     result.duplicates, " duplicates, dead-lettered ", stats.dead_lettered.load(),
                     "; expected ", log.records, " records in all and no dead letters"));
  }
  return result;
}

void RemoveSqliteFiles(const std::string& path) {
  std::error_code ignored;  // Absent files are the point.
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix, ignored);
  }
}

int64_t SqliteBytes(const std::string& path) {
  int64_t bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code error;
    const uintmax_t size = std::filesystem::file_size(path + suffix, error);
    if (!error) bytes += static_cast<int64_t>(size);
  }
  return bytes;
}

// The schema name goes into SQL text unquoted.
absl::Status CheckSchemaName(const std::string& schema) {
  for (char c : schema) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return absl::InvalidArgumentError(
          absl::StrCat("schema '", schema, "': only a-z, 0-9 and _ are allowed"));
    }
  }
  return absl::OkStatus();
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// The floor's SQLite file: its own schema, written through the C API directly (no Value copies,
// no statement cache lookups), so that only SQLite's own cost is measured.
class FloorDb {
 public:
  static absl::StatusOr<FloorDb> Open(const std::string& path, bool indexed) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    FloorDb db;
    db.db_.reset(raw);
    if (rc != SQLITE_OK) return db.Error("open");
    // The views' settings (sqlite_connection.cc) except synchronous, which is cheaper here.
    COOP_RETURN_IF_ERROR(db.Exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 4294967296; "
        "PRAGMA cache_size = -131072; PRAGMA wal_autocheckpoint = 4000;"));
    COOP_RETURN_IF_ERROR(db.Exec(absl::StrCat(
        "CREATE TABLE events (source TEXT NOT NULL, id TEXT NOT NULL, subject TEXT NOT NULL, "
        "recorded_time_ms INTEGER NOT NULL, kafka_partition INTEGER NOT NULL, "
        "kafka_offset INTEGER NOT NULL, event BLOB NOT NULL",
        indexed ? ", PRIMARY KEY (source, id)); CREATE INDEX events_by_subject ON events "
                  "(subject, recorded_time_ms, kafka_partition, kafka_offset);"
                : ");")));
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.db_.get(),
                           "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      return db.Error("prepare");
    }
    db.insert_.reset(stmt);
    return db;
  }

  absl::Status Exec(const std::string& sql) {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error(sql);
    }
    return absl::OkStatus();
  }

  absl::Status Insert(const coop::v1::Event& event, int32_t partition, int64_t offset,
                      const void* value, size_t size) {
    sqlite3_stmt* stmt = insert_.get();
    const int64_t recorded_ms =
        event.recorded_time().seconds() * 1000 + event.recorded_time().nanos() / 1'000'000;
    sqlite3_bind_text64(stmt, 1, event.source().data(), event.source().size(), SQLITE_STATIC,
                        SQLITE_UTF8);
    sqlite3_bind_text64(stmt, 2, event.id().data(), event.id().size(), SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(stmt, 3, event.subject().data(), event.subject().size(), SQLITE_STATIC,
                        SQLITE_UTF8);
    sqlite3_bind_int64(stmt, 4, recorded_ms);
    sqlite3_bind_int64(stmt, 5, partition);
    sqlite3_bind_int64(stmt, 6, offset);
    sqlite3_bind_blob64(stmt, 7, value, size, SQLITE_STATIC);
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return Error("insert");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) {
    return absl::InternalError(
        absl::StrCat("SQLite floor: ", what, ": ",
                     db_ == nullptr ? "out of memory" : sqlite3_errmsg(db_.get())));
  }

  // Declared in this order so that the statement is finalized before the database closes.
  SqliteHandle db_;
  StatementHandle insert_;
};

// Where the raw consumer leaves what it read of the values, so that the reads stay.
std::atomic<uint8_t> touched_sink{0};

}  // namespace

absl::StatusOr<ConsumeResult> RawConsume(const EventLog& log) {
  COOP_ASSIGN_OR_RETURN(KafkaHandle rk, MakeRawConsumer(log.kafka));
  PartitionListHandle assignment(rd_kafka_topic_partition_list_new(log.partitions));
  for (int32_t p = 0; p < log.partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), log.topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  ConsumeResult result;
  result.phase = "raw";
  std::string last_error;
  uint8_t touched = 0;  // Each value's first byte, so that reading it cannot be skipped.

  CpuMeter cpu(0, log.broker_pid);
  cpu.Start();
  const int64_t start_ns = NowNanos();
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), assignment.get()); err != 0) {
    return absl::UnavailableError(absl::StrCat("assign ", log.topic, ": ", rd_kafka_err2str(err)));
  }
  int64_t last_record_ns = start_ns;
  while (result.records < log.records) {
    MessageHandle message(rd_kafka_consumer_poll(rk.get(), 100));
    if (message == nullptr || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // librdkafka reports passing broker trouble as consumer errors and recovers by itself.
      if (message != nullptr) last_error = rd_kafka_message_errstr(message.get());
      if (NowNanos() - last_record_ns > absl::ToInt64Nanoseconds(kIdleTimeout)) {
        return absl::DeadlineExceededError(
            absl::StrCat("raw consumer: no record for ", absl::FormatDuration(kIdleTimeout),
                         " after ", result.records, " of ", log.records,
                         last_error.empty() ? "" : "; last error: ", last_error));
      }
      continue;
    }
    ++result.records;
    result.value_bytes += static_cast<int64_t>(message->len);
    if (message->len > 0) touched ^= static_cast<const uint8_t*>(message->payload)[0];
    last_record_ns = NowNanos();
  }
  const int64_t end_ns = NowNanos();
  cpu.Stop();
  rd_kafka_consumer_close(rk.get());

  result.wall_seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  result.client_cpu_seconds = cpu.client_seconds();
  result.broker_cpu_seconds = cpu.broker_seconds();
  touched_sink.store(touched, std::memory_order_relaxed);
  return result;
}

absl::StatusOr<ConsumeResult> ProjectIntoSqlite(const EventLog& log,
                                                const ProjectionOptions& options,
                                                const std::string& path) {
  RemoveSqliteFiles(path);
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, views::sql::OpenSqlite(path));
  COOP_ASSIGN_OR_RETURN(ConsumeResult result,
                        Project(log, options, std::move(connection), 0, "sqlite"));
  // The consumer closed its connection (checkpointing the WAL) when it was destroyed.
  result.db_bytes = SqliteBytes(path);
  return result;
}

absl::StatusOr<ConsumeResult> SqliteFloor(const EventLog& log, const ProjectionOptions& options,
                                          const std::string& path, bool indexed) {
  RemoveSqliteFiles(path);
  ConsumeResult result;
  result.phase = indexed ? "floor-timeline" : "floor-table";
  {
    COOP_ASSIGN_OR_RETURN(FloorDb db, FloorDb::Open(path, indexed));
    COOP_ASSIGN_OR_RETURN(KafkaHandle rk, MakeRawConsumer(log.kafka));
    PartitionListHandle assignment(rd_kafka_topic_partition_list_new(log.partitions));
    for (int32_t p = 0; p < log.partitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), log.topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    coop::v1::Event event;
    int64_t in_batch = 0;
    CpuMeter cpu(0, log.broker_pid);
    cpu.Start();
    const int64_t start_ns = NowNanos();
    if (rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), assignment.get()); err != 0) {
      return absl::UnavailableError(
          absl::StrCat("assign ", log.topic, ": ", rd_kafka_err2str(err)));
    }
    int64_t last_record_ns = start_ns;
    while (result.records < log.records) {
      // Like the views consumer, a batch is closed when no record is at hand.
      MessageHandle message(rd_kafka_consumer_poll(rk.get(), in_batch > 0 ? 0 : 100));
      if (message == nullptr || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (in_batch > 0) {
          COOP_RETURN_IF_ERROR(db.Exec("COMMIT"));
          in_batch = 0;
        }
        if (NowNanos() - last_record_ns > absl::ToInt64Nanoseconds(kIdleTimeout)) {
          return absl::DeadlineExceededError(
              absl::StrCat(result.phase, ": no record for ", absl::FormatDuration(kIdleTimeout)));
        }
        continue;
      }
      if (!event.ParseFromArray(message->payload, static_cast<int>(message->len))) {
        return absl::DataLossError(
            absl::StrCat(result.phase, ": record at offset ", message->offset, " does not parse"));
      }
      if (in_batch == 0) COOP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
      COOP_RETURN_IF_ERROR(
          db.Insert(event, message->partition, message->offset, message->payload, message->len));
      ++result.records;
      if (++in_batch >= options.max_batch_records) {
        COOP_RETURN_IF_ERROR(db.Exec("COMMIT"));
        in_batch = 0;
      }
      last_record_ns = NowNanos();
    }
    if (in_batch > 0) COOP_RETURN_IF_ERROR(db.Exec("COMMIT"));
    const int64_t end_ns = NowNanos();
    cpu.Stop();
    rd_kafka_consumer_close(rk.get());
    result.wall_seconds = static_cast<double>(end_ns - start_ns) / 1e9;
    result.client_cpu_seconds = cpu.client_seconds();
    result.broker_cpu_seconds = cpu.broker_seconds();
  }  // Closed (and checkpointed) before its size is taken.
  result.db_bytes = SqliteBytes(path);
  return result;
}

absl::StatusOr<ConsumeResult> ProjectIntoPostgres(const EventLog& log,
                                                  const ProjectionOptions& options,
                                                  const std::string& url,
                                                  const std::string& schema) {
  COOP_RETURN_IF_ERROR(CheckSchemaName(schema));
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<Connection> admin, views::sql::OpenPostgres(url, ""));
  const std::string drop = absl::StrCat("DROP SCHEMA IF EXISTS ", schema, " CASCADE");
  COOP_RETURN_IF_ERROR(admin->ExecuteScript(drop));
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                        views::sql::OpenPostgres(url, schema));
  COOP_ASSIGN_OR_RETURN(const std::vector<views::sql::Row> backend,
                        connection->Query("SELECT pg_backend_pid()"));
  const auto backend_pid = static_cast<pid_t>(views::sql::AsInt(backend.at(0).at(0)));
  absl::StatusOr<ConsumeResult> result =
      Project(log, options, std::move(connection), backend_pid, "postgres");
  if (result.ok()) {
    absl::StatusOr<std::vector<views::sql::Row>> size = admin->Query(
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
        {views::sql::Value(schema)});
    if (!size.ok()) return size.status();
    result->db_bytes = views::sql::AsInt(size->at(0).at(0));
  }
  COOP_RETURN_IF_ERROR(admin->ExecuteScript(drop));
  return result;
}

}  // namespace coop::bench

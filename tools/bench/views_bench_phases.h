// The phases of the views benchmark that move events: writing them to Kafka, reading them back
// with a bare librdkafka consumer, and projecting them with the views consumer into SQLite or
// PostgreSQL. Each consuming phase reads the whole topic from the beginning.
#ifndef COOP_TOOLS_BENCH_VIEWS_BENCH_PHASES_H_
#define COOP_TOOLS_BENCH_VIEWS_BENCH_PHASES_H_

#include <sys/types.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/envelope.pb.h"
#include "tools/bench/bulk_produce.h"

namespace coop::bench {

// The topic the phases read, and how to reach it.
struct EventLog {
  kafka::KafkaConfig kafka;
  std::string cluster_id;
  std::string topic;
  std::string dead_letter_topic;
  int32_t partitions = 0;
  // Records in the topic (sum of the end offsets; the topic is written by one idempotent,
  // non-transactional producer, so offsets and records agree).
  int64_t records = 0;
  // The broker process, to measure its CPU; 0: not measured.
  pid_t broker_pid = 0;
};

// What one consuming phase of one round measured.
struct ConsumeResult {
  std::string phase;        // "raw", "sqlite", "postgres".
  int32_t round = 0;        // 1-based.
  int64_t records = 0;      // Read (raw) or taken by the projection (applied + duplicates).
  int64_t value_bytes = 0;  // Raw only: bytes of the record values read.
  // Raw: assignment to the last record. Projections: ViewConsumer::Run until the end offsets
  // (Create, which migrates the schema and opens the clients, is not timed).
  double wall_seconds = 0;
  double client_cpu_seconds = 0;   // This process, all threads (librdkafka's included).
  double server_cpu_seconds = -1;  // PostgreSQL: the backend serving the consumer's connection.
  double broker_cpu_seconds = -1;
  // Projections only; -1 otherwise.
  int64_t applied = -1;
  int64_t duplicates = -1;
  int64_t batches = -1;
  // SQLite: database file and WAL after the consumer closed it. PostgreSQL: tables, indexes and
  // TOAST of the schema.
  int64_t db_bytes = -1;
  // Projections: events/s over the events/s of the raw phase just before, in the same round.
  double vs_raw = -1;

  double events_per_second() const {
    return wall_seconds > 0 ? static_cast<double>(records) / wall_seconds : 0;
  }
  // CPU seconds per million records; -1 when not measured.
  double PerMillion(double cpu_seconds) const {
    return cpu_seconds < 0 || records == 0 ? -1 : cpu_seconds * 1e6 / static_cast<double>(records);
  }
};

// Reads every record of `log` with a plain librdkafka consumer (assigned from the beginning,
// read_committed, no group) and only touches each value. DEADLINE_EXCEEDED when no record comes
// for 60 s before all were read.
absl::StatusOr<ConsumeResult> RawConsume(const EventLog& log);

struct ProjectionOptions {
  int32_t max_batch_records = 5000;
};

// Projects `log` with a ViewConsumer into a new SQLite database at `path` (any file there is
// removed first), until the end offsets. FAILED_PRECONDITION when the consumer did not take
// exactly log.records records or dead-lettered any.
absl::StatusOr<ConsumeResult> ProjectIntoSqlite(const EventLog& log,
                                                const ProjectionOptions& options,
                                                const std::string& path);

// What a projection into SQLite cannot beat, whatever its code: reads every record of `log`
// with the raw consumer, parses the envelope, and inserts one row per event (source, id,
// subject, recorded time, partition, offset, the record value) into a new SQLite file at
// `path` with a prepared statement, options.max_batch_records rows per transaction, WAL and
// synchronous=NORMAL (cheaper than the views' FULL). `indexed` false: the rows go into a plain
// table (appends only). `indexed` true: the table also has the two indexes any timeline view
// needs: its (source, id) primary key, for the exactly-once check by event id, and a
// (subject, recorded time, partition, offset) index, for one subject's timeline in order.
// Phase names "floor-table" and "floor-timeline".
absl::StatusOr<ConsumeResult> SqliteFloor(const EventLog& log, const ProjectionOptions& options,
                                          const std::string& path, bool indexed);

// The same into `schema` (dropped first if present, and dropped again afterwards) of the
// PostgreSQL database at `url`.
absl::StatusOr<ConsumeResult> ProjectIntoPostgres(const EventLog& log,
                                                  const ProjectionOptions& options,
                                                  const std::string& url,
                                                  const std::string& schema);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_VIEWS_BENCH_PHASES_H_

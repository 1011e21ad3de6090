// Reads the event log and applies it to one view generation: the loop between Kafka and the
// Projector.
//
// Positions live in the generation database, in the same transaction as the changes they
// caused; Kafka's committed offsets are never used. Alone (no group id) the consumer reads every
// partition from the stored positions. In a group (PostgreSQL, several instances), partitions
// come through rebalances: on revoke the batch in hand is applied and committed before the
// partitions go; on assign their positions are loaded from the database. A batch that finds a
// partition moved by someone else (ABORTED) is dropped and the positions reloaded.
//
// Records that cannot be applied (undecodable, unknown payload type, invalid by the contract)
// go to the dead-letter topic with the reason, source topic, partition and offset in headers,
// and are counted; the consumer goes on. A dead-lettered record is written (and acknowledged by
// Kafka) before the batch that skips it commits, so none is lost; after a crash between the two
// it may be dead-lettered twice.
#ifndef COOP_CONSUMERS_VIEWS_VIEW_CONSUMER_H_
#define COOP_CONSUMERS_VIEWS_VIEW_CONSUMER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kafka/kafka_config.h"
#include "consumers/views/projector.h"
#include "consumers/views/sql/connection.h"

namespace coop::views {

// Header names of dead-lettered records (besides the original record's headers).
inline constexpr char kDeadLetterReasonHeader[] = "coop-dlq-reason";
inline constexpr char kDeadLetterTopicHeader[] = "coop-dlq-source-topic";
inline constexpr char kDeadLetterPartitionHeader[] = "coop-dlq-source-partition";
inline constexpr char kDeadLetterOffsetHeader[] = "coop-dlq-source-offset";

struct ViewConsumerOptions {
  kafka::KafkaConfig kafka;
  std::string topic = "coop.events";
  std::string dead_letter_topic = "coop.events.dlq";
  // Empty: read every partition alone. Otherwise the consumer group sharing the partitions.
  std::string group_id;
  // A batch closes at this many records or when no record came for `batch_linger` (or
  // `max_batch_wait` after its first record).
  int max_batch_records = 5000;
  absl::Duration batch_linger = absl::Milliseconds(5);
  absl::Duration max_batch_wait = absl::Milliseconds(100);
  // As-of builds: records recorded after this instant are skipped (their positions still
  // advance).
  std::optional<absl::Time> recorded_until;
  // False for rebuilds and as-of builds: records that cannot be applied are only counted (the
  // serving generation dead-lettered them when they first came).
  bool write_dead_letters = true;
  // False (the default): a position that is not in the log stops Run with DATA_LOSS. True: the
  // read jumps to the first record left and the missing ones are skipped (librdkafka logs the
  // reset); for an operator who has accepted the loss (coop-views --skip_missing_records).
  bool skip_missing_records = false;
};

// Counters since start; read at any time from any thread.
struct ViewConsumerStats {
  std::atomic<int64_t> applied{0};
  std::atomic<int64_t> duplicates{0};
  std::atomic<int64_t> dead_lettered{0};
  std::atomic<int64_t> skipped_after_as_of{0};
  std::atomic<int64_t> batches{0};
  std::atomic<int64_t> aborted_batches{0};
};

class ViewConsumer {
 public:
  // Called after each committed batch with the positions now stored for the partitions this
  // consumer owns.
  using CommitCallback = std::function<void(const std::map<int32_t, int64_t>& positions)>;

  // Opens the Kafka clients, migrates the database and records the log it reads
  // (`cluster_id`). The connection is the consumer's own.
  static absl::StatusOr<std::unique_ptr<ViewConsumer>> Create(
      ViewConsumerOptions options, std::unique_ptr<sql::Connection> connection,
      const std::string& cluster_id);
  // Close()s if not done yet.
  ~ViewConsumer();

  // Leaves the consumer group, if any (a batch in hand is committed on the revoke first), and
  // closes the Kafka clients. Call after Run has returned; then only stats() may be called.
  void Close();

  // Consumes until `stop` is set, or, with `until` set, until every partition has been applied
  // up to the offsets in it. Retries database and broker errors that can pass (UNAVAILABLE,
  // ABORTED) with backoff; returns other errors. DATA_LOSS when a position to read from is not
  // in the log (records deleted, topic recreated): the views would miss records, so the consumer
  // stops there, after committing the batch in hand, rather than skip them.
  absl::Status Run(const std::atomic<bool>& stop,
                   const std::optional<std::map<int32_t, int64_t>>& until = std::nullopt);

  // The current end offsets of the log (what a reader of committed records can reach).
  absl::StatusOr<std::map<int32_t, int64_t>> EndOffsets();
  int32_t partition_count() const;

  void set_commit_callback(CommitCallback callback);
  // Turns dead-lettering on or off from now on (a rebuilt generation turns it on when it takes
  // over as the live one). Any thread.
  void set_write_dead_letters(bool write);
  const ViewConsumerStats& stats() const;

 private:
  struct Impl;
  explicit ViewConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_VIEW_CONSUMER_H_

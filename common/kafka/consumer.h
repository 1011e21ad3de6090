// A Kafka consumer that reads records by explicit assignment (no consumer group) or, with a
// group id, as part of a group. Not thread-safe: one thread owns it.
#ifndef COOP_COMMON_KAFKA_CONSUMER_H_
#define COOP_COMMON_KAFKA_CONSUMER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/kafka/kafka_config.h"
#include "common/kafka/record.h"

namespace coop::kafka {

// Logical offsets accepted by Consumer::Assign.
inline constexpr int64_t kOffsetBeginning = -2;
inline constexpr int64_t kOffsetEnd = -1;

// Told of group rebalances, on the thread that calls Poll() and from inside Poll().
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // `partitions` of the subscribed topic are now this consumer's. Returns where to start
  // reading each (partition -> offset, or kOffsetBeginning); a partition left out starts at
  // kOffsetBeginning.
  virtual std::map<int32_t, int64_t> OnAssigned(const std::vector<int32_t>& partitions) = 0;
  // `partitions` are being taken away: finish (or drop) their work before returning. No record
  // of them is returned after this.
  virtual void OnRevoked(const std::vector<int32_t>& partitions) = 0;
};

struct ConsumerOptions {
  // Empty: no group; the consumer reads what Assign() says and commits nothing.
  std::string group_id;
  // Only records of committed transactions (and non-transactional ones) are returned.
  bool read_committed = true;
  // Poll() also returns a marker each time a partition has been read to its end.
  bool report_end_of_partition = false;
  // When a position to read from is not in the log (its records were deleted, by retention or
  // DeleteRecords, or the topic was recreated), Poll() fails with DATA_LOSS naming the partition
  // and offset, and that partition is not read further. Otherwise the read jumps to the earliest
  // record left and the deleted records are skipped without a word (Kafka's
  // auto.offset.reset=earliest).
  bool fail_on_missing_offset = false;
  // Required by Subscribe(); not owned, must outlive the consumer.
  RebalanceListener* rebalance_listener = nullptr;
};

struct ConsumedRecord {
  KafkaRecord record;
  RecordPosition position;
  // Set on the markers of ConsumerOptions::report_end_of_partition: no record, and
  // position.offset is the partition's end offset (the next record will get it).
  bool end_of_partition = false;
};

class Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const KafkaConfig& config,
                                                          const ConsumerOptions& options);
  // Leaves the group (if any) and closes the client.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Reads `partition` of `topic` from `offset` (or kOffsetBeginning / kOffsetEnd), replacing
  // any earlier assignment.
  absl::Status Assign(absl::string_view topic, int32_t partition, int64_t offset);

  // Reads every partition in `offsets` (partition -> offset) of `topic`, replacing any earlier
  // assignment.
  absl::Status AssignAll(absl::string_view topic, const std::map<int32_t, int64_t>& offsets);

  // Joins the consumer group (options.group_id, required) on `topic`; partitions come and go
  // through options.rebalance_listener (required) during Poll(). Offsets are never committed
  // to Kafka: the listener says where each assigned partition starts.
  absl::Status Subscribe(absl::string_view topic);

  // Moves the reading position of an assigned `partition` of `topic` to `offset`.
  absl::Status Seek(absl::string_view topic, int32_t partition, int64_t offset);

  // The number of partitions of `topic`; NOT_FOUND for an unknown topic.
  absl::StatusOr<int32_t> PartitionCount(absl::string_view topic, absl::Duration timeout);

  // For each partition of `topic` (0..partitions-1), the offset of the first record with a
  // timestamp >= `time`, or the end offset when there is none.
  absl::StatusOr<std::map<int32_t, int64_t>> OffsetsForTime(absl::string_view topic,
                                                            int32_t partitions, absl::Time time,
                                                            absl::Duration timeout);

  // For each partition, the end offset a reader of this consumer's isolation level can read
  // up to: the high watermark, or for read_committed the last stable offset, which passes a
  // committed transaction's records a moment after the commit returned (when the markers are
  // written). Each partition's high watermark is asked too and the larger answer wins: the
  // "latest" query has been seen to answer -1, 0 or a stale offset short of the end.
  absl::StatusOr<std::map<int32_t, int64_t>> EndOffsets(absl::string_view topic, int32_t partitions,
                                                        absl::Duration timeout);

  // For each partition, the log start offset (low watermark): the first offset still in the
  // log. Above 0 when records were deleted (by retention or DeleteRecords).
  absl::StatusOr<std::map<int32_t, int64_t>> StartOffsets(absl::string_view topic,
                                                          int32_t partitions,
                                                          absl::Duration timeout);

  // Stops fetching an assigned `partition` of `topic`: records of it already fetched but not yet
  // polled are dropped, and none are returned until Resume(). Resume() goes on with the record
  // after the last one Poll() returned (or the assigned offset when none was).
  absl::Status Pause(absl::string_view topic, int32_t partition);
  absl::Status Resume(absl::string_view topic, int32_t partition);

  // The next record, or nullopt when none arrived within `timeout`. Kafka errors keep their
  // codes (kafka_status.h); retriable ones (a broker briefly away) may simply be polled past.
  absl::StatusOr<std::optional<ConsumedRecord>> Poll(absl::Duration timeout);

  // As Poll(), but fills `consumed` in place: its strings and headers keep their storage, so a
  // reader that reuses one ConsumedRecord allocates per record only where a value outgrows the
  // last. Returns false when nothing arrived within `timeout` (`consumed` is then unspecified).
  absl::StatusOr<bool> PollInto(absl::Duration timeout, ConsumedRecord& consumed);

  // Gives each of `partitions` of `topic` (assigned already) a queue of its own, read with
  // PollPartitionInto, so that a reader merging partitions in an order of its own (replay by
  // time) fetches from the partition it needs next instead of pausing the others (a pause drops
  // what was fetched). librdkafka then limits its prefetch per partition
  // (queued.max.messages.kbytes applies to each). Records already in the consumer's queue, and
  // any that librdkafka still routes there, keep coming from PollInto, which a reader must
  // therefore poll too. FAILED_PRECONDITION for a partition not assigned.
  absl::Status SplitPartitions(absl::string_view topic, const std::vector<int32_t>& partitions);
  // As PollInto, for one partition given a queue by SplitPartitions (FAILED_PRECONDITION for
  // another).
  absl::StatusOr<bool> PollPartitionInto(int32_t partition, absl::Duration timeout,
                                         ConsumedRecord& consumed);

 private:
  struct Impl;
  explicit Consumer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_CONSUMER_H_

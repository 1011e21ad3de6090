// The one Kafka reader per process that follows the end of the event log and fans its records out
// to every live subscriber.
//
// The tail keeps the records it has read in a ring bounded by bytes and by count. Each live
// subscriber reads the ring at its own pace (a sequence number of its own), so a record is
// decoded, and its filter facts computed, once per process whatever the number of subscribers.
// A subscriber whose next record has left the ring has fallen behind: it goes back to a catch-up
// reader (subscription.h). The ring, not a queue per subscriber, is what bounds memory.
//
// Threading: one internal thread reads Kafka. Every public method is thread-safe.
#ifndef COOP_SERVICES_STREAM_LOG_TAIL_H_
#define COOP_SERVICES_STREAM_LOG_TAIL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kafka/consumer.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/envelope.pb.h"
#include "services/stream/filter/event_filter.h"

namespace coop::stream {

// One record read from the log.
struct TailEntry {
  int32_t partition = 0;
  int64_t offset = 0;
  // The record's timestamp: the event's recorded_time.
  absl::Time timestamp;
  // False when the record does not decode as an event: it is passed over (and counted), but
  // its offset still moves every reader past it.
  bool decoded = false;
  // The record value exactly as stored: the serialized Event (sent to subscribers as it is).
  std::string value;
  EventFacts facts;
  // Roughly the memory the entry holds.
  size_t bytes = 0;
};

// Told when the tail has read more (new records, or a partition's end moved past markers).
class TailListener {
 public:
  virtual ~TailListener() = default;
  // Called once per registration, on the tail's thread, without any tail lock held. Must not
  // block.
  virtual void OnTailAdvanced() = 0;
};

struct LogTailOptions {
  kafka::KafkaConfig kafka;
  std::string topic = "coop.events";
  // The ring holds at most this many bytes of records, and this many records.
  size_t max_bytes = size_t{64} << 20;
  size_t max_entries = 200'000;
};

struct LogTailStats {
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> undecodable{0};
  std::atomic<int64_t> evicted{0};
};

class LogTail {
 public:
  // Starts reading at the end of every partition. Fails when the topic cannot be described.
  static absl::StatusOr<std::unique_ptr<LogTail>> Start(const LogTailOptions& options);
  ~LogTail();

  LogTail(const LogTail&) = delete;
  LogTail& operator=(const LogTail&) = delete;

  int32_t partitions() const { return partitions_; }

  struct Slice {
    std::vector<std::shared_ptr<const TailEntry>> entries;
    // The sequence number after the last entry returned (the one to read next).
    uint64_t next_seq = 0;
    // The entry at the requested sequence number has already left the ring.
    bool behind = false;
    // Set when at_head: per partition, the offset the tail has read up to. A reader that has
    // processed every entry before next_seq has, in effect, read that far.
    std::vector<int64_t> known;
    // True when next_seq is the ring's head (nothing more to read now).
    bool at_head = false;
  };

  // Up to `max` entries from sequence number `seq`. When the slice ends at the head and
  // `listener` is set, it is registered (atomically with taking the slice, so no advance is
  // missed) to be told once when the tail reads more.
  Slice Read(uint64_t seq, size_t max, const std::weak_ptr<TailListener>& listener);

  // Where a reader that has read each partition p up to next[p] can continue in the ring with
  // no gap: the sequence number to read from (entries below next[p] are then to be skipped).
  // nullopt when the ring no longer holds every record from next[p] on (the reader must catch
  // up from Kafka first).
  std::optional<uint64_t> JoinAt(const std::vector<int64_t>& next) const;

  // Per partition, the offset the tail has read up to.
  std::vector<int64_t> Known() const;

  // OK while the tail reads; otherwise the error it stopped on.
  absl::Status health() const;
  const LogTailStats& stats() const { return stats_; }
  // Bytes the ring holds now.
  size_t ring_bytes() const;

 private:
  LogTail(const LogTailOptions& options, std::unique_ptr<kafka::Consumer> consumer,
          int32_t partitions, std::vector<int64_t> start);
  void Run();
  // Appends a batch, evicts what exceeds the bounds, and tells the listeners.
  void Publish(std::vector<std::shared_ptr<const TailEntry>> batch,
               const std::vector<std::pair<int32_t, int64_t>>& ends);

  const LogTailOptions options_;
  const std::unique_ptr<kafka::Consumer> consumer_;
  const int32_t partitions_;
  LogTailStats stats_;
  std::atomic<bool> stop_{false};

  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<const TailEntry>> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t first_seq_ ABSL_GUARDED_BY(mu_) = 0;  // Sequence number of ring_.front().
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Per partition: every record read at or after base_[p] is in the ring.
  std::vector<int64_t> base_ ABSL_GUARDED_BY(mu_);
  // Per partition: the offset read up to (past the last record, or the end reported).
  std::vector<int64_t> known_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<TailListener>> listeners_ ABSL_GUARDED_BY(mu_);
  absl::Status health_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_LOG_TAIL_H_

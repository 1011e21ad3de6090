// A Kafka consumer that reads records by explicit assignment (no consumer group) or, with a
// group id, as part of a group. Not thread-safe: one thread owns it.
#ifndef COOP_COMMON_KAFKA_CONSUMER_H_
#define COOP_COMMON_KAFKA_CONSUMER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

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

struct ConsumerOptions {
  // Empty: no group; the consumer reads what Assign() says and commits nothing.
  std::string group_id;
  // Only records of committed transactions (and non-transactional ones) are returned.
  bool read_committed = true;
};

struct ConsumedRecord {
  KafkaRecord record;
  RecordPosition position;
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

  // The next record, or nullopt when none arrived within `timeout`. Kafka errors keep their
  // codes (kafka_status.h); retriable ones (a broker briefly away) may simply be polled past.
  absl::StatusOr<std::optional<ConsumedRecord>> Poll(absl::Duration timeout);

 private:
  struct Impl;
  explicit Consumer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_CONSUMER_H_

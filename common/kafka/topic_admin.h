// Creates and inspects Kafka topics through librdkafka's Admin API.
#ifndef COOP_COMMON_KAFKA_TOPIC_ADMIN_H_
#define COOP_COMMON_KAFKA_TOPIC_ADMIN_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/kafka/kafka_config.h"

namespace coop::kafka {

// What a topic must look like.
struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  // Topic-level configs (retention.ms, min.insync.replicas, ...), set at creation and checked
  // against an existing topic.
  std::map<std::string, std::string> configs;

  // INVALID_ARGUMENT naming the field: a legal Kafka topic name (1..249 of [A-Za-z0-9._-], not
  // "." or ".."), partitions and replication factor >= 1.
  absl::Status Validate() const;
};

struct PartitionDescription {
  int32_t id = 0;
  int32_t leader = -1;  // Broker id, -1 when there is no leader.
  std::vector<int32_t> replicas;
  std::vector<int32_t> in_sync_replicas;
};

struct TopicDescription {
  std::string name;
  std::vector<PartitionDescription> partitions;  // Ordered by partition id.
  // Every config the broker reports for the topic, defaults included.
  std::map<std::string, std::string> configs;
};

// One admin client. Thread-safe: librdkafka handles are, and the class holds no other state.
class TopicAdmin {
 public:
  static absl::StatusOr<std::unique_ptr<TopicAdmin>> Create(const KafkaConfig& config);
  ~TopicAdmin();
  TopicAdmin(const TopicAdmin&) = delete;
  TopicAdmin& operator=(const TopicAdmin&) = delete;

  // Creates every topic in `specs` that does not exist yet. A topic that already exists is
  // fine when its partition count, replication factor and the configs named in its spec match;
  // otherwise FAILED_PRECONDITION listing each difference (nothing is altered). Broker errors
  // keep their codes (kafka_status.h); UNAVAILABLE when Kafka does not answer
  // within `timeout`.
  absl::Status EnsureTopics(absl::Span<const TopicSpec> specs, absl::Duration timeout);

  // Partitions with leaders and in-sync replicas, and the topic's configs. NOT_FOUND for an
  // unknown topic.
  absl::StatusOr<TopicDescription> DescribeTopic(absl::string_view name, absl::Duration timeout);

  // The cluster id the brokers report (names the log in cursor tokens).
  absl::StatusOr<std::string> ClusterId(absl::Duration timeout);

  // Deletes a topic; NOT_FOUND when it does not exist.
  absl::Status DeleteTopic(absl::string_view name, absl::Duration timeout);

  // Deletes the records of `topic`[`partition`] before `offset` (Kafka's DeleteRecords: the
  // log start offset moves up). Returns the new log start offset. Never used on coopstream's own
  // topics, which keep everything; tests use it to play a log that lost records.
  absl::StatusOr<int64_t> DeleteRecordsBefore(absl::string_view topic, int32_t partition,
                                              int64_t offset, absl::Duration timeout);

 private:
  struct Impl;
  explicit TopicAdmin(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_TOPIC_ADMIN_H_

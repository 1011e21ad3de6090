// The topics coopstream keeps its events in, and how they are configured.
#ifndef COOP_COMMON_KAFKA_EVENT_TOPICS_H_
#define COOP_COMMON_KAFKA_EVENT_TOPICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/kafka/topic_admin.h"

namespace coop::kafka {

struct EventTopicsConfig {
  // The event log: every accepted event, keyed by subject, kept forever (retention.ms=-1).
  std::string events_topic = "coop.events";
  // Records consumers could not use (undecodable, unknown type, invalid), with the reason and
  // the source partition and offset in headers. Also kept forever: nothing is dropped silently.
  std::string dead_letter_topic = "coop.events.dlq";
  // Partitions of the event log: the unit of ordering (per subject) and of consumer
  // parallelism. Can be raised later only at the price of moving subjects between partitions.
  int32_t partitions = 6;
  // 1 on a single local broker; 3 on a cluster.
  int32_t replication_factor = 1;
  // Replicas that must hold a record before acks=all succeeds; 2 with replication factor 3, so
  // one broker may be down while publishing goes on and no acknowledged record is lost.
  int32_t min_insync_replicas = 1;

  // INVALID_ARGUMENT naming the field (names, counts, min.insync.replicas <= replication).
  absl::Status Validate() const;
};

// The specs EnsureTopics creates: the event log and the dead-letter topic.
std::vector<TopicSpec> EventTopicSpecs(const EventTopicsConfig& config);

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_EVENT_TOPICS_H_

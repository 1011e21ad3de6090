// `coopctl topics ...`: ensure and describe coopstream's Kafka topics.
#ifndef COOP_TOOLS_COOPCTL_TOPICS_COMMAND_H_
#define COOP_TOOLS_COOPCTL_TOPICS_COMMAND_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/kafka_config.h"

namespace coop::ctl {

// Creates the event log and dead-letter topics unless they exist (existing ones must match),
// then writes one line per topic describing it to `out`.
absl::Status EnsureTopics(const kafka::KafkaConfig& kafka, const kafka::EventTopicsConfig& topics,
                          absl::Duration timeout, std::ostream& out);

// Writes partitions (leader, replicas, in-sync replicas) and the non-default-looking configs of
// `topic` to `out`.
absl::Status DescribeTopic(const kafka::KafkaConfig& kafka, absl::string_view topic,
                           absl::Duration timeout, std::ostream& out);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_TOPICS_COMMAND_H_

#include "common/kafka/event_topics.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace coop::kafka {

absl::Status EventTopicsConfig::Validate() const {
  if (events_topic == dead_letter_topic) {
    return absl::InvalidArgumentError(
        absl::StrCat("dead_letter_topic: must differ from events_topic ('", events_topic, "')"));
  }
  for (const TopicSpec& spec : EventTopicSpecs(*this)) COOP_RETURN_IF_ERROR(spec.Validate());
  if (min_insync_replicas < 1 || min_insync_replicas > replication_factor) {
    return absl::InvalidArgumentError(absl::StrCat("min_insync_replicas: ", min_insync_replicas,
                                                   " must be between 1 and replication_factor (",
                                                   replication_factor, ")"));
  }
  return absl::OkStatus();
}

std::vector<TopicSpec> EventTopicSpecs(const EventTopicsConfig& config) {
  const std::map<std::string, std::string> keep_forever = {
      {"cleanup.policy", "delete"},
      {"retention.ms", "-1"},
      {"retention.bytes", "-1"},
      {"min.insync.replicas", absl::StrCat(config.min_insync_replicas)},
      // Replay by time seeks on the producer's timestamps (the time the event was recorded).
      {"message.timestamp.type", "CreateTime"},
      // A replica that missed records must never become leader: that would lose acked events.
      {"unclean.leader.election.enable", "false"},
  };
  return {
      TopicSpec{.name = config.events_topic,
                .partitions = config.partitions,
                .replication_factor = config.replication_factor,
                .configs = keep_forever},
      TopicSpec{.name = config.dead_letter_topic,
                .partitions = config.partitions,
                .replication_factor = config.replication_factor,
                .configs = keep_forever},
  };
}

}  // namespace coop::kafka

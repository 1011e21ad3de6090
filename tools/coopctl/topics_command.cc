#include "tools/coopctl/topics_command.h"

#include <memory>

#include "absl/strings/str_join.h"
#include "common/kafka/topic_admin.h"
#include "common/status_macros.h"

namespace coop::ctl {
namespace {

void PrintTopic(const kafka::TopicDescription& topic, std::ostream& out) {
  out << "topic " << topic.name << ": partitions=" << topic.partitions.size()
      << " replication_factor="
      << (topic.partitions.empty() ? 0 : topic.partitions.front().replicas.size());
  for (const char* config : {"retention.ms", "retention.bytes", "min.insync.replicas",
                             "cleanup.policy", "message.timestamp.type"}) {
    auto it = topic.configs.find(config);
    if (it != topic.configs.end()) out << " " << config << "=" << it->second;
  }
  out << "\n";
  for (const kafka::PartitionDescription& partition : topic.partitions) {
    out << "  partition " << partition.id << ": leader=" << partition.leader
        << " replicas=" << absl::StrJoin(partition.replicas, ",")
        << " isr=" << absl::StrJoin(partition.in_sync_replicas, ",") << "\n";
  }
}

}  // namespace

absl::Status EnsureTopics(const kafka::KafkaConfig& kafka, const kafka::EventTopicsConfig& topics,
                          absl::Duration timeout, std::ostream& out) {
  COOP_RETURN_IF_ERROR(topics.Validate());
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin, kafka::TopicAdmin::Create(kafka));
  const std::vector<kafka::TopicSpec> specs = kafka::EventTopicSpecs(topics);
  COOP_RETURN_IF_ERROR(admin->EnsureTopics(specs, timeout));
  for (const kafka::TopicSpec& spec : specs) {
    COOP_ASSIGN_OR_RETURN(kafka::TopicDescription description,
                          admin->DescribeTopic(spec.name, timeout));
    PrintTopic(description, out);
  }
  return absl::OkStatus();
}

absl::Status DescribeTopic(const kafka::KafkaConfig& kafka, absl::string_view topic,
                           absl::Duration timeout, std::ostream& out) {
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin, kafka::TopicAdmin::Create(kafka));
  COOP_ASSIGN_OR_RETURN(kafka::TopicDescription description, admin->DescribeTopic(topic, timeout));
  PrintTopic(description, out);
  return absl::OkStatus();
}

}  // namespace coop::ctl

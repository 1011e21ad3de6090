#include "tests/consumers/views/runtime/runtime_test_env.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/events/record_codec.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/producer.h"
#include "common/kafka/topic_admin.h"
#include "common/status_macros.h"
#include "tests/consumers/views/projector_test_util.h"

namespace coop::views::testing {

absl::StatusOr<TestTopics> CreateTestTopics(const std::string& bootstrap_servers,
                                            const std::string& prefix) {
  TestTopics topics;
  topics.kafka.bootstrap_servers = bootstrap_servers;
  topics.kafka.client_id = "coop-views-test";
  topics.events = prefix;
  topics.dead_letters = prefix + ".dlq";
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin,
                        kafka::TopicAdmin::Create(topics.kafka));
  // Configured as in production: the generated events were recorded in 2025, and a topic with
  // Kafka's default retention (7 days) would delete them mid-test.
  kafka::EventTopicsConfig config;
  config.events_topic = topics.events;
  config.dead_letter_topic = topics.dead_letters;
  config.partitions = kTestPartitions;
  COOP_RETURN_IF_ERROR(admin->EnsureTopics(kafka::EventTopicSpecs(config), absl::Seconds(60)));
  return topics;
}

absl::StatusOr<std::vector<kafka::RecordPosition>> ProduceRecords(
    const kafka::KafkaConfig& kafka, const std::string& topic,
    const std::vector<kafka::KafkaRecord>& records) {
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Producer> producer, kafka::Producer::Create(kafka));
  std::vector<kafka::RecordPosition> positions(records.size());
  std::vector<absl::Status> results(records.size());
  std::atomic<size_t> done{0};
  for (size_t i = 0; i < records.size(); ++i) {
    absl::Status queued;
    do {
      queued = producer->Produce(topic, records[i],
                                 [&, i](absl::StatusOr<kafka::RecordPosition> position) {
                                   if (position.ok()) {
                                     positions[i] = *position;
                                   } else {
                                     results[i] = position.status();
                                   }
                                   ++done;
                                 });
      if (absl::IsResourceExhausted(queued)) absl::SleepFor(absl::Milliseconds(5));
    } while (absl::IsResourceExhausted(queued));
    COOP_RETURN_IF_ERROR(queued);
  }
  while (done.load() < records.size()) absl::SleepFor(absl::Milliseconds(2));
  for (const absl::Status& result : results) COOP_RETURN_IF_ERROR(result);
  return positions;
}

absl::StatusOr<std::vector<kafka::RecordPosition>> ProduceEvents(
    const kafka::KafkaConfig& kafka, const std::string& topic,
    const std::vector<coop::v1::Event>& events) {
  std::vector<kafka::KafkaRecord> records;
  records.reserve(events.size());
  for (const coop::v1::Event& event : events) {
    COOP_ASSIGN_OR_RETURN(kafka::KafkaRecord record, events::EncodeRecord(event));
    records.push_back(std::move(record));
  }
  return ProduceRecords(kafka, topic, records);
}

ViewConsumerOptions TestConsumerOptions(const TestTopics& topics) {
  ViewConsumerOptions options;
  options.kafka = topics.kafka;
  options.topic = topics.events;
  options.dead_letter_topic = topics.dead_letters;
  options.max_batch_records = 50;
  return options;
}

absl::Status ConsumeToEnd(const ViewConsumerOptions& options,
                          std::unique_ptr<sql::Connection> connection,
                          const std::string& cluster_id) {
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<ViewConsumer> consumer,
                        ViewConsumer::Create(options, std::move(connection), cluster_id));
  COOP_ASSIGN_OR_RETURN(auto ends, consumer->EndOffsets());
  std::atomic<bool> stop{false};
  COOP_RETURN_IF_ERROR(consumer->Run(stop, ends));
  if (const int64_t dead = consumer->stats().dead_lettered.load(); dead > 0) {
    return absl::InternalError(absl::StrCat(dead, " records were dead-lettered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ClusterIdOf(const kafka::KafkaConfig& kafka) {
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin, kafka::TopicAdmin::Create(kafka));
  return admin->ClusterId(absl::Seconds(30));
}

absl::StatusOr<std::string> DumpViews(sql::Connection& connection) {
  return DumpTables(connection, {"schema_migrations"});
}

}  // namespace coop::views::testing

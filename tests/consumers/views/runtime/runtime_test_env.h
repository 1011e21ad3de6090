// Helpers of the views runtime tests: a topic on the test broker, events written into it as a
// publisher writes them, and a from-scratch projection to compare with.
#ifndef COOP_TESTS_CONSUMERS_VIEWS_RUNTIME_RUNTIME_TEST_ENV_H_
#define COOP_TESTS_CONSUMERS_VIEWS_RUNTIME_RUNTIME_TEST_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/kafka/kafka_config.h"
#include "common/kafka/record.h"
#include "consumers/views/sql/connection.h"
#include "consumers/views/view_consumer.h"
#include "coop/v1/envelope.pb.h"

namespace coop::views::testing {

inline constexpr int32_t kTestPartitions = 3;

// The event topic and its dead-letter topic, created on the single-node test broker.
struct TestTopics {
  kafka::KafkaConfig kafka;
  std::string events;
  std::string dead_letters;
};
absl::StatusOr<TestTopics> CreateTestTopics(const std::string& bootstrap_servers,
                                            const std::string& prefix);

// Writes records to `topic` and waits for every delivery; returns the positions.
absl::StatusOr<std::vector<kafka::RecordPosition>> ProduceRecords(
    const kafka::KafkaConfig& kafka, const std::string& topic,
    const std::vector<kafka::KafkaRecord>& records);
// The same for events, encoded as the publisher encodes them.
absl::StatusOr<std::vector<kafka::RecordPosition>> ProduceEvents(
    const kafka::KafkaConfig& kafka, const std::string& topic,
    const std::vector<coop::v1::Event>& events);

// Consumer options for the test topics, with small batches.
ViewConsumerOptions TestConsumerOptions(const TestTopics& topics);

// Creates a consumer on `connection` and runs it until it has applied the log up to the end
// offsets of now.
absl::Status ConsumeToEnd(const ViewConsumerOptions& options,
                          std::unique_ptr<sql::Connection> connection,
                          const std::string& cluster_id = "test-cluster");

// The cluster id of the test broker.
absl::StatusOr<std::string> ClusterIdOf(const kafka::KafkaConfig& kafka);

// Every table of the generation database except the schema bookkeeping, as comparable text.
absl::StatusOr<std::string> DumpViews(sql::Connection& connection);

}  // namespace coop::views::testing

#endif  // COOP_TESTS_CONSUMERS_VIEWS_RUNTIME_RUNTIME_TEST_ENV_H_

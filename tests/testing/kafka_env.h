// Where integration tests find their brokers. tools/test starts them and sets the variables;
// a test run without them fails with instructions instead of skipping.
#ifndef COOP_TESTS_TESTING_KAFKA_ENV_H_
#define COOP_TESTS_TESTING_KAFKA_ENV_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace coop::testing {

// COOP_TEST_KAFKA_BOOTSTRAP: the single-node broker.
inline constexpr char kSingleNodeVariable[] = "COOP_TEST_KAFKA_BOOTSTRAP";
// COOP_TEST_KAFKA_CLUSTER_BOOTSTRAP: the three-node cluster.
inline constexpr char kClusterVariable[] = "COOP_TEST_KAFKA_CLUSTER_BOOTSTRAP";

// The value of `variable`, or an empty string after recording a test failure that says how to
// start a broker. Call from the test body or SetUp and return when it is empty.
std::string BootstrapServersOrFail(const char* variable);

// A topic name no other test (or earlier run) uses: prefix, test name and a random suffix.
std::string UniqueTopicName(absl::string_view prefix);

// Creates the event log topic `events_topic` and its dead-letter topic `events_topic`.dlq, as
// coopctl topics ensure does, with `partitions` partitions each.
absl::Status CreateEventTopics(const std::string& bootstrap_servers,
                               const std::string& events_topic, int32_t partitions = 6);

}  // namespace coop::testing

#endif  // COOP_TESTS_TESTING_KAFKA_ENV_H_

#include "tests/testing/kafka_env.h"

#include <cstdlib>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/topic_admin.h"
#include "gtest/gtest.h"

namespace coop::testing {

std::string BootstrapServersOrFail(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << variable
                  << " is not set: this test needs a real Kafka broker. Run the whole suite "
                     "with tools/test (it starts the brokers), or start one with "
                     "deploy/kafka/start (add --nodes 3 for the cluster) and set "
                  << variable << " to the bootstrap=... line it prints.";
    return "";
  }
  return value;
}

std::string UniqueTopicName(absl::string_view prefix) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test =
      info != nullptr ? absl::StrCat(info->test_suite_name(), ".", info->name()) : "no-test";
  test = absl::StrReplaceAll(test, {{"/", "-"}});
  std::random_device random;
  return absl::StrCat(prefix, ".", test, ".", random() % 1000000000);
}

absl::Status CreateEventTopics(const std::string& bootstrap_servers,
                               const std::string& events_topic, int32_t partitions) {
  kafka::EventTopicsConfig topics;
  topics.events_topic = events_topic;
  topics.dead_letter_topic = events_topic + ".dlq";
  topics.partitions = partitions;
  absl::StatusOr<std::unique_ptr<kafka::TopicAdmin>> admin =
      kafka::TopicAdmin::Create(kafka::KafkaConfig{.bootstrap_servers = bootstrap_servers});
  if (!admin.ok()) return admin.status();
  return (*admin)->EnsureTopics(kafka::EventTopicSpecs(topics), absl::Seconds(30));
}

}  // namespace coop::testing

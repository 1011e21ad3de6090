// Integration: `coopctl topics ensure|describe` against the real single-node broker.
#include "tools/coopctl/topics_command.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/kafka_env.h"

namespace coop::ctl {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(30);

class TopicsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_.bootstrap_servers = testing::BootstrapServersOrFail(testing::kSingleNodeVariable);
    if (kafka_.bootstrap_servers.empty()) GTEST_FAIL() << "no broker";
    topics_.events_topic = testing::UniqueTopicName("ctl");
    topics_.dead_letter_topic = topics_.events_topic + ".dlq";
  }

  kafka::KafkaConfig kafka_;
  kafka::EventTopicsConfig topics_;
};

TEST_F(TopicsCommandTest, EnsureTwicePrintsBothTopicsEachTime) {
  for (int run = 0; run < 2; ++run) {
    std::ostringstream out;
    const absl::Status status = EnsureTopics(kafka_, topics_, kTimeout, out);
    ASSERT_TRUE(status.ok()) << "run " << run << ": " << status;
    EXPECT_THAT(out.str(), HasSubstr("topic " + topics_.events_topic +
                                     ": partitions=6 replication_factor=1 retention.ms=-1"));
    EXPECT_THAT(out.str(), HasSubstr("topic " + topics_.dead_letter_topic + ": partitions=6"));
  }
}

TEST_F(TopicsCommandTest, EnsureWithOtherPartitionCountFailsAndNamesTheDifference) {
  ASSERT_TRUE(EnsureTopics(kafka_, topics_, kTimeout, std::cout).ok());
  topics_.partitions = 12;
  std::ostringstream out;
  const absl::Status status = EnsureTopics(kafka_, topics_, kTimeout, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("partitions is 6, wanted 12"));
}

TEST_F(TopicsCommandTest, InvalidTopicConfigIsRejectedBeforeContactingKafka) {
  topics_.min_insync_replicas = 2;           // With replication factor 1.
  kafka_.bootstrap_servers = "127.0.0.1:1";  // Nothing listens there.
  std::ostringstream out;
  const absl::Status status = EnsureTopics(kafka_, topics_, kTimeout, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("min_insync_replicas"));
}

TEST_F(TopicsCommandTest, DescribePrintsPartitionsWithLeaders) {
  ASSERT_TRUE(EnsureTopics(kafka_, topics_, kTimeout, std::cout).ok());
  std::ostringstream out;
  ASSERT_TRUE(DescribeTopic(kafka_, topics_.events_topic, kTimeout, out).ok());
  EXPECT_THAT(out.str(), HasSubstr("partition 5: leader=1 replicas=1 isr=1"));
}

// A broker that is down is UNAVAILABLE (retriable) once the timeout has passed, never a hang.
TEST_F(TopicsCommandTest, UnreachableBrokerIsUnavailableAfterTheTimeout) {
  kafka_.bootstrap_servers = "127.0.0.1:1";
  std::ostringstream out;
  const absl::Time start = absl::Now();
  const absl::Status status = EnsureTopics(kafka_, topics_, absl::Seconds(2), out);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace coop::ctl

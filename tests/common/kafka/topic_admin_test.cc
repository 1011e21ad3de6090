// Integration: topic creation against the real single-node broker.
#include "common/kafka/topic_admin.h"

#include <memory>

#include "common/kafka/event_topics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/kafka_env.h"

namespace coop::kafka {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr absl::Duration kTimeout = absl::Seconds(30);

class TopicAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.bootstrap_servers = testing::BootstrapServersOrFail(testing::kSingleNodeVariable);
    if (config_.bootstrap_servers.empty()) GTEST_FAIL() << "no broker";
    absl::StatusOr<std::unique_ptr<TopicAdmin>> admin = TopicAdmin::Create(config_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
  }

  KafkaConfig config_;
  std::unique_ptr<TopicAdmin> admin_;
};

TEST_F(TopicAdminTest, EnsureEventTopicsTwiceSucceedsAndSetsConfigs) {
  EventTopicsConfig topics;
  topics.events_topic = testing::UniqueTopicName("events");
  topics.dead_letter_topic = topics.events_topic + ".dlq";
  topics.partitions = 3;
  const std::vector<TopicSpec> specs = EventTopicSpecs(topics);

  ASSERT_TRUE(admin_->EnsureTopics(specs, kTimeout).ok());
  const absl::Status second = admin_->EnsureTopics(specs, kTimeout);
  EXPECT_TRUE(second.ok()) << second;

  for (const TopicSpec& spec : specs) {
    absl::StatusOr<TopicDescription> description = admin_->DescribeTopic(spec.name, kTimeout);
    ASSERT_TRUE(description.ok()) << description.status();
    EXPECT_EQ(description->partitions.size(), 3u);
    EXPECT_THAT(description->configs, Contains(Pair("retention.ms", "-1")));
    EXPECT_THAT(description->configs, Contains(Pair("retention.bytes", "-1")));
    EXPECT_THAT(description->configs, Contains(Pair("cleanup.policy", "delete")));
    EXPECT_THAT(description->configs, Contains(Pair("min.insync.replicas", "1")));
    EXPECT_THAT(description->configs, Contains(Pair("message.timestamp.type", "CreateTime")));
    for (const PartitionDescription& partition : description->partitions) {
      EXPECT_GE(partition.leader, 0);
    }
  }
}

TEST_F(TopicAdminTest, ExistingTopicWithOtherPartitionCountIsFailedPrecondition) {
  const std::string name = testing::UniqueTopicName("mismatch");
  ASSERT_TRUE(admin_->EnsureTopics({TopicSpec{.name = name, .partitions = 2}}, kTimeout).ok());

  const absl::Status status =
      admin_->EnsureTopics({TopicSpec{.name = name, .partitions = 4}}, kTimeout);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("partitions is 2, wanted 4"));
}

TEST_F(TopicAdminTest, ExistingTopicWithOtherConfigIsFailedPrecondition) {
  const std::string name = testing::UniqueTopicName("config");
  ASSERT_TRUE(admin_
                  ->EnsureTopics({TopicSpec{.name = name, .configs = {{"retention.ms", "60000"}}}},
                                 kTimeout)
                  .ok());

  const absl::Status status = admin_->EnsureTopics(
      {TopicSpec{.name = name, .configs = {{"retention.ms", "-1"}}}}, kTimeout);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("retention.ms is 60000, wanted -1"));
}

TEST_F(TopicAdminTest, ReplicationAboveBrokerCountKeepsKafkasInvalidArgument) {
  const absl::Status status = admin_->EnsureTopics(
      {TopicSpec{.name = testing::UniqueTopicName("rf"), .replication_factor = 3}}, kTimeout);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(TopicAdminTest, DescribeUnknownTopicIsNotFound) {
  const absl::StatusOr<TopicDescription> description =
      admin_->DescribeTopic(testing::UniqueTopicName("absent"), kTimeout);
  EXPECT_EQ(description.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TopicAdminTest, DeletedTopicIsGone) {
  const std::string name = testing::UniqueTopicName("deleted");
  ASSERT_TRUE(admin_->EnsureTopics({TopicSpec{.name = name}}, kTimeout).ok());
  ASSERT_TRUE(admin_->DeleteTopic(name, kTimeout).ok());
  // The controller has accepted the deletion; brokers learn of it from the metadata log a
  // moment later, so a describe right after may still find the topic.
  absl::StatusCode code = absl::StatusCode::kOk;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(100))) {
    code = admin_->DescribeTopic(name, kTimeout).status().code();
    if (code != absl::StatusCode::kOk) break;
  }
  EXPECT_EQ(code, absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace coop::kafka

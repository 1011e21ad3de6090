// Integration: the three-node loopback cluster (deploy/kafka/start --nodes 3).
#include <memory>

#include "common/kafka/event_topics.h"
#include "common/kafka/producer.h"
#include "common/kafka/topic_admin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/kafka_env.h"

namespace coop::kafka {
namespace {

using ::testing::Contains;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr absl::Duration kTimeout = absl::Seconds(60);

TEST(ClusterTest, EventTopicsHaveThreeInSyncReplicasOnThreeBrokers) {
  KafkaConfig config;
  config.bootstrap_servers = testing::BootstrapServersOrFail(testing::kClusterVariable);
  if (config.bootstrap_servers.empty()) return;
  absl::StatusOr<std::unique_ptr<TopicAdmin>> admin = TopicAdmin::Create(config);
  ASSERT_TRUE(admin.ok()) << admin.status();

  EventTopicsConfig topics;
  topics.events_topic = testing::UniqueTopicName("events");
  topics.dead_letter_topic = topics.events_topic + ".dlq";
  topics.replication_factor = 3;
  topics.min_insync_replicas = 2;
  const absl::Status ensured = (*admin)->EnsureTopics(EventTopicSpecs(topics), kTimeout);
  ASSERT_TRUE(ensured.ok()) << ensured;

  absl::StatusOr<TopicDescription> description =
      (*admin)->DescribeTopic(topics.events_topic, kTimeout);
  ASSERT_TRUE(description.ok()) << description.status();
  ASSERT_EQ(description->partitions.size(), 6u);
  for (const PartitionDescription& partition : description->partitions) {
    EXPECT_EQ(partition.replicas.size(), 3u) << "partition " << partition.id;
    EXPECT_THAT(partition.in_sync_replicas, UnorderedElementsAre(1, 2, 3))
        << "partition " << partition.id;
  }
  EXPECT_THAT(description->configs, Contains(Pair("min.insync.replicas", "2")));
}

TEST(ClusterTest, AcksAllRecordIsAcknowledgedByTheCluster) {
  KafkaConfig config;
  config.bootstrap_servers = testing::BootstrapServersOrFail(testing::kClusterVariable);
  if (config.bootstrap_servers.empty()) return;
  absl::StatusOr<std::unique_ptr<TopicAdmin>> admin = TopicAdmin::Create(config);
  ASSERT_TRUE(admin.ok()) << admin.status();
  const std::string topic = testing::UniqueTopicName("acks");
  ASSERT_TRUE((*admin)
                  ->EnsureTopics({TopicSpec{.name = topic,
                                            .replication_factor = 3,
                                            .configs = {{"min.insync.replicas", "2"}}}},
                                 kTimeout)
                  .ok());

  absl::StatusOr<std::unique_ptr<Producer>> producer = Producer::Create(config);
  ASSERT_TRUE(producer.ok()) << producer.status();
  absl::StatusOr<RecordPosition> position =
      (*producer)->ProduceAndWait(topic, KafkaRecord{.key = "k", .value = "v"}, kTimeout);
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(position->topic, topic);
  EXPECT_EQ(position->offset, 0);
}

}  // namespace
}  // namespace coop::kafka

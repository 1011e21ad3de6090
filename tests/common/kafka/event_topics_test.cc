#include "common/kafka/event_topics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coop::kafka {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(EventTopicsTest, DefaultsAreValid) { EXPECT_TRUE(EventTopicsConfig{}.Validate().ok()); }

TEST(EventTopicsTest, EventLogAndDeadLetterKeepEverything) {
  EventTopicsConfig config;
  config.replication_factor = 3;
  config.min_insync_replicas = 2;
  const std::vector<TopicSpec> specs = EventTopicSpecs(config);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "coop.events");
  EXPECT_EQ(specs[1].name, "coop.events.dlq");
  for (const TopicSpec& spec : specs) {
    EXPECT_EQ(spec.partitions, 6);
    EXPECT_EQ(spec.replication_factor, 3);
    EXPECT_THAT(spec.configs, Contains(Pair("retention.ms", "-1")));
    EXPECT_THAT(spec.configs, Contains(Pair("retention.bytes", "-1")));
    EXPECT_THAT(spec.configs, Contains(Pair("min.insync.replicas", "2")));
    EXPECT_THAT(spec.configs, Contains(Pair("unclean.leader.election.enable", "false")));
  }
}

TEST(EventTopicsTest, MinInsyncAboveReplicationIsInvalidArgument) {
  EventTopicsConfig config;
  config.replication_factor = 1;
  config.min_insync_replicas = 2;
  const absl::Status status = config.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("min_insync_replicas"));
}

TEST(EventTopicsTest, SameNameForBothTopicsIsInvalidArgument) {
  EventTopicsConfig config;
  config.dead_letter_topic = config.events_topic;
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TopicSpecTest, IllegalCharacterInNameIsInvalidArgument) {
  const absl::Status status = TopicSpec{.name = "coop events"}.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'coop events'"));
}

TEST(TopicSpecTest, ZeroPartitionsIsInvalidArgument) {
  const absl::Status status = TopicSpec{.name = "t", .partitions = 0}.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("partitions"));
}

}  // namespace
}  // namespace coop::kafka

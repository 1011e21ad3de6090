// Integration: the consumer against the real single-node broker, on a log whose first records
// were deleted.
#include "common/kafka/consumer.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/kafka/producer.h"
#include "common/kafka/topic_admin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/kafka_env.h"

namespace coop::kafka {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(30);

class ConsumerTest : public ::testing::Test {
 protected:
  // A one-partition topic holding records 0..9, of which 0..3 have been deleted.
  void SetUp() override {
    config_.bootstrap_servers = testing::BootstrapServersOrFail(testing::kSingleNodeVariable);
    if (config_.bootstrap_servers.empty()) GTEST_FAIL() << "no broker";
    topic_ = testing::UniqueTopicName("consumer");
    absl::StatusOr<std::unique_ptr<TopicAdmin>> admin = TopicAdmin::Create(config_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    ASSERT_TRUE(
        (*admin)->EnsureTopics({TopicSpec{.name = topic_, .partitions = 1}}, kTimeout).ok());
    absl::StatusOr<std::unique_ptr<Producer>> producer = Producer::Create(config_);
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int i = 0; i < 10; ++i) {
      KafkaRecord record;
      record.key = "k";
      record.value = absl::StrCat("record ", i);
      absl::StatusOr<RecordPosition> written =
          (*producer)->ProduceAndWait(topic_, record, kTimeout);
      ASSERT_TRUE(written.ok()) << written.status();
      ASSERT_EQ(written->offset, i);
    }
    absl::StatusOr<int64_t> start = (*admin)->DeleteRecordsBefore(topic_, 0, 4, kTimeout);
    ASSERT_TRUE(start.ok()) << start.status();
    EXPECT_EQ(*start, 4);
  }

  // The first record or error Poll() returns within the timeout.
  absl::StatusOr<ConsumedRecord> First(Consumer& consumer) {
    const absl::Time deadline = absl::Now() + kTimeout;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::optional<ConsumedRecord>> polled = consumer.Poll(absl::Milliseconds(200));
      if (!polled.ok()) return polled.status();
      if (polled->has_value() && !(*polled)->end_of_partition) return **polled;
    }
    return absl::DeadlineExceededError("nothing polled");
  }

  KafkaConfig config_;
  std::string topic_;
};

TEST_F(ConsumerTest, ByDefaultAReadFromDeletedRecordsJumpsToTheFirstOneLeft) {
  absl::StatusOr<std::unique_ptr<Consumer>> consumer = Consumer::Create(config_, {});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE((*consumer)->Assign(topic_, 0, 0).ok());
  absl::StatusOr<ConsumedRecord> first = First(**consumer);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->position.offset, 4);
  EXPECT_EQ(first->record.value, "record 4");
}

TEST_F(ConsumerTest, FailOnMissingOffsetMakesAReadFromDeletedRecordsDataLoss) {
  absl::StatusOr<std::unique_ptr<Consumer>> consumer =
      Consumer::Create(config_, ConsumerOptions{.fail_on_missing_offset = true});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE((*consumer)->Assign(topic_, 0, 2).ok());
  absl::StatusOr<ConsumedRecord> first = First(**consumer);
  ASSERT_FALSE(first.ok()) << "read offset " << first->position.offset;
  EXPECT_TRUE(absl::IsDataLoss(first.status())) << first.status();
  EXPECT_THAT(first.status().message(), HasSubstr(absl::StrCat(topic_, "[0] at offset 2")));
}

TEST_F(ConsumerTest, FailOnMissingOffsetReadsRecordsThatAreLeft) {
  absl::StatusOr<std::unique_ptr<Consumer>> consumer =
      Consumer::Create(config_, ConsumerOptions{.fail_on_missing_offset = true});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE((*consumer)->Assign(topic_, 0, 4).ok());
  absl::StatusOr<ConsumedRecord> first = First(**consumer);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->position.offset, 4);
}

}  // namespace
}  // namespace coop::kafka

// Integration: the consumer against the real single-node broker, on a log whose first records
// were deleted.
#include "common/kafka/consumer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

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

// Reads partition `partition`'s own queue until its end-of-partition marker: the offsets and
// values read, in order.
absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ReadSplit(Consumer& consumer,
                                                                       int32_t partition) {
  std::vector<std::pair<int64_t, std::string>> read;
  ConsumedRecord consumed;
  const absl::Time deadline = absl::Now() + kTimeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<bool> polled =
        consumer.PollPartitionInto(partition, absl::Milliseconds(200), consumed);
    if (!polled.ok()) return polled.status();
    if (!*polled) continue;
    if (consumed.position.partition != partition) {
      return absl::InternalError(absl::StrCat("partition ", partition,
                                              "'s queue returned a record of partition ",
                                              consumed.position.partition));
    }
    if (consumed.end_of_partition) return read;
    read.emplace_back(consumed.position.offset, consumed.record.value);
  }
  return absl::DeadlineExceededError(absl::StrCat("no end of partition ", partition));
}

TEST_F(ConsumerTest, SplitPartitionsReadEachPartitionFromItsOwnQueue) {
  const std::string topic = testing::UniqueTopicName("consumer-split");
  constexpr int32_t kPartitions = 3;
  absl::StatusOr<std::unique_ptr<TopicAdmin>> admin = TopicAdmin::Create(config_);
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_TRUE(
      (*admin)->EnsureTopics({TopicSpec{.name = topic, .partitions = kPartitions}}, kTimeout).ok());
  absl::StatusOr<std::unique_ptr<Producer>> producer = Producer::Create(config_);
  ASSERT_TRUE(producer.ok()) << producer.status();
  std::map<int32_t, std::vector<std::pair<int64_t, std::string>>> written;
  for (int i = 0; i < 60; ++i) {
    KafkaRecord record;
    record.key = absl::StrCat("key-", i % 12);
    record.value = absl::StrCat("record ", i);
    absl::StatusOr<RecordPosition> position = (*producer)->ProduceAndWait(topic, record, kTimeout);
    ASSERT_TRUE(position.ok()) << position.status();
    written[position->partition].emplace_back(position->offset, record.value);
  }
  ASSERT_EQ(written.size(), static_cast<size_t>(kPartitions)) << "keys left a partition empty";

  absl::StatusOr<std::unique_ptr<Consumer>> consumer =
      Consumer::Create(config_, ConsumerOptions{.report_end_of_partition = true});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE((*consumer)->AssignAll(topic, {{0, 0}, {1, 0}, {2, 0}}).ok());
  ASSERT_TRUE((*consumer)->SplitPartitions(topic, {0, 1, 2}).ok());
  // Read in reverse order: each queue holds its own partition's records whatever was read first.
  for (int32_t p = kPartitions - 1; p >= 0; --p) {
    SCOPED_TRACE(absl::StrCat("partition ", p));
    absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> read = ReadSplit(**consumer, p);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, written[p]);
  }
  // Nothing of the split partitions comes through the consumer's own queue.
  absl::StatusOr<std::optional<ConsumedRecord>> main = (*consumer)->Poll(absl::Milliseconds(300));
  ASSERT_TRUE(main.ok()) << main.status();
  EXPECT_FALSE(main->has_value()) << "offset " << (*main)->position.offset << " of partition "
                                  << (*main)->position.partition << " came through Poll()";

  ConsumedRecord consumed;
  absl::StatusOr<bool> not_split =
      (*consumer)->PollPartitionInto(kPartitions, absl::ZeroDuration(), consumed);
  EXPECT_TRUE(absl::IsFailedPrecondition(not_split.status())) << not_split.status();
  const absl::Status unassigned = (*consumer)->SplitPartitions(topic, {kPartitions + 5});
  EXPECT_TRUE(absl::IsFailedPrecondition(unassigned)) << unassigned;
}

TEST_F(ConsumerTest, ASplitPartitionReportsDeletedRecordsAsDataLoss) {
  absl::StatusOr<std::unique_ptr<Consumer>> consumer =
      Consumer::Create(config_, ConsumerOptions{.fail_on_missing_offset = true});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE((*consumer)->Assign(topic_, 0, 2).ok());
  ASSERT_TRUE((*consumer)->SplitPartitions(topic_, {0}).ok());
  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> read = ReadSplit(**consumer, 0);
  EXPECT_TRUE(absl::IsDataLoss(read.status())) << read.status();
  EXPECT_THAT(read.status().message(), HasSubstr(absl::StrCat(topic_, "[0] at offset 2")));
}

}  // namespace
}  // namespace coop::kafka

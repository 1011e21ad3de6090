// Integration: an event envelope with Cyrillic and Kazakh text goes through the real broker and
// comes back byte for byte, headers included.
#include <memory>
#include <optional>

#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/kafka/topic_admin.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/printers.h"
#include "tests/testing/sample_events.h"

namespace coop::events {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAreArray;

constexpr absl::Duration kTimeout = absl::Seconds(30);

class RecordRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.bootstrap_servers = testing::BootstrapServersOrFail(testing::kSingleNodeVariable);
    if (config_.bootstrap_servers.empty()) GTEST_FAIL() << "no broker";
    topic_ = testing::UniqueTopicName("roundtrip");
    absl::StatusOr<std::unique_ptr<kafka::TopicAdmin>> admin = kafka::TopicAdmin::Create(config_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    ASSERT_TRUE((*admin)->EnsureTopics({kafka::TopicSpec{.name = topic_}}, kTimeout).ok());
  }

  // Reads records of partition 0 from the beginning until `count` arrived or time is up.
  std::vector<kafka::ConsumedRecord> ReadAll(size_t count) {
    std::vector<kafka::ConsumedRecord> records;
    absl::StatusOr<std::unique_ptr<kafka::Consumer>> consumer =
        kafka::Consumer::Create(config_, kafka::ConsumerOptions{});
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    if (!consumer.ok()) return records;
    EXPECT_TRUE((*consumer)->Assign(topic_, 0, kafka::kOffsetBeginning).ok());
    const absl::Time deadline = absl::Now() + kTimeout;
    while (records.size() < count && absl::Now() < deadline) {
      absl::StatusOr<std::optional<kafka::ConsumedRecord>> polled =
          (*consumer)->Poll(absl::Milliseconds(200));
      EXPECT_TRUE(polled.ok()) << polled.status();
      if (polled.ok() && polled->has_value()) records.push_back(**std::move(polled));
    }
    return records;
  }

  kafka::KafkaConfig config_;
  std::string topic_;
};

TEST_F(RecordRoundTripTest, EnvelopeWithCyrillicAndKazakhTextComesBackByteForByte) {
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer = kafka::Producer::Create(config_);
  ASSERT_TRUE(producer.ok()) << producer.status();

  const std::vector<coop::v1::Event> events = {testing::MemorandumSignedEvent(),
                                               testing::CulturalEventEvent()};
  std::vector<kafka::KafkaRecord> sent;
  for (const coop::v1::Event& event : events) {
    absl::StatusOr<kafka::KafkaRecord> record = EncodeRecord(event);
    ASSERT_TRUE(record.ok()) << record.status();
    absl::StatusOr<kafka::RecordPosition> position =
        (*producer)->ProduceAndWait(topic_, *record, kTimeout);
    ASSERT_TRUE(position.ok()) << position.status();
    EXPECT_EQ(position->partition, 0);
    EXPECT_EQ(position->offset, static_cast<int64_t>(sent.size()));
    sent.push_back(*std::move(record));
  }

  const std::vector<kafka::ConsumedRecord> received = ReadAll(sent.size());
  ASSERT_EQ(received.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE(events[i].id());
    EXPECT_EQ(received[i].record.key, sent[i].key);
    EXPECT_EQ(received[i].record.value, sent[i].value);
    EXPECT_THAT(received[i].record.headers, ElementsAreArray(sent[i].headers));
    EXPECT_EQ(received[i].record.timestamp, sent[i].timestamp);
    EXPECT_EQ(received[i].position.offset, static_cast<int64_t>(i));

    absl::StatusOr<coop::v1::Event> decoded = DecodeRecord(received[i].record);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(MessageDifferencer::Equals(*decoded, events[i]));
  }
  EXPECT_EQ(received[1].record.key, "culture/alqissa-helikon-2025");
}

}  // namespace
}  // namespace coop::events

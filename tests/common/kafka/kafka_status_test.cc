#include "common/kafka/kafka_status.h"

#include <librdkafka/rdkafka.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coop::kafka {
namespace {

using ::testing::HasSubstr;

TEST(KafkaStatusTest, NoErrorIsOk) {
  EXPECT_TRUE(KafkaErrorToStatus(RD_KAFKA_RESP_ERR_NO_ERROR, "anything").ok());
}

TEST(KafkaStatusTest, BrokerDownIsRetriableUnavailable) {
  const absl::Status status = KafkaErrorToStatus(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "produce");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetriable(status));
  EXPECT_THAT(status.message(), HasSubstr("produce: "));
  EXPECT_THAT(status.message(), HasSubstr("_ALL_BROKERS_DOWN"));
}

TEST(KafkaStatusTest, QueueFullIsRetriableResourceExhausted) {
  const absl::Status status = KafkaErrorToStatus(RD_KAFKA_RESP_ERR__QUEUE_FULL, "produce");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsRetriable(status));
}

TEST(KafkaStatusTest, InvalidReplicationFactorIsNotRetriable) {
  const absl::Status status =
      KafkaErrorToStatus(RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR, "create topic");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsRetriable(status));
}

TEST(KafkaStatusTest, AuthorizationFailureIsPermissionDenied) {
  EXPECT_EQ(KafkaErrorToStatus(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "x").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(KafkaStatusTest, ExistingTopicIsAlreadyExists) {
  EXPECT_EQ(KafkaErrorToStatus(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "x").code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(KafkaStatusTest, PlainStatusIsNotRetriable) {
  EXPECT_FALSE(IsRetriable(absl::UnavailableError("not from kafka")));
}

}  // namespace
}  // namespace coop::kafka

#include "common/kafka/kafka_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coop::kafka {
namespace {

using ::testing::HasSubstr;

TEST(KafkaConfigTest, DefaultsAreValid) { EXPECT_TRUE(KafkaConfig{}.Validate().ok()); }

TEST(KafkaConfigTest, AcceptsSeveralServersAndSchemes) {
  KafkaConfig config;
  config.bootstrap_servers = "127.0.0.1:19092,SSL://broker.example:9093";
  EXPECT_TRUE(config.Validate().ok());
}

TEST(KafkaConfigTest, EmptyBootstrapServersIsInvalidArgument) {
  KafkaConfig config;
  config.bootstrap_servers = "";
  const absl::Status status = config.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("bootstrap_servers"));
}

TEST(KafkaConfigTest, ServerWithoutPortNamesTheServer) {
  KafkaConfig config;
  config.bootstrap_servers = "127.0.0.1:9092,broker-two";
  const absl::Status status = config.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'broker-two'"));
}

TEST(KafkaConfigTest, PortOutOfRangeIsInvalidArgument) {
  KafkaConfig config;
  config.bootstrap_servers = "127.0.0.1:70000";
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConfigTest, AddPropertiesSplitsAtTheFirstEquals) {
  KafkaConfig config;
  ASSERT_TRUE(config.AddProperties({"security.protocol=SASL_SSL", "sasl.password=a=b"}).ok());
  EXPECT_EQ(config.properties["security.protocol"], "SASL_SSL");
  EXPECT_EQ(config.properties["sasl.password"], "a=b");
}

TEST(KafkaConfigTest, AddPropertiesWithoutEqualsNamesTheEntryAndAddsNothing) {
  KafkaConfig config;
  const absl::Status status = config.AddProperties({"linger.ms=1", "nonsense"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'nonsense'"));
  EXPECT_TRUE(config.properties.empty());
}

}  // namespace
}  // namespace coop::kafka

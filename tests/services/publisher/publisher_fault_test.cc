// Fault: the publisher with a broker that goes away and comes back. Starts and stops a broker of
// its own (deploy/kafka scripts, port 29492), so it never disturbs the shared test brokers.
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "common/kafka/topic_admin.h"
#include "common/rpc/status_conversion.h"
#include "coop/v1/errors.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/publisher/event_publisher.h"
#include "tests/services/publisher/publisher_test_env.h"
#include "tests/testing/sample_events.h"

namespace coop::publisher {
namespace {

using ::testing::HasSubstr;

constexpr char kPort[] = "29492";
constexpr absl::Duration kTimeout = absl::Seconds(60);

std::string BrokerScript(absl::string_view script) {
  return absl::StrCat(COOP_SOURCE_DIR, "/deploy/kafka/", script, " --port ", kPort, " --data-dir ",
                      COOP_BINARY_DIR, "/fault-kafka >/dev/null 2>&1");
}

coop::v1::Event Event(int i) {
  coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  event.set_source("publishers/mosreg-government");
  event.set_id(absl::StrCat("mosreg-fault-", i));
  return event;
}

class PublisherFaultTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    std::system(BrokerScript("stop").c_str());
    ASSERT_EQ(std::system(absl::StrCat("rm -rf ", COOP_BINARY_DIR, "/fault-kafka").c_str()), 0);
    ASSERT_EQ(std::system(BrokerScript("start").c_str()), 0) << "could not start a broker";
  }
  static void TearDownTestSuite() { std::system(BrokerScript("stop").c_str()); }

  void SetUp() override {
    ASSERT_EQ(std::system(BrokerScript("start").c_str()), 0);
    config_.kafka.bootstrap_servers = absl::StrCat("127.0.0.1:", kPort);
    config_.events_topic =
        absl::StrCat("fault.", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    for (char& c : config_.events_topic) {
      if (c == '/') c = '-';
    }
    config_.instance_id = config_.events_topic;
    config_.cross_instance_dedup = GetParam();
    config_.max_queued_records = 20;
    auto admin = kafka::TopicAdmin::Create(config_.kafka);
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE(
        (*admin)->EnsureTopics({kafka::TopicSpec{.name = config_.events_topic}}, kTimeout).ok());
    auto publisher = EventPublisher::Create(config_);
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    publisher_ = *std::move(publisher);
  }

  EventPublisherConfig config_;
  std::unique_ptr<EventPublisher> publisher_;
};

TEST_P(PublisherFaultTest, BrokerDownFailsUnavailableAtTheDeadlineAndRecoversWithoutLoss) {
  ASSERT_TRUE(testing::PublishAndWait(*publisher_, Event(0), kTimeout).ok());
  ASSERT_EQ(std::system(BrokerScript("stop").c_str()), 0);

  const absl::Time start = absl::Now();
  absl::StatusOr<coop::v1::PublishAck> down =
      testing::PublishAndWait(*publisher_, Event(1), absl::Seconds(3));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
  EXPECT_GE(took, absl::Milliseconds(2500));
  EXPECT_LE(took, absl::Seconds(5)) << "answered after the deadline";

  ASSERT_EQ(std::system(BrokerScript("start").c_str()), 0);
  // The client retries with the same id until Kafka confirms; exactly one record results.
  absl::StatusOr<coop::v1::PublishAck> retried;
  for (int attempt = 0; attempt < 30; ++attempt) {
    retried = testing::PublishAndWait(*publisher_, Event(1), absl::Seconds(10));
    if (retried.ok()) break;
    absl::SleepFor(absl::Seconds(1));
  }
  ASSERT_TRUE(retried.ok()) << retried.status();
  // Once confirmed, further retries are answered from the log.
  absl::StatusOr<coop::v1::PublishAck> again =
      testing::PublishAndWait(*publisher_, Event(1), kTimeout);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->position().offset(), retried->position().offset());
}

TEST_P(PublisherFaultTest, FullQueueIsResourceExhaustedWithRetryInfo) {
  ASSERT_EQ(std::system(BrokerScript("stop").c_str()), 0);
  // With the broker away nothing drains: the queue (20 records) fills up.
  std::vector<absl::Status> results(60);
  absl::BlockingCounter answered(60);
  for (int i = 0; i < 60; ++i) {
    publisher_->Publish(Event(100 + i), absl::Now() + absl::Seconds(5),
                        [&results, &answered, i](absl::StatusOr<coop::v1::PublishAck> ack) {
                          results[i] = ack.status();
                          answered.DecrementCount();
                        });
  }
  answered.Wait();
  int exhausted = 0;
  for (const absl::Status& status : results) {
    if (status.code() != absl::StatusCode::kResourceExhausted) {
      EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
      continue;
    }
    ++exhausted;
    const coop::v1::ErrorStatus error = rpc::ToErrorStatus(status);
    ASSERT_EQ(error.details_size(), 1);
    EXPECT_EQ(error.details(0).type_url(), rpc::kRetryInfoTypeUrl);
    EXPECT_THAT(status.message(), HasSubstr("queue is full"));
  }
  // Whether they wait in front of the producer (cross-instance dedup checking the log) or in
  // it, at most 20 events wait: the rest are refused at once.
  EXPECT_GE(exhausted, 30);
}

INSTANTIATE_TEST_SUITE_P(CrossInstanceDedup, PublisherFaultTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "On" : "Off";
                         });

}  // namespace
}  // namespace coop::publisher

// Integration: the Publisher gRPC service, writing to the real broker, counts what it answers
// in PublisherMetrics.
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/auth/authenticator.h"
#include "common/auth/policy.h"
#include "common/kafka/topic_admin.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/collectable.h"
#include "prometheus/text_serializer.h"
#include "services/publisher/event_publisher.h"
#include "services/publisher/metrics.h"
#include "services/publisher/publisher_service.h"
#include "tests/common/auth/test_policy.h"
#include "tests/services/publisher/publisher_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/sample_events.h"

namespace coop::publisher {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(30);

class PublisherMetricsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.kafka.bootstrap_servers =
        coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    if (config_.kafka.bootstrap_servers.empty()) GTEST_FAIL() << "no broker";
    config_.events_topic = coop::testing::UniqueTopicName("publisher-metrics");
    config_.instance_id = config_.events_topic;
    const absl::Status created = testing::CreateTopic(config_.kafka, config_.events_topic, 1);
    ASSERT_TRUE(created.ok()) << created;
    absl::StatusOr<auth::Authenticator> authenticator = testing::TestAuthenticator();
    ASSERT_TRUE(authenticator.ok()) << authenticator.status();
    authenticator_.emplace(*std::move(authenticator));

    absl::StatusOr<std::unique_ptr<EventPublisher>> publisher = EventPublisher::Create(config_);
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    publisher_ = *std::move(publisher);
    metrics_ = std::make_unique<PublisherMetrics>(PublisherMetrics::Sources{
        .producer_queue_depth = [this] { return publisher_->QueueDepth(); }});
    service_ = std::make_unique<PublisherService>(publisher_.get(), &*authenticator_,
                                                  PublisherServiceOptions{}, metrics_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = coop::v1::Publisher::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
    service_.reset();
    metrics_.reset();
    publisher_.reset();
  }

  std::unique_ptr<grpc::ClientContext> Context(const char* key = auth::testing::kMosregKey) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (key != nullptr) context->AddMetadata("authorization", absl::StrCat("Bearer ", key));
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return context;
  }

  grpc::Status Publish(const coop::v1::Event& event, const char* key = auth::testing::kMosregKey) {
    coop::v1::PublishRequest request;
    *request.mutable_event() = event;
    coop::v1::PublishResponse response;
    return stub_->Publish(Context(key).get(), request, &response);
  }

  std::string Scrape() const {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, metrics_->collectable()->Collect());
    return out.str();
  }

  EventPublisherConfig config_;
  std::optional<auth::Authenticator> authenticator_;
  std::unique_ptr<EventPublisher> publisher_;
  std::unique_ptr<PublisherMetrics> metrics_;
  std::unique_ptr<PublisherService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<coop::v1::Publisher::Stub> stub_;
};

TEST_F(PublisherMetricsIntegrationTest, PublishCountsCallEventAndLatency) {
  ASSERT_TRUE(Publish(coop::testing::MemorandumSignedEvent()).ok());
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"OK\",method=\"Publish\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_events_total{code=\"OK\","
                              "event_type=\"coop.v1.MemorandumSigned\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_ack_latency_seconds_count{method=\"Publish\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_in_flight_events 0\n"));
  // Sampled from the producer; its delivery report may still be queued, so not necessarily 0.
  EXPECT_THAT(text, HasSubstr("\ncoop_publisher_producer_queue_depth "));
}

TEST_F(PublisherMetricsIntegrationTest, RetryIsCountedAsDuplicate) {
  const coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  ASSERT_TRUE(Publish(event).ok());
  ASSERT_TRUE(Publish(event).ok());
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("coop_publisher_duplicates_total 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"OK\",method=\"Publish\"} 2\n"));
}

TEST_F(PublisherMetricsIntegrationTest, RefusalsAreCountedWithTheirCodes) {
  coop::v1::Event invalid = coop::testing::MemorandumSignedEvent();
  invalid.set_schema_version(7);
  ASSERT_EQ(Publish(invalid).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(Publish(coop::testing::MemorandumSignedEvent(), nullptr).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("coop_publisher_validation_failures_total 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"INVALID_ARGUMENT\","
                              "method=\"Publish\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"UNAUTHENTICATED\","
                              "method=\"Publish\"} 1\n"));
}

TEST_F(PublisherMetricsIntegrationTest, BatchRefusedForOneEventCountsOneValidationFailure) {
  coop::v1::PublishBatchRequest request;
  for (int i = 0; i < 3; ++i) {
    *request.add_events() = coop::testing::MemorandumSignedEvent();
    request.mutable_events(i)->set_id(absl::StrCat("mosreg-metrics-batch-", i));
  }
  request.mutable_events(1)->set_schema_version(0);
  coop::v1::PublishBatchResponse response;
  ASSERT_EQ(stub_->PublishBatch(Context().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"INVALID_ARGUMENT\","
                              "method=\"PublishBatch\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_events_total{code=\"INVALID_ARGUMENT\","
                              "event_type=\"coop.v1.MemorandumSigned\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_validation_failures_total 1\n"));
}

TEST_F(PublisherMetricsIntegrationTest, StreamCountsEachEventAndTheCallOnce) {
  auto context = Context();
  auto stream = stub_->PublishStream(context.get());
  constexpr int kEvents = 5;
  for (int i = 1; i <= kEvents; ++i) {
    coop::v1::PublishStreamRequest request;
    request.set_sequence(i);
    *request.mutable_event() = coop::testing::MemorandumSignedEvent();
    request.mutable_event()->set_id(absl::StrCat("mosreg-metrics-stream-", i));
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  coop::v1::PublishStreamResponse response;
  while (stream->Read(&response)) ASSERT_TRUE(response.has_ack()) << response.error().message();
  ASSERT_TRUE(stream->Finish().ok());
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"OK\","
                              "method=\"PublishStream\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_events_total{code=\"OK\","
                              "event_type=\"coop.v1.MemorandumSigned\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_ack_latency_seconds_count{method="
                              "\"PublishStream\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_in_flight_events 0\n"));
}

}  // namespace
}  // namespace coop::publisher

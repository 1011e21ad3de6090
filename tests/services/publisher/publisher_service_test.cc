// Integration: the Publisher gRPC service on a real local port, writing to the real broker.
#include "services/publisher/publisher_service.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/synchronization/notification.h"
#include "common/auth/authenticator.h"
#include "common/auth/policy.h"
#include "common/auth/server_security.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/topic_admin.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/publisher/event_publisher.h"
#include "tests/common/auth/test_policy.h"
#include "tests/services/publisher/publisher_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/sample_events.h"

namespace coop::publisher {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr absl::Duration kTimeout = absl::Seconds(30);

class PublisherServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.kafka.bootstrap_servers =
        coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    if (config_.kafka.bootstrap_servers.empty()) GTEST_FAIL() << "no broker";
    config_.events_topic = coop::testing::UniqueTopicName("publisher");
    config_.instance_id = config_.events_topic;
    const absl::Status created = testing::CreateTopic(config_.kafka, config_.events_topic, 3);
    ASSERT_TRUE(created.ok()) << created;
    absl::StatusOr<auth::Authenticator> authenticator = testing::TestAuthenticator();
    ASSERT_TRUE(authenticator.ok()) << authenticator.status();
    authenticator_.emplace(*std::move(authenticator));
    StartServer();
  }

  void TearDown() override { StopServer(); }

  void StartServer() {
    absl::StatusOr<std::unique_ptr<EventPublisher>> publisher = EventPublisher::Create(config_);
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    publisher_ = *std::move(publisher);
    service_ = std::make_unique<PublisherService>(publisher_.get(), &*authenticator_,
                                                  PublisherServiceOptions{});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", ServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    port_ = port;
    stub_ = coop::v1::Publisher::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  virtual std::shared_ptr<grpc::ServerCredentials> ServerCredentials() {
    return grpc::InsecureServerCredentials();
  }

  void StopServer() {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
    service_.reset();
    publisher_.reset();
  }

  // A client context with the API key of `key` (or none) and a deadline.
  static std::unique_ptr<grpc::ClientContext> Context(const char* key) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (key != nullptr) context->AddMetadata("authorization", absl::StrCat("Bearer ", key));
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return context;
  }

  grpc::Status Publish(const coop::v1::Event& event, coop::v1::PublishResponse* response,
                       const char* key = auth::testing::kMosregKey) {
    coop::v1::PublishRequest request;
    *request.mutable_event() = event;
    return stub_->Publish(Context(key).get(), request, response);
  }

  // The record at `partition`/`offset` of the test topic.
  std::optional<kafka::ConsumedRecord> ReadRecord(int32_t partition, int64_t offset) {
    absl::StatusOr<std::unique_ptr<kafka::Consumer>> consumer =
        kafka::Consumer::Create(config_.kafka, {});
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    EXPECT_TRUE((*consumer)->Assign(config_.events_topic, partition, offset).ok());
    const absl::Time deadline = absl::Now() + kTimeout;
    while (absl::Now() < deadline) {
      auto polled = (*consumer)->Poll(absl::Milliseconds(200));
      if (polled.ok() && polled->has_value()) return **std::move(polled);
    }
    return std::nullopt;
  }

  // Records in the test topic, all partitions.
  int64_t RecordCount() {
    absl::StatusOr<std::unique_ptr<kafka::Consumer>> consumer =
        kafka::Consumer::Create(config_.kafka, {});
    auto ends = (*consumer)->EndOffsets(config_.events_topic, 3, kTimeout);
    EXPECT_TRUE(ends.ok()) << ends.status();
    int64_t total = 0;
    for (const auto& [partition, end] : *ends) total += end;
    return total;
  }

  EventPublisherConfig config_;
  std::optional<auth::Authenticator> authenticator_;
  std::unique_ptr<EventPublisher> publisher_;
  std::unique_ptr<PublisherService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<coop::v1::Publisher::Stub> stub_;
};

TEST_F(PublisherServiceTest, AcknowledgedEventIsInKafkaWithSourceFromIdentity) {
  coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  event.set_source("publishers/somebody-else");  // Ignored: the server sets it.
  coop::v1::PublishResponse response;
  const grpc::Status status = Publish(event, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.ack().duplicate());
  EXPECT_EQ(response.ack().event_id(), event.id());
  EXPECT_FALSE(response.ack().position().token().empty());

  std::optional<kafka::ConsumedRecord> record =
      ReadRecord(response.ack().position().partition(), response.ack().position().offset());
  ASSERT_TRUE(record.has_value());
  absl::StatusOr<coop::v1::Event> stored = events::DecodeRecord(record->record);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->source(), "publishers/mosreg-government");
  EXPECT_EQ(stored->memorandum_signed().title(), event.memorandum_signed().title());
  EXPECT_EQ(stored->recorded_time().seconds(), response.ack().recorded_time().seconds());
}

TEST_F(PublisherServiceTest, DuplicateIdReturnsOriginalPosition) {
  const coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse first;
  ASSERT_TRUE(Publish(event, &first).ok());
  coop::v1::PublishResponse second;
  ASSERT_TRUE(Publish(event, &second).ok());
  EXPECT_TRUE(second.ack().duplicate());
  EXPECT_EQ(second.ack().position().offset(), first.ack().position().offset());
  EXPECT_EQ(second.ack().position().partition(), first.ack().position().partition());
  EXPECT_EQ(RecordCount(), 1);
}

TEST_F(PublisherServiceTest, DuplicateIsRecognisedAfterRestart) {
  const coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse first;
  ASSERT_TRUE(Publish(event, &first).ok());
  StopServer();
  StartServer();
  coop::v1::PublishResponse second;
  ASSERT_TRUE(Publish(event, &second).ok());
  EXPECT_TRUE(second.ack().duplicate());
  EXPECT_EQ(second.ack().position().offset(), first.ack().position().offset());
  EXPECT_EQ(RecordCount(), 1);
}

absl::StatusOr<coop::v1::PublishAck> PublishAndWait(EventPublisher& publisher,
                                                    coop::v1::Event event) {
  return testing::PublishAndWait(publisher, std::move(event), kTimeout);
}

TEST_F(PublisherServiceTest, SecondInstanceAnswersDuplicateOfFirstInstancesEvent) {
  EventPublisherConfig other_config = config_;
  other_config.instance_id = config_.instance_id + "-b";
  absl::StatusOr<std::unique_ptr<EventPublisher>> other = EventPublisher::Create(other_config);
  ASSERT_TRUE(other.ok()) << other.status();

  coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  event.set_source("publishers/mosreg-government");
  for (int i = 0; i < 5; ++i) {
    event.set_id(absl::StrCat("mosreg-two-instances-", i));
    absl::StatusOr<coop::v1::PublishAck> first = PublishAndWait(*publisher_, event);
    ASSERT_TRUE(first.ok()) << first.status();
    // Right after the first instance acknowledged, the second one knows.
    absl::StatusOr<coop::v1::PublishAck> second = PublishAndWait(**other, event);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_TRUE(second->duplicate());
    EXPECT_EQ(second->position().offset(), first->position().offset());
    // And the other way round, with different content: ALREADY_EXISTS.
    coop::v1::Event changed = event;
    changed.mutable_memorandum_signed()->set_title("Изменённый заголовок");
    EXPECT_EQ(PublishAndWait(**other, changed).status().code(), absl::StatusCode::kAlreadyExists);
  }
  EXPECT_EQ(RecordCount(), 5);
}

// A second instance with the same instance_id (Kafka transactional id) fences the first one's
// batch producer for good: the first then reports it through health(), so that its server
// says NOT_SERVING and names the likely cause, instead of failing every batch while healthy.
TEST_F(PublisherServiceTest, SameInstanceIdElsewhereFencesBatchesAndShowsInHealth) {
  coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  event.set_source("publishers/mosreg-government");
  event.set_id("mosreg-fenced-0");
  ASSERT_TRUE(publisher_->PublishBatch({event}, absl::Now() + kTimeout).ok());
  EXPECT_TRUE(publisher_->health().ok()) << publisher_->health();

  absl::StatusOr<std::unique_ptr<EventPublisher>> twin = EventPublisher::Create(config_);
  ASSERT_TRUE(twin.ok()) << twin.status();
  event.set_id("mosreg-fenced-1");
  absl::StatusOr<std::vector<coop::v1::PublishAck>> fenced =
      publisher_->PublishBatch({event}, absl::Now() + kTimeout);
  EXPECT_FALSE(fenced.ok());
  const absl::Status health = publisher_->health();
  EXPECT_FALSE(health.ok());
  EXPECT_THAT(health.message(), HasSubstr(config_.instance_id));
  // The newer instance writes on.
  EXPECT_TRUE((*twin)->PublishBatch({event}, absl::Now() + kTimeout).ok());
  EXPECT_TRUE((*twin)->health().ok()) << (*twin)->health();
}

TEST_F(PublisherServiceTest, SameIdWithOtherContentIsAlreadyExists) {
  coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse response;
  ASSERT_TRUE(Publish(event, &response).ok());
  event.mutable_memorandum_signed()->set_title("Другой меморандум");
  const grpc::Status status = Publish(event, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(RecordCount(), 1);
}

TEST_F(PublisherServiceTest, InvalidEventListsEveryViolationAndWritesNothing) {
  coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  event.set_schema_version(7);
  event.mutable_memorandum_signed()->mutable_signed_on()->set_month(13);
  coop::v1::PublishResponse response;
  const grpc::Status status = Publish(event, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  coop::v1::ErrorStatus details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_THAT(details.details(), SizeIs(1));
  EXPECT_EQ(details.details(0).type_url(), "type.googleapis.com/google.rpc.BadRequest");
  coop::v1::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(details.details(0).value()));
  std::vector<std::string> fields;
  for (const auto& violation : bad_request.field_violations()) fields.push_back(violation.field());
  EXPECT_THAT(fields, ::testing::Contains("event.schema_version"));
  EXPECT_THAT(fields, ::testing::Contains("event.memorandum_signed.signed_on.month"));
  EXPECT_EQ(RecordCount(), 0);
}

TEST_F(PublisherServiceTest, NoCredentialsIsUnauthenticated) {
  coop::v1::PublishResponse response;
  const grpc::Status status = Publish(coop::testing::MemorandumSignedEvent(), &response, nullptr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RecordCount(), 0);
}

TEST_F(PublisherServiceTest, EventOutsideScopeIsPermissionDenied) {
  // The embassy may publish cultural events, not memoranda.
  coop::v1::PublishResponse response;
  const grpc::Status status =
      Publish(coop::testing::MemorandumSignedEvent(), &response, auth::testing::kEmbassyKey);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("coop.v1.MemorandumSigned"));
  EXPECT_EQ(RecordCount(), 0);
}

TEST_F(PublisherServiceTest, BatchIsAllOrNothing) {
  coop::v1::PublishBatchRequest request;
  for (int i = 0; i < 3; ++i) {
    coop::v1::Event* event = request.add_events();
    *event = coop::testing::MemorandumSignedEvent();
    event->set_id(absl::StrCat("mosreg-batch-", i));
  }
  coop::v1::PublishBatchRequest bad = request;
  bad.mutable_events(1)->set_schema_version(0);

  coop::v1::PublishBatchResponse response;
  grpc::Status status =
      stub_->PublishBatch(Context(auth::testing::kMosregKey).get(), bad, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("events[1]"));
  EXPECT_EQ(RecordCount(), 0);

  status = stub_->PublishBatch(Context(auth::testing::kMosregKey).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_THAT(response.acks(), SizeIs(3));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(response.acks(i).event_id(), request.events(i).id());
    EXPECT_FALSE(response.acks(i).duplicate()) << response.acks(i).DebugString();
  }
  // Committed records become readable (read_committed) when the transaction markers are
  // written, a moment after the commit returned. 3 records plus the marker.
  const absl::Time deadline = absl::Now() + kTimeout;
  while (RecordCount() < 4 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(RecordCount(), 4);
}

TEST_F(PublisherServiceTest, StreamAcknowledgesEveryEventWithItsSequence) {
  auto context = Context(auth::testing::kMosregKey);
  auto stream = stub_->PublishStream(context.get());
  constexpr int kEvents = 50;
  for (int i = 1; i <= kEvents; ++i) {
    coop::v1::PublishStreamRequest request;
    request.set_sequence(i);
    *request.mutable_event() = coop::testing::MemorandumSignedEvent();
    request.mutable_event()->set_id(absl::StrCat("mosreg-stream-", i));
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  std::set<uint64_t> acked;
  coop::v1::PublishStreamResponse response;
  int64_t last_offset = -1;
  while (stream->Read(&response)) {
    ASSERT_TRUE(response.has_ack()) << response.error().message();
    EXPECT_EQ(response.event_id(), absl::StrCat("mosreg-stream-", response.sequence()));
    // One subject: one partition, acknowledged in order.
    EXPECT_GT(response.ack().position().offset(), last_offset);
    last_offset = response.ack().position().offset();
    acked.insert(response.sequence());
  }
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(acked.size(), static_cast<size_t>(kEvents));
}

TEST_F(PublisherServiceTest, StreamReportsBadEventAndGoesOn) {
  auto context = Context(auth::testing::kMosregKey);
  auto stream = stub_->PublishStream(context.get());
  coop::v1::PublishStreamRequest request;
  request.set_sequence(1);
  *request.mutable_event() = coop::testing::MemorandumSignedEvent();
  request.mutable_event()->set_schema_version(0);
  ASSERT_TRUE(stream->Write(request));
  request.set_sequence(2);
  request.mutable_event()->set_schema_version(1);
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  std::map<uint64_t, coop::v1::PublishStreamResponse> responses;
  coop::v1::PublishStreamResponse response;
  while (stream->Read(&response)) responses[response.sequence()] = response;
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[1].error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_TRUE(responses[2].has_ack());
}

TEST_F(PublisherServiceTest, StreamSequenceNotIncreasingEndsStreamWithInvalidArgument) {
  auto context = Context(auth::testing::kMosregKey);
  auto stream = stub_->PublishStream(context.get());
  coop::v1::PublishStreamRequest request;
  request.set_sequence(5);
  *request.mutable_event() = coop::testing::MemorandumSignedEvent();
  ASSERT_TRUE(stream->Write(request));
  request.set_sequence(5);
  request.mutable_event()->set_id("mosreg-other");
  stream->Write(request);
  stream->WritesDone();
  coop::v1::PublishStreamResponse response;
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// The same service over mutual TLS, with the real server credentials code.
class PublisherTlsTest : public PublisherServiceTest {
 protected:
  void SetUp() override {
    certs_ = absl::StrCat(::testing::TempDir(), "/publisher-tls-certs");
    ASSERT_EQ(std::system(absl::StrCat(COOP_SOURCE_DIR, "/tests/common/auth/make-test-certs ",
                                       certs_, " >/dev/null")
                              .c_str()),
              0);
    PublisherServiceTest::SetUp();
  }

  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() override {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        auth::MakeServerCredentials({.cert_file = certs_ + "/server.pem",
                                     .key_file = certs_ + "/server.key",
                                     .client_ca_file = certs_ + "/ca.pem"});
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return credentials.ok() ? *credentials : nullptr;
  }

  // A client presenting the certificate `name` (or none).
  std::unique_ptr<coop::v1::Publisher::Stub> TlsStub(const std::string& name) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = Read(certs_ + "/ca.pem");
    if (!name.empty()) {
      options.pem_cert_chain = Read(absl::StrCat(certs_, "/", name, ".pem"));
      options.pem_private_key = Read(absl::StrCat(certs_, "/", name, ".key"));
    }
    return coop::v1::Publisher::NewStub(
        grpc::CreateChannel(absl::StrCat("localhost:", port_), grpc::SslCredentials(options)));
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream contents;
    contents << in.rdbuf();
    return contents.str();
  }

  std::string certs_;
};

TEST_F(PublisherTlsTest, ClientCertificateIdentifiesThePublisher) {
  coop::v1::PublishRequest request;
  *request.mutable_event() = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse response;
  const grpc::Status status =
      TlsStub("mosreg-government")->Publish(Context(nullptr).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::optional<kafka::ConsumedRecord> record =
      ReadRecord(response.ack().position().partition(), response.ack().position().offset());
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(events::DecodeRecord(record->record)->source(), "publishers/mosreg-government");
}

TEST_F(PublisherTlsTest, CertificateOfAnotherPrincipalIsOutOfScope) {
  // The akimat may publish only about KZ-19; the cultural event is about RU-MOW.
  coop::v1::PublishRequest request;
  *request.mutable_event() = coop::testing::CulturalEventEvent();
  coop::v1::PublishResponse response;
  const grpc::Status status =
      TlsStub("almaty-region-akimat")->Publish(Context(nullptr).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
}

TEST_F(PublisherTlsTest, UnknownCertificateIsUnauthenticated) {
  coop::v1::PublishRequest request;
  *request.mutable_event() = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse response;
  const grpc::Status status =
      TlsStub("stranger")->Publish(Context(nullptr).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(PublisherTlsTest, ApiKeyWithoutCertificateWorksOverTls) {
  coop::v1::PublishRequest request;
  *request.mutable_event() = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse response;
  const grpc::Status status =
      TlsStub("")->Publish(Context(auth::testing::kMosregKey).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace coop::publisher

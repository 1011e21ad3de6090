// Unit: PublisherMetrics as a scrape shows it, and the /metrics HTTP server on a loopback port.
#include "services/publisher/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/events/record_codec.h"
#include "common/server/metrics_endpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/collectable.h"
#include "prometheus/text_serializer.h"
#include "tests/testing/sample_events.h"

namespace coop::publisher {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The text exposition format of `metrics`, as /metrics serves it.
std::string Scrape(const PublisherMetrics& metrics) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, metrics.collectable()->Collect());
  return out.str();
}

// The response (status line, headers, body) to GET `path` from 127.0.0.1:`port`, or an empty
// string when the connection fails.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request =
        absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

coop::v1::Event EventWithoutPayload() {
  coop::v1::Event event = coop::testing::MemorandumSignedEvent();
  event.clear_memorandum_signed();
  return event;
}

TEST(PublisherMetricsTest, UnaryCallIsCountedByMethodAndCode) {
  PublisherMetrics metrics;
  metrics.RecordUnaryCall(PublishMethod::kPublish, absl::StatusCode::kOk, absl::Milliseconds(3));
  metrics.RecordUnaryCall(PublishMethod::kPublish, absl::StatusCode::kOk, absl::Milliseconds(3));
  metrics.RecordUnaryCall(PublishMethod::kPublishBatch, absl::StatusCode::kInvalidArgument,
                          absl::Milliseconds(3));
  const std::string text = Scrape(metrics);
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"OK\",method=\"Publish\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_calls_total{code=\"INVALID_ARGUMENT\","
                              "method=\"PublishBatch\"} 1\n"));
}

TEST(PublisherMetricsTest, StreamIsCountedOnceWithItsEndCode) {
  PublisherMetrics metrics;
  metrics.RecordStreamCall(absl::StatusCode::kCancelled);
  EXPECT_THAT(Scrape(metrics), HasSubstr("coop_publisher_calls_total{code=\"CANCELLED\","
                                         "method=\"PublishStream\"} 1\n"));
}

TEST(PublisherMetricsTest, EventTypeIsThePayloadTypeName) {
  PublisherMetrics metrics;
  const coop::v1::Event memo = coop::testing::MemorandumSignedEvent();
  const coop::v1::Event concert = coop::testing::CulturalEventEvent();
  metrics.RecordEvent(metrics.TypeOf(memo), absl::StatusCode::kOk, EventFlag::kNone);
  metrics.RecordEvent(metrics.TypeOf(concert), absl::StatusCode::kPermissionDenied,
                      EventFlag::kNone);
  const std::string text = Scrape(metrics);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("coop_publisher_events_total{code=\"OK\",event_type=\"",
                                           events::PayloadTypeName(memo), "\"} 1\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "coop_publisher_events_total{code=\"PERMISSION_DENIED\",event_type=\"",
                        events::PayloadTypeName(concert), "\"} 1\n")));
}

TEST(PublisherMetricsTest, EventWithoutPayloadIsUnknownType) {
  PublisherMetrics metrics;
  metrics.RecordEvent(metrics.TypeOf(EventWithoutPayload()), absl::StatusCode::kInvalidArgument,
                      EventFlag::kInvalid);
  EXPECT_THAT(Scrape(metrics), HasSubstr("coop_publisher_events_total{code=\"INVALID_ARGUMENT\","
                                         "event_type=\"unknown\"} 1\n"));
}

TEST(PublisherMetricsTest, DuplicateCountsAsOkEventAndAsDuplicate) {
  PublisherMetrics metrics;
  const PublisherMetrics::EventType type = metrics.TypeOf(coop::testing::MemorandumSignedEvent());
  metrics.RecordEvent(type, absl::StatusCode::kOk, EventFlag::kDuplicate);
  const std::string text = Scrape(metrics);
  EXPECT_THAT(text, HasSubstr("coop_publisher_duplicates_total 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_events_total{code=\"OK\","
                              "event_type=\"coop.v1.MemorandumSigned\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_validation_failures_total 0\n"));
}

TEST(PublisherMetricsTest, InvalidEventIsValidationFailure) {
  PublisherMetrics metrics;
  const PublisherMetrics::EventType type = metrics.TypeOf(coop::testing::MemorandumSignedEvent());
  metrics.RecordEvent(type, absl::StatusCode::kInvalidArgument, EventFlag::kInvalid);
  // A valid event of a batch refused for another one: counted, not a validation failure.
  metrics.RecordEvent(type, absl::StatusCode::kInvalidArgument, EventFlag::kNone);
  const std::string text = Scrape(metrics);
  EXPECT_THAT(text, HasSubstr("coop_publisher_validation_failures_total 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_events_total{code=\"INVALID_ARGUMENT\","
                              "event_type=\"coop.v1.MemorandumSigned\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_duplicates_total 0\n"));
}

TEST(PublisherMetricsTest, EventFlagFollowsTheAnswer) {
  coop::v1::PublishAck duplicate;
  duplicate.set_duplicate(true);
  EXPECT_EQ(EventFlagOf(duplicate), EventFlag::kDuplicate);
  EXPECT_EQ(EventFlagOf(coop::v1::PublishAck()), EventFlag::kNone);
  EXPECT_EQ(EventFlagOf(absl::InvalidArgumentError("bad")), EventFlag::kInvalid);
  EXPECT_EQ(EventFlagOf(absl::PermissionDeniedError("no")), EventFlag::kNone);
}

TEST(PublisherMetricsTest, LatencyLandsInTheMethodsHistogram) {
  PublisherMetrics metrics;
  metrics.RecordUnaryCall(PublishMethod::kPublish, absl::StatusCode::kOk, absl::Milliseconds(3));
  metrics.RecordStreamEvent(metrics.TypeOf(coop::testing::MemorandumSignedEvent()),
                            absl::StatusCode::kOk, EventFlag::kNone, absl::Seconds(20));
  const std::string text = Scrape(metrics);
  EXPECT_THAT(text, HasSubstr("coop_publisher_ack_latency_seconds_bucket{method=\"Publish\","
                              "le=\"0.0025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_ack_latency_seconds_bucket{method=\"Publish\","
                              "le=\"0.005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_ack_latency_seconds_bucket{method="
                              "\"PublishStream\",le=\"10\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_ack_latency_seconds_count{method="
                              "\"PublishStream\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("coop_publisher_ack_latency_seconds_count{method="
                              "\"PublishBatch\"} 0\n"));
}

TEST(PublisherMetricsTest, InFlightFollowsHandOverAndAnswer) {
  PublisherMetrics metrics;
  metrics.AddInFlight(5);
  metrics.AddInFlight(-2);
  EXPECT_THAT(Scrape(metrics), HasSubstr("coop_publisher_in_flight_events 3\n"));
}

TEST(PublisherMetricsTest, QueueDepthIsReadAtEachScrape) {
  int64_t depth = 7;
  PublisherMetrics metrics({.producer_queue_depth = [&depth] { return depth; }});
  EXPECT_THAT(Scrape(metrics), HasSubstr("coop_publisher_producer_queue_depth 7\n"));
  depth = 42;
  EXPECT_THAT(Scrape(metrics), HasSubstr("coop_publisher_producer_queue_depth 42\n"));
}

TEST(PublisherMetricsTest, QueueDepthWithoutSourceIsNotExported) {
  PublisherMetrics metrics;
  EXPECT_THAT(Scrape(metrics), Not(HasSubstr("coop_publisher_producer_queue_depth")));
}

TEST(MetricsServerTest, ServesMetricsOverHttp) {
  PublisherMetrics metrics({.producer_queue_depth = [] { return int64_t{3}; }});
  metrics.RecordUnaryCall(PublishMethod::kPublish, absl::StatusCode::kOk, absl::Milliseconds(1));
  absl::StatusOr<std::unique_ptr<server::MetricsEndpoint>> server =
      server::MetricsEndpoint::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Register(metrics.collectable());
  ASSERT_GT((*server)->port(), 0);
  const std::string response = HttpGet((*server)->port(), "/metrics");
  EXPECT_THAT(response, HasSubstr(" 200 OK\r\n"));
  for (const char* name :
       {"coop_publisher_calls_total{code=\"OK\",method=\"Publish\"} 1",
        "coop_publisher_ack_latency_seconds_bucket", "coop_publisher_duplicates_total",
        "coop_publisher_validation_failures_total", "coop_publisher_in_flight_events",
        "coop_publisher_producer_queue_depth 3"}) {
    EXPECT_THAT(response, HasSubstr(name));
  }
}

TEST(MetricsServerTest, ScrapeAfterMetricsAreGoneIsEmpty) {
  auto metrics = std::make_unique<PublisherMetrics>();
  absl::StatusOr<std::unique_ptr<server::MetricsEndpoint>> server =
      server::MetricsEndpoint::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Register(metrics->collectable());
  metrics.reset();
  const std::string response = HttpGet((*server)->port(), "/metrics");
  EXPECT_THAT(response, HasSubstr(" 200 OK\r\n"));
  EXPECT_THAT(response, Not(HasSubstr("coop_publisher")));
}

TEST(MetricsServerTest, EmptyAddressIsInvalidArgument) {
  EXPECT_EQ(server::MetricsEndpoint::Start("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetricsServerTest, AddressInUseIsUnavailable) {
  absl::StatusOr<std::unique_ptr<server::MetricsEndpoint>> first =
      server::MetricsEndpoint::Start("127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*first)->port());
  absl::StatusOr<std::unique_ptr<server::MetricsEndpoint>> second =
      server::MetricsEndpoint::Start(address);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(address));
}

}  // namespace
}  // namespace coop::publisher

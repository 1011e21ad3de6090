// Subscriptions.Replay end to end: the stream service in a gRPC server on a local port, over a
// topic of its own on the single-node test broker. The replay core's own rules (bounds, order
// window, retention) are tested in replay/replay_test.cc; here: what a gRPC client receives,
// scopes, cancellation and the limit on concurrent replays.

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "common/auth/scope.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/services/stream/record_digest.h"
#include "tests/services/stream/stream_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tools/bench/view_events.h"

namespace coop::stream::testing {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr absl::Duration kWait = absl::Seconds(30);

// A record as written: where it lies, its timestamp and its exact bytes.
struct Written {
  int32_t partition;
  int64_t offset;
  int64_t timestamp_ms;
  std::string value;
  coop::v1::Event event;
};

google::protobuf::Timestamp Proto(int64_t ms) { return TimeUtil::MillisecondsToTimestamp(ms); }

class ReplayServiceTest : public StreamServerTest {
 protected:
  ReplayServiceTest() : StreamServerTest("coop.replay-service-test") {}

  // Writes `count` generated events recorded 10 ms apart from 2025-09-10 09:00 UTC.
  void Write(int64_t count, uint64_t seed) {
    bench::ViewEventsOptions options;
    options.count = count;
    options.seed = seed;
    options.duplicate_percent = 0;
    options.correction_percent = 2;
    const std::vector<coop::v1::Event> events = bench::GenerateViewEvents(options);
    absl::StatusOr<std::vector<kafka::RecordPosition>> positions = log_->Produce(events);
    ASSERT_TRUE(positions.ok()) << positions.status();
    for (size_t i = 0; i < events.size(); ++i) {
      written_.push_back(Written{
          .partition = (*positions)[i].partition,
          .offset = (*positions)[i].offset,
          .timestamp_ms = absl::ToUnixMillis((*positions)[i].timestamp),
          .value = events[i].SerializeAsString(),
          .event = events[i],
      });
    }
  }

  // The written records of [start_ms, end_ms) that `keep` keeps, in replay order.
  std::vector<Written> Expected(int64_t start_ms, int64_t end_ms,
                                bool (*keep)(const coop::v1::Event&) = nullptr) const {
    std::vector<Written> expected;
    for (const Written& record : written_) {
      if (record.timestamp_ms >= start_ms && record.timestamp_ms < end_ms &&
          (keep == nullptr || keep(record.event))) {
        expected.push_back(record);
      }
    }
    std::sort(expected.begin(), expected.end(), [](const Written& a, const Written& b) {
      return std::tie(a.timestamp_ms, a.partition, a.offset) <
             std::tie(b.timestamp_ms, b.partition, b.offset);
    });
    return expected;
  }

  struct Received {
    std::vector<coop::v1::ReplayedEvent> events;
    std::optional<coop::v1::ReplaySummary> summary;
    grpc::Status status;
    int batches = 0;  // Messages carrying ReplayedEvents.
    int largest_batch = 0;
  };
  Received Replay(const coop::v1::ReplayRequest& request, const std::string& api_key = "") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoSeconds(kWait));
    if (!api_key.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
    std::unique_ptr<grpc::ClientReader<coop::v1::ReplayResponse>> reader =
        stub_->Replay(&context, request);
    Received received;
    coop::v1::ReplayResponse response;
    while (reader->Read(&response)) {
      if (response.has_event()) received.events.push_back(response.event());
      if (response.has_events()) {
        ++received.batches;
        received.largest_batch = std::max(received.largest_batch, response.events().events_size());
        for (const coop::v1::ReplayedEvent& event : response.events().events()) {
          received.events.push_back(event);
        }
      }
      if (response.has_summary()) received.summary = response.summary();
    }
    received.status = reader->Finish();
    return received;
  }

  static coop::v1::ReplayRequest Range(int64_t start_ms, int64_t end_ms) {
    coop::v1::ReplayRequest request;
    *request.mutable_start_time() = Proto(start_ms);
    *request.mutable_end_time() = Proto(end_ms);
    return request;
  }

  int64_t first_ms() const { return written_.front().timestamp_ms; }

  std::vector<Written> written_;
};

TEST_F(ReplayServiceTest, DeliversTheRangeInOrderWithTheRecordDigestTwiceAlike) {
  ASSERT_NO_FATAL_FAILURE(Write(1200, 91));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // A range inside the history: start inclusive, end exclusive, to the millisecond.
  const int64_t start_ms = first_ms() + 100 * 10;
  const int64_t end_ms = first_ms() + 1000 * 10;
  const std::vector<Written> expected = Expected(start_ms, end_ms);
  ASSERT_EQ(expected.size(), 900u);

  const Received first = Replay(Range(start_ms, end_ms));
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ASSERT_EQ(first.events.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const coop::v1::ReplayedEvent& event = first.events[i];
    ASSERT_EQ(event.position().partition(), expected[i].partition) << "at " << i;
    ASSERT_EQ(event.position().offset(), expected[i].offset) << "at " << i;
    EXPECT_EQ(event.record_value(), expected[i].value) << "at " << i;
    EXPECT_EQ(event.event().id(), expected[i].event.id()) << "at " << i;
  }
  ASSERT_TRUE(first.summary.has_value());
  EXPECT_EQ(first.summary->count(), static_cast<int64_t>(expected.size()));
  EXPECT_EQ(first.summary->sha256(), coop::testing::RecordDigest(expected));
  EXPECT_EQ(first.summary->first_position().offset(), expected.front().offset);
  EXPECT_EQ(first.summary->last_position().offset(), expected.back().offset);

  const Received second = Replay(Range(start_ms, end_ms));
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  ASSERT_TRUE(second.summary.has_value());
  EXPECT_EQ(second.summary->sha256(), first.summary->sha256());
}

TEST_F(ReplayServiceTest, BatchedEventsComeInTheSameOrderWithTheSameDigest) {
  ASSERT_NO_FATAL_FAILURE(Write(1200, 95));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const int64_t end_ms = first_ms() + 1200 * 10;
  const std::vector<Written> expected = Expected(first_ms(), end_ms);
  coop::v1::ReplayRequest request = Range(first_ms(), end_ms);
  request.set_max_events_per_message(100);
  const Received received = Replay(request);
  ASSERT_TRUE(received.status.ok()) << received.status.error_message();
  ASSERT_EQ(received.events.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(received.events[i].position().partition(), expected[i].partition) << "at " << i;
    ASSERT_EQ(received.events[i].position().offset(), expected[i].offset) << "at " << i;
  }
  EXPECT_GE(received.batches, 12);
  EXPECT_LE(received.largest_batch, 100);
  ASSERT_TRUE(received.summary.has_value());
  EXPECT_EQ(received.summary->sha256(), coop::testing::RecordDigest(expected));

  request.set_max_events_per_message(1001);
  EXPECT_EQ(Replay(request).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReplayServiceTest, AScopedCallerGetsOnlyItsEventsAndAWiderFilterIsDenied) {
  ASSERT_NO_FATAL_FAILURE(Write(600, 92));
  ASSERT_NO_FATAL_FAILURE(StartServer({.anonymous_principal = ""}));
  const int64_t end_ms = first_ms() + 600 * 10;
  // almaty-region-akimat reads MemorandumSigned and HubMilestone about KZ-19.
  coop::v1::ReplayRequest request = Range(first_ms(), end_ms);
  request.mutable_filter()->add_types("coop.v1.HubMilestone");
  request.mutable_filter()->add_regions()->set_code("KZ-19");
  const Received received = Replay(request, auth::testing::kAkimatKey);
  ASSERT_TRUE(received.status.ok()) << received.status.error_message();
  const std::vector<Written> expected =
      Expected(first_ms(), end_ms, [](const coop::v1::Event& event) {
        if (!event.has_hub_milestone()) return false;
        const std::vector<std::string> codes = auth::RegionCodesIn(event);
        return std::any_of(codes.begin(), codes.end(), [](const std::string& code) {
          return auth::RegionCovers("KZ-19", code);
        });
      });
  ASSERT_FALSE(expected.empty()) << "the generated events name no KZ-19 hub milestone";
  ASSERT_EQ(received.events.size(), expected.size());
  ASSERT_TRUE(received.summary.has_value());
  EXPECT_EQ(received.summary->sha256(), coop::testing::RecordDigest(expected));

  coop::v1::ReplayRequest wider = Range(first_ms(), end_ms);  // Every type and region.
  EXPECT_EQ(Replay(wider, auth::testing::kAkimatKey).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Replay(request).status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ReplayServiceTest, BadRangesAreRefusedWithTheirCodes) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  coop::v1::ReplayRequest no_end;
  *no_end.mutable_start_time() = Proto(now_ms - 60'000);
  EXPECT_EQ(Replay(no_end).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Replay(Range(now_ms - 60'000, now_ms - 70'000)).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // The test server's settle delay is 1 s: an end 100 ms ago is too recent.
  EXPECT_EQ(Replay(Range(now_ms - 60'000, now_ms - 100)).status.error_code(),
            grpc::StatusCode::OUT_OF_RANGE);
  coop::v1::ReplayRequest bad_filter = Range(now_ms - 60'000, now_ms - 30'000);
  bad_filter.mutable_filter()->add_types("coop.v1.NoSuchEvent");
  EXPECT_EQ(Replay(bad_filter).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReplayServiceTest, ClientCancelMidReplayEndsItAndFreesItsPlace) {
  ASSERT_NO_FATAL_FAILURE(Write(3000, 93));
  ASSERT_NO_FATAL_FAILURE(StartServer({.max_replays = 1}));
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<coop::v1::ReplayResponse>> reader =
      stub_->Replay(&context, Range(first_ms(), first_ms() + 3000 * 10));
  coop::v1::ReplayResponse response;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(server_->service().replays_running(), 1);
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (server_->service().replays_running() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(server_->service().replays_running(), 0);
  // The place is free again.
  const Received again = Replay(Range(first_ms(), first_ms() + 10 * 10));
  EXPECT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.events.size(), 10u);
}

TEST_F(ReplayServiceTest, ReplaysBeyondTheLimitAreResourceExhaustedWithRetryInfo) {
  ASSERT_NO_FATAL_FAILURE(Write(3000, 94));
  ASSERT_NO_FATAL_FAILURE(StartServer({.max_replays = 1}));
  // A client that stops reading keeps its replay running (its writes wait for the window).
  std::unique_ptr<coop::v1::Subscriptions::Stub> slow = server_->NewStub(/*small_window=*/true);
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<coop::v1::ReplayResponse>> reader =
      slow->Replay(&context, Range(first_ms(), first_ms() + 3000 * 10));
  coop::v1::ReplayResponse response;
  ASSERT_TRUE(reader->Read(&response));

  const Received refused = Replay(Range(first_ms(), first_ms() + 10 * 10));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.status.error_message();
  EXPECT_TRUE(RetryInfoOf(refused.status).has_value());

  context.TryCancel();
  while (reader->Read(&response)) {
  }
  reader->Finish();
}

}  // namespace
}  // namespace coop::stream::testing

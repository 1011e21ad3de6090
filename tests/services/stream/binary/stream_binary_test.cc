// The coop-stream binary end to end, with coop-publisher: an event published over gRPC reaches a
// live subscriber, a Position token resumes after it, a replay returns it with its exact bytes,
// and SIGTERM ends open subscriptions with UNAVAILABLE and a resume cursor, then exits 0.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/status_conversion.h"
#include "coop/v1/errors.pb.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/ports.h"
#include "tests/testing/process.h"
#include "tests/testing/sample_events.h"

namespace coop::stream {
namespace {

using ::coop::testing::RunCommand;
using ::coop::testing::Spawn;
using ::coop::testing::WaitExit;
using google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;

std::chrono::system_clock::time_point In(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

class StreamBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    if (bootstrap_.empty()) GTEST_FAIL() << "no broker";
    topic_ = coop::testing::UniqueTopicName("stream-binary");
    const absl::Status created = coop::testing::CreateEventTopics(bootstrap_, topic_, 3);
    ASSERT_TRUE(created.ok()) << created;
    dir_ = std::filesystem::path(::testing::TempDir()) / topic_;
    std::filesystem::create_directories(dir_);
    policy_ = (dir_ / "policy.json").string();
    std::ofstream(policy_) << auth::testing::TestPolicyJson();
  }
  void TearDown() override {
    for (pid_t pid : {publisher_, stream_}) {
      if (pid > 0) {
        kill(pid, SIGKILL);
        WaitExit(pid);
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string bootstrap_, topic_, policy_;
  std::filesystem::path dir_;
  pid_t publisher_ = -1, stream_ = -1;
};

// Reads the next message of `reader`, failing the test when the stream ends instead.
coop::v1::SubscribeResponse Next(grpc::ClientReader<coop::v1::SubscribeResponse>& reader) {
  coop::v1::SubscribeResponse response;
  EXPECT_TRUE(reader.Read(&response)) << "the subscription ended";
  return response;
}

TEST_F(StreamBinaryTest, DeliversPublishedEventsLiveAndInReplayAndEndsStreamsOnSigterm) {
  const int publisher_port = coop::testing::FreeLoopbackPort();
  const int stream_port = coop::testing::FreeLoopbackPort();
  const int metrics_port = coop::testing::FreeLoopbackPort();
  publisher_ =
      Spawn({COOP_PUBLISHER_BINARY, absl::StrCat("--listen=127.0.0.1:", publisher_port),
             absl::StrCat("--bootstrap_servers=", bootstrap_),
             absl::StrCat("--events_topic=", topic_), absl::StrCat("--instance_id=", topic_),
             absl::StrCat("--policy=", policy_), "--insecure_plaintext", "--metrics_listen="});
  stream_ = Spawn({COOP_STREAM_BINARY, absl::StrCat("--listen=127.0.0.1:", stream_port),
                   absl::StrCat("--bootstrap_servers=", bootstrap_),
                   absl::StrCat("--events_topic=", topic_), absl::StrCat("--policy=", policy_),
                   "--insecure_plaintext", "--settle_delay=1s",
                   absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port)});
  auto publisher_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", publisher_port),
                                               grpc::InsecureChannelCredentials());
  auto stream_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", stream_port),
                                            grpc::InsecureChannelCredentials());
  ASSERT_TRUE(publisher_channel->WaitForConnected(In(60)));
  ASSERT_TRUE(stream_channel->WaitForConnected(In(60)));
  auto publisher = coop::v1::Publisher::NewStub(publisher_channel);
  auto stream = coop::v1::Subscriptions::NewStub(stream_channel);
  const absl::Time before = absl::Now() - absl::Seconds(1);

  // A live subscriber of the Government of Moscow Oblast: CaughtUp comes first.
  grpc::ClientContext live_context;
  live_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  coop::v1::SubscribeRequest live_request;
  live_request.set_edge(coop::v1::LOG_EDGE_LATEST);
  live_request.mutable_filter()->add_regions()->set_code("RU-MOS");
  std::unique_ptr<grpc::ClientReader<coop::v1::SubscribeResponse>> live =
      stream->Subscribe(&live_context, live_request);
  ASSERT_TRUE(Next(*live).has_caught_up());

  // Publish the memorandum; the subscriber gets it at the acknowledged position.
  grpc::ClientContext publish_context;
  publish_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  publish_context.set_deadline(In(30));
  coop::v1::PublishRequest publish;
  *publish.mutable_event() = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse published;
  grpc::Status status = publisher->Publish(&publish_context, publish, &published);
  ASSERT_TRUE(status.ok()) << status.error_message();
  coop::v1::SubscribeResponse delivered = Next(*live);
  ASSERT_TRUE(delivered.has_event()) << delivered.DebugString();
  EXPECT_EQ(delivered.event().event().id(), publish.event().id());
  EXPECT_EQ(delivered.event().position().partition(), published.ack().position().partition());
  EXPECT_EQ(delivered.event().position().offset(), published.ack().position().offset());

  // Resuming from the Publish token starts just past that event: the next one published is
  // the first delivered.
  grpc::ClientContext resume_context;
  resume_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  coop::v1::SubscribeRequest resume_request;
  resume_request.set_cursor(published.ack().position().token());
  *resume_request.mutable_filter() = live_request.filter();
  std::unique_ptr<grpc::ClientReader<coop::v1::SubscribeResponse>> resumed =
      stream->Subscribe(&resume_context, resume_request);
  grpc::ClientContext second_context;
  second_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  second_context.set_deadline(In(30));
  coop::v1::PublishRequest second = publish;
  second.mutable_event()->set_id(publish.event().id() + "-2");
  second.mutable_event()->set_subject("agreement/ru-mos-kz-19-second");
  second.mutable_event()->mutable_memorandum_signed()->set_agreement_id("ru-mos-kz-19-second");
  status = publisher->Publish(&second_context, second, &published);
  ASSERT_TRUE(status.ok()) << status.error_message();
  coop::v1::SubscribeResponse first_resumed = Next(*resumed);
  while (first_resumed.has_heartbeat() || first_resumed.has_caught_up()) {
    first_resumed = Next(*resumed);
  }
  ASSERT_TRUE(first_resumed.has_event()) << first_resumed.DebugString();
  EXPECT_EQ(first_resumed.event().event().id(), second.event().id());
  resume_context.TryCancel();

  // A replay of the last moments holds both events with their exact record bytes.
  absl::SleepFor(absl::Milliseconds(1500));  // The settle delay.
  grpc::ClientContext replay_context;
  replay_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  coop::v1::ReplayRequest replay_request;
  *replay_request.mutable_start_time() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(before));
  *replay_request.mutable_end_time() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(absl::Now() - absl::Seconds(1)));
  *replay_request.mutable_filter() = live_request.filter();
  std::unique_ptr<grpc::ClientReader<coop::v1::ReplayResponse>> replay =
      stream->Replay(&replay_context, replay_request);
  std::vector<std::string> replayed;
  coop::v1::ReplayResponse replay_response;
  coop::v1::ReplaySummary summary;
  while (replay->Read(&replay_response)) {
    if (replay_response.has_event()) {
      coop::v1::Event parsed;
      ASSERT_TRUE(parsed.ParseFromString(replay_response.event().record_value()));
      EXPECT_EQ(parsed.id(), replay_response.event().event().id());
      replayed.push_back(parsed.id());
    }
    if (replay_response.has_summary()) summary = replay_response.summary();
  }
  status = replay->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(replayed, ::testing::ElementsAre(publish.event().id(), second.event().id()));
  EXPECT_EQ(summary.count(), 2);
  EXPECT_EQ(summary.sha256().size(), 32u);

  // Reflection (grpcurl) and metrics.
  EXPECT_THAT(
      RunCommand(absl::StrCat(COOP_GRPCURL, " -plaintext 127.0.0.1:", stream_port, " list")).output,
      HasSubstr("coop.v1.Subscriptions"));
  const std::string metrics =
      RunCommand(absl::StrCat("curl -s http://127.0.0.1:", metrics_port, "/metrics")).output;
  EXPECT_THAT(metrics, HasSubstr("coop_stream_tail_records_total 2"));

  // Without credentials: refused.
  grpc::ClientContext anonymous;
  coop::v1::SubscribeRequest anonymous_request;
  anonymous_request.set_edge(coop::v1::LOG_EDGE_LATEST);
  auto refused = stream->Subscribe(&anonymous, anonymous_request);
  coop::v1::SubscribeResponse ignored;
  EXPECT_FALSE(refused->Read(&ignored));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // SIGTERM: the open subscription ends with UNAVAILABLE and where to resume; exit 0.
  ASSERT_EQ(kill(stream_, SIGTERM), 0);
  coop::v1::SubscribeResponse rest;
  while (live->Read(&rest)) {
  }
  status = live->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  coop::v1::ErrorStatus details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  bool has_resume = false;
  for (const coop::v1::ErrorDetail& detail : details.details()) {
    if (detail.type_url() != rpc::kResumeInfoTypeUrl) continue;
    coop::v1::ResumeInfo resume;
    ASSERT_TRUE(resume.ParseFromString(detail.value()));
    has_resume = !resume.cursor().empty();
  }
  EXPECT_TRUE(has_resume) << "no ResumeInfo in " << details.DebugString();
  ASSERT_EQ(kill(publisher_, SIGTERM), 0);
  for (pid_t* pid : {&stream_, &publisher_}) {
    EXPECT_EQ(WaitExit(*pid), 0);
    *pid = -1;
  }
}

}  // namespace
}  // namespace coop::stream

// Integration: the coop-publisher binary itself, against the single-node test broker: grpcurl
// can list and call it through server reflection, it reports health, and on SIGTERM it answers
// every event in flight and exits 0.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/kafka/topic_admin.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/ports.h"
#include "tests/testing/process.h"
#include "tests/testing/sample_events.h"

namespace coop::publisher {
namespace {

using ::testing::HasSubstr;

class PublisherBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    if (bootstrap_.empty()) GTEST_FAIL() << "no broker";
    topic_ = coop::testing::UniqueTopicName("shutdown");
    kafka::KafkaConfig kafka{.bootstrap_servers = bootstrap_};
    auto admin = kafka::TopicAdmin::Create(kafka);
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE(
        (*admin)
            ->EnsureTopics({kafka::TopicSpec{.name = topic_, .partitions = 3}}, absl::Seconds(30))
            .ok());
    policy_path_ = absl::StrCat(::testing::TempDir(), "/policy-", getpid(), ".json");
    std::ofstream(policy_path_) << auth::testing::TestPolicyJson();
    port_ = coop::testing::FreeLoopbackPort();
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      coop::testing::WaitExit(pid_);
    }
    std::remove(policy_path_.c_str());
  }

  void StartServer() {
    const std::vector<std::string> args = {
        COOP_PUBLISHER_BINARY,
        absl::StrCat("--listen=127.0.0.1:", port_),
        absl::StrCat("--bootstrap_servers=", bootstrap_),
        absl::StrCat("--events_topic=", topic_),
        absl::StrCat("--instance_id=", topic_),
        absl::StrCat("--policy=", policy_path_),
        "--insecure_plaintext",
        "--metrics_listen=",
    };
    pid_ = coop::testing::Spawn(args);
    ASSERT_GT(pid_, 0);
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials());
    ASSERT_TRUE(
        channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(60)))
        << "coop-publisher did not start listening";
    stub_ = coop::v1::Publisher::NewStub(channel_);
  }

  std::string bootstrap_;
  std::string topic_;
  std::string policy_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<coop::v1::Publisher::Stub> stub_;
};

// Runs grpcurl (installed by tools/bootstrap) with `args`; returns its exit code and output.
coop::testing::CommandResult Grpcurl(const std::string& args) {
  return coop::testing::RunCommand(absl::StrCat(COOP_GRPCURL, " ", args));
}

TEST_F(PublisherBinaryTest, GrpcurlListsDescribesAndCallsThroughReflection) {
  StartServer();
  const std::string address = absl::StrCat("127.0.0.1:", port_);
  auto [list_code, services] = Grpcurl(absl::StrCat("-plaintext ", address, " list"));
  ASSERT_EQ(list_code, 0) << services;
  EXPECT_THAT(services, HasSubstr("coop.v1.Publisher"));
  EXPECT_THAT(services, HasSubstr("grpc.health.v1.Health"));

  auto [describe_code, description] =
      Grpcurl(absl::StrCat("-plaintext ", address, " describe coop.v1.Event"));
  ASSERT_EQ(describe_code, 0) << description;
  EXPECT_THAT(description, HasSubstr("memorandum_signed"));

  auto [health_code, health] =
      Grpcurl(absl::StrCat("-plaintext ", address, " grpc.health.v1.Health/Check"));
  ASSERT_EQ(health_code, 0) << health;
  EXPECT_THAT(health, HasSubstr("SERVING"));

  coop::v1::PublishRequest request;
  *request.mutable_event() = coop::testing::MemorandumSignedEvent();
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(request, &json).ok());
  const std::string json_path = absl::StrCat(::testing::TempDir(), "/publish-", getpid(), ".json");
  std::ofstream(json_path) << json;
  auto [call_code, answer] =
      Grpcurl(absl::StrCat("-plaintext -H 'authorization: Bearer ", auth::testing::kMosregKey,
                           "' -d @ ", address, " coop.v1.Publisher/Publish < ", json_path));
  std::remove(json_path.c_str());
  ASSERT_EQ(call_code, 0) << answer;
  EXPECT_THAT(answer, HasSubstr("\"event_id\": \"mosreg-2025-09-10-memorandum\""));
}

TEST_F(PublisherBinaryTest, SigtermAnswersEveryEventInFlightAndExitsZero) {
  StartServer();
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  auto stream = stub_->PublishStream(&context);
  constexpr int kEvents = 300;
  for (int i = 1; i <= kEvents; ++i) {
    coop::v1::PublishStreamRequest request;
    request.set_sequence(i);
    *request.mutable_event() = coop::testing::MemorandumSignedEvent();
    request.mutable_event()->set_id(absl::StrCat("mosreg-shutdown-", i));
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  // Once the first answer is here the server has the call; most events are still in flight.
  std::set<uint64_t> answered;
  coop::v1::PublishStreamResponse response;
  ASSERT_TRUE(stream->Read(&response));
  answered.insert(response.sequence());
  ASSERT_EQ(kill(pid_, SIGTERM), 0);

  while (stream->Read(&response)) {
    EXPECT_TRUE(response.has_ack()) << response.error().message();
    answered.insert(response.sequence());
  }
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(answered.size(), static_cast<size_t>(kEvents));

  const int exit_code = coop::testing::WaitExit(pid_);
  pid_ = -1;
  EXPECT_EQ(exit_code, 0);
}

}  // namespace
}  // namespace coop::publisher

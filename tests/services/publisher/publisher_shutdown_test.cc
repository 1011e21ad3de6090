// Integration: the coop-publisher binary answers every event in flight when it gets SIGTERM,
// then exits 0. Runs the real binary against the single-node test broker.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/kafka/topic_admin.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/sample_events.h"

namespace coop::publisher {
namespace {

// A port that was free a moment ago (the server binds it right after).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

class PublisherShutdownTest : public ::testing::Test {
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
    port_ = FreePort();
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::remove(policy_path_.c_str());
  }

  void StartServer() {
    std::vector<std::string> args = {
        COOP_PUBLISHER_BINARY,
        absl::StrCat("--listen=127.0.0.1:", port_),
        absl::StrCat("--bootstrap_servers=", bootstrap_),
        absl::StrCat("--events_topic=", topic_),
        absl::StrCat("--instance_id=", topic_),
        absl::StrCat("--policy=", policy_path_),
        "--insecure_plaintext",
        "--metrics_listen=",
    };
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
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

TEST_F(PublisherShutdownTest, SigtermAnswersEveryEventInFlightAndExitsZero) {
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
  ASSERT_EQ(kill(pid_, SIGTERM), 0);

  std::set<uint64_t> answered;
  coop::v1::PublishStreamResponse response;
  while (stream->Read(&response)) {
    EXPECT_TRUE(response.has_ack()) << response.error().message();
    answered.insert(response.sequence());
  }
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(answered.size(), static_cast<size_t>(kEvents));

  int wait_status = 0;
  ASSERT_EQ(waitpid(pid_, &wait_status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
}

}  // namespace
}  // namespace coop::publisher

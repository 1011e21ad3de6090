// End to end through the binaries: coop-publisher writes an event to the test broker, coop-views
// (SQLite) answers a query carrying the publish acknowledgement's token as min_position with
// that event applied (read your writes), serves reflection and /metrics, and on SIGTERM exits 0.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/kafka/topic_admin.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "coop/v1/views.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/ports.h"
#include "tests/testing/process.h"
#include "tests/testing/sample_events.h"

namespace coop::views {
namespace {

using ::coop::testing::RunCommand;
using ::coop::testing::Spawn;
using ::coop::testing::WaitExit;
using ::testing::HasSubstr;

class ViewsBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    if (bootstrap_.empty()) GTEST_FAIL() << "no broker";
    topic_ = coop::testing::UniqueTopicName("views-binary");
    kafka::KafkaConfig kafka{.bootstrap_servers = bootstrap_};
    auto admin = kafka::TopicAdmin::Create(kafka);
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE((*admin)
                    ->EnsureTopics({kafka::TopicSpec{.name = topic_, .partitions = 3},
                                    kafka::TopicSpec{.name = topic_ + ".dlq", .partitions = 1}},
                                   absl::Seconds(30))
                    .ok());
    dir_ = std::filesystem::path(::testing::TempDir()) / topic_;
    std::filesystem::create_directories(dir_);
    policy_ = (dir_ / "policy.json").string();
    std::ofstream(policy_) << auth::testing::TestPolicyJson();
  }
  void TearDown() override {
    for (pid_t pid : {publisher_, views_}) {
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
  pid_t publisher_ = -1, views_ = -1;
};

TEST_F(ViewsBinaryTest, ReadsItsWritesThroughBothBinariesAndStopsCleanly) {
  const int publisher_port = coop::testing::FreeLoopbackPort();
  const int views_port = coop::testing::FreeLoopbackPort();
  const int metrics_port = coop::testing::FreeLoopbackPort();
  publisher_ =
      Spawn({COOP_PUBLISHER_BINARY, absl::StrCat("--listen=127.0.0.1:", publisher_port),
             absl::StrCat("--bootstrap_servers=", bootstrap_),
             absl::StrCat("--events_topic=", topic_), absl::StrCat("--instance_id=", topic_),
             absl::StrCat("--policy=", policy_), "--insecure_plaintext", "--metrics_listen="});
  views_ = Spawn(
      {COOP_VIEWS_BINARY, absl::StrCat("--listen=127.0.0.1:", views_port),
       absl::StrCat("--bootstrap_servers=", bootstrap_), absl::StrCat("--events_topic=", topic_),
       absl::StrCat("--dead_letter_topic=", topic_, ".dlq"),
       absl::StrCat("--sqlite_dir=", (dir_ / "views").string()), absl::StrCat("--policy=", policy_),
       "--insecure_plaintext", absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port)});
  auto publisher_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", publisher_port),
                                               grpc::InsecureChannelCredentials());
  auto views_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", views_port),
                                           grpc::InsecureChannelCredentials());
  const auto ready_by = std::chrono::system_clock::now() + std::chrono::seconds(60);
  ASSERT_TRUE(publisher_channel->WaitForConnected(ready_by));
  ASSERT_TRUE(views_channel->WaitForConnected(ready_by));
  auto publisher = coop::v1::Publisher::NewStub(publisher_channel);
  auto views = coop::v1::Views::NewStub(views_channel);

  // Publish the memorandum as the Government of Moscow Oblast.
  grpc::ClientContext publish_context;
  publish_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  publish_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  coop::v1::PublishRequest publish;
  *publish.mutable_event() = coop::testing::MemorandumSignedEvent();
  coop::v1::PublishResponse published;
  grpc::Status status = publisher->Publish(&publish_context, publish, &published);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Read it back at once with the acknowledgement's token: the view waits until it has it.
  grpc::ClientContext read_context;
  read_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  read_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  coop::v1::GetAgreementRequest get;
  get.set_agreement_id(publish.event().memorandum_signed().agreement_id());
  get.set_min_position(published.ack().position().token());
  coop::v1::GetAgreementResponse agreement;
  status = views->GetAgreement(&read_context, get, &agreement);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(agreement.agreement().title(), publish.event().memorandum_signed().title());
  EXPECT_EQ(agreement.agreement().signed_event().id(), publish.event().id());
  EXPECT_FALSE(agreement.cursor().empty());

  // Without credentials: refused. A rebuild by a principal that is not an operator: refused.
  grpc::ClientContext anonymous;
  coop::v1::ListAgreementsResponse list;
  EXPECT_EQ(views->ListAgreements(&anonymous, {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext rebuild_context;
  rebuild_context.AddMetadata("authorization", absl::StrCat("Bearer ", auth::testing::kMosregKey));
  coop::v1::RebuildResponse rebuild;
  EXPECT_EQ(views->Rebuild(&rebuild_context, {}, &rebuild).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Reflection (grpcurl) and metrics.
  EXPECT_THAT(
      RunCommand(absl::StrCat(COOP_GRPCURL, " -plaintext 127.0.0.1:", views_port, " list")).output,
      HasSubstr("coop.v1.Views"));
  const std::string metrics =
      RunCommand(absl::StrCat("curl -s http://127.0.0.1:", metrics_port, "/metrics")).output;
  EXPECT_THAT(metrics, HasSubstr("coop_views_events_applied_total 1"));
  EXPECT_THAT(metrics, HasSubstr("coop_views_dead_lettered_total 0"));

  // SIGTERM: both stop and exit 0.
  for (pid_t* pid : {&views_, &publisher_}) {
    ASSERT_EQ(kill(*pid, SIGTERM), 0);
    EXPECT_EQ(WaitExit(*pid), 0);
    *pid = -1;
  }
}

}  // namespace
}  // namespace coop::views

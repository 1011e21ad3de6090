// Integration: the coopctl binary publishing files to a coop-publisher process on the real
// broker: acknowledgements, duplicates on a second run, and its messages for bad input.
#include <sys/types.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/topic_admin.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/ports.h"
#include "tests/testing/process.h"

namespace coop::ctl {
namespace {

using ::coop::testing::CommandResult;
using ::coop::testing::RunCommand;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

class PublishCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    ASSERT_FALSE(bootstrap_.empty());
    topic_ = coop::testing::UniqueTopicName("coopctl-publish");
    kafka::EventTopicsConfig topics;
    topics.events_topic = topic_;
    topics.dead_letter_topic = topic_ + ".dlq";
    auto admin = kafka::TopicAdmin::Create(kafka::KafkaConfig{.bootstrap_servers = bootstrap_});
    ASSERT_TRUE(admin.ok()) << admin.status();
    ASSERT_TRUE((*admin)->EnsureTopics(kafka::EventTopicSpecs(topics), absl::Seconds(30)).ok());
    dir_ = std::filesystem::temp_directory_path() / topic_;
    std::filesystem::create_directories(dir_);
    test_policy_ = (dir_ / "policy.json").string();
    std::ofstream(test_policy_) << auth::testing::TestPolicyJson();
    std::ofstream(dir_ / "mosreg.key") << auth::testing::kMosregKey << "\n";
  }

  // Starts coop-publisher with `policy` on a free port and waits until it accepts calls.
  void Start(const std::string& policy) {
    address_ = absl::StrCat("127.0.0.1:", coop::testing::FreeLoopbackPort());
    publisher_ = coop::testing::Spawn(
        {COOP_PUBLISHER_BINARY, absl::StrCat("--listen=", address_),
         absl::StrCat("--bootstrap_servers=", bootstrap_), absl::StrCat("--events_topic=", topic_),
         absl::StrCat("--instance_id=", topic_), absl::StrCat("--policy=", policy),
         "--insecure_plaintext", "--metrics_listen="});
    ASSERT_GT(publisher_, 0);
    auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(60))))
        << "coop-publisher did not start";
  }

  void TearDown() override {
    if (publisher_ > 0) {
      kill(publisher_, SIGTERM);
      coop::testing::WaitExit(publisher_);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // coopctl publish as the Moscow Oblast government (its API key in a file).
  CommandResult Publish(const std::string& arguments) {
    return RunCommand(absl::StrCat(COOPCTL_BINARY, " --publisher=", address_, " --token_file=",
                                   (dir_ / "mosreg.key").string(), " publish ", arguments));
  }

  std::string bootstrap_, topic_, address_, test_policy_;
  std::filesystem::path dir_;
  pid_t publisher_ = -1;
};

// Two events the Moscow Oblast government may publish (the test policy: memoranda, agreements
// and hub milestones about RU-MOS).
constexpr char kHubEvents[] = R"(id: ctl-hub-1
type: coop.v1.HubMilestone
subject: hub/ctl-selyatino
schema_version: 1
hub_milestone:
  hub_id: ctl-selyatino
  hub_name: ТЛЦ «Селятино»
  hub_kind: HUB_KIND_LOGISTICS
  location: {region: {code: RU-MOS}, locality: Селятино}
  milestone_kind: HUB_MILESTONE_KIND_ANNOUNCED
---
id: ctl-hub-2
type: coop.v1.HubMilestone
subject: hub/ctl-selyatino
schema_version: 1
hub_milestone:
  hub_id: ctl-selyatino
  hub_name: ТЛЦ «Селятино»
  hub_kind: HUB_KIND_LOGISTICS
  location: {region: {code: RU-MOS}, locality: Селятино}
  milestone_kind: HUB_MILESTONE_KIND_CONSTRUCTION_STARTED
  actual_on: {year: 2025, month: 11}
)";

// "partition P offset O" from the line of event `id` that says `verb` ("recorded at", ...).
std::string PositionOf(const std::string& output, const std::string& id, const std::string& verb) {
  const std::string marker = absl::StrCat("(id ", id, "): ", verb, " ");
  const size_t at = output.find(marker);
  if (at == std::string::npos) return "";
  const size_t from = at + marker.size();
  return output.substr(from, output.find(',', from) - from);
}

TEST_F(PublishCommandTest, PublishesEachEventAndASecondRunFindsThemRecorded) {
  ASSERT_NO_FATAL_FAILURE(Start(test_policy_));
  const std::string file = Write("hubs.yaml", kHubEvents);
  const CommandResult first = Publish(file);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("published 2 events: 2 recorded, 0 duplicates"));

  // The same file again: nothing new is written, and each event is acknowledged at the position
  // the first run recorded it at, which the publisher only knows from the log.
  const CommandResult again = Publish(file);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("published 2 events: 0 recorded, 2 duplicates"));
  for (const char* id : {"ctl-hub-1", "ctl-hub-2"}) {
    SCOPED_TRACE(id);
    const std::string recorded = PositionOf(first.output, id, "recorded at");
    EXPECT_THAT(recorded, HasSubstr("partition ")) << first.output;
    EXPECT_EQ(PositionOf(again.output, id, "duplicate of the event at"), recorded) << again.output;
  }

  // JSON lines: one object per event.
  const CommandResult json = Publish(absl::StrCat("--json ", file));
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_THAT(json.output,
              AllOf(HasSubstr("\"id\":\"ctl-hub-1\""), HasSubstr("\"id\":\"ctl-hub-2\""),
                    HasSubstr("\"duplicate\":true"), Not(HasSubstr("\"duplicate\":false"))));
}

TEST_F(PublishCommandTest, AnEventTheServiceFindsInvalidNamesTheFileTheEventAndTheField) {
  ASSERT_NO_FATAL_FAILURE(Start(test_policy_));
  const std::string file = Write("bad.json", R"([
    {"id": "ctl-ok", "type": "coop.v1.HubMilestone", "subject": "hub/ctl-a", "schema_version": 1,
     "hub_milestone": {"hub_id": "ctl-a", "hub_name": "A", "hub_kind": "HUB_KIND_LOGISTICS",
                       "location": {"region": {"code": "RU-MOS"}},
                       "milestone_kind": "HUB_MILESTONE_KIND_ANNOUNCED"}},
    {"id": "ctl-bad", "type": "coop.v1.HubMilestone", "subject": "hub/ctl-b", "schema_version": 1,
     "hub_milestone": {"hub_id": "Not A Slug", "hub_name": "B", "hub_kind": "HUB_KIND_LOGISTICS",
                       "location": {"region": {"code": "RU-MOS"}},
                       "milestone_kind": "HUB_MILESTONE_KIND_ANNOUNCED"}}])");
  const CommandResult result = Publish(file);
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_THAT(result.output,
              AllOf(HasSubstr("bad.json: event 1 (id ctl-ok): recorded at"),
                    HasSubstr("bad.json: event 2 (id ctl-bad): not published (1 recorded before "
                              "it): INVALID_ARGUMENT"),
                    HasSubstr("event.hub_milestone.hub_id")));
}

TEST_F(PublishCommandTest, ABadFilePublishesNothingAndNamesTheFieldItBreaks) {
  ASSERT_NO_FATAL_FAILURE(Start(test_policy_));
  const std::string good = Write("good.yaml", kHubEvents);
  const std::string bad = Write("typo.yaml", "id: ctl-typo\nsubjetc: hub/x\n");
  const CommandResult result = Publish(absl::StrCat(good, " ", bad));
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_THAT(result.output, AllOf(HasSubstr("typo.yaml: event 1 (id ctl-typo): "),
                                   HasSubstr("subjetc"), Not(HasSubstr("recorded at"))));
  // Nothing of good.yaml was sent: publishing it now records both events as new.
  const CommandResult then = Publish(good);
  ASSERT_EQ(then.exit_code, 0) << then.output;
  EXPECT_THAT(then.output, HasSubstr("2 recorded, 0 duplicates"));
}

TEST_F(PublishCommandTest, WrongTokenIsUnauthenticatedAndUnreachableServerUnavailable) {
  ASSERT_NO_FATAL_FAILURE(Start(test_policy_));
  const std::string file = Write("hubs.yaml", kHubEvents);
  const CommandResult wrong = RunCommand(
      absl::StrCat(COOPCTL_BINARY, " --publisher=", address_, " --token=not-a-key publish ", file));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_THAT(wrong.output, HasSubstr("hubs.yaml: event 1 (id ctl-hub-1): not published (0 "
                                      "recorded before it): UNAUTHENTICATED"));
  const CommandResult away = RunCommand(
      absl::StrCat(COOPCTL_BINARY, " --publisher=127.0.0.1:", coop::testing::FreeLoopbackPort(),
                   " --timeout=2s --token=x publish ", file));
  EXPECT_EQ(away.exit_code, 1) << away.output;
  EXPECT_THAT(away.output, AnyOf(HasSubstr("UNAVAILABLE"), HasSubstr("DEADLINE_EXCEEDED")));
}

// The seed data set (deploy/seed, one file per publisher) publishes in full under the demo
// policy (deploy/demo), each file with its publisher's demo key: every publisher's scope covers
// its events.
TEST_F(PublishCommandTest, TheWholeSeedPublishesUnderTheDemoPolicyWithEachPublishersKey) {
  ASSERT_NO_FATAL_FAILURE(Start(COOP_DEMO_DIR "/policy.json"));
  int files = 0;
  int64_t recorded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(COOP_SEED_DIR)) {
    const std::string publisher = entry.path().stem().string();
    SCOPED_TRACE(publisher);
    const CommandResult result = RunCommand(
        absl::StrCat(COOPCTL_BINARY, " --publisher=", address_, " --token_file=", COOP_DEMO_DIR,
                     "/keys/", publisher, ".key publish ", entry.path().string()));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_THAT(result.output, HasSubstr(" duplicates"));
    EXPECT_THAT(result.output, Not(HasSubstr("duplicate of")));
    recorded += std::count(result.output.begin(), result.output.end(), '\n') - 1;
    ++files;
  }
  EXPECT_EQ(files, 5);
  EXPECT_EQ(recorded, 27) << "the seed data set has 27 events";
}

}  // namespace
}  // namespace coop::ctl

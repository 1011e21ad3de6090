// Integration: the coopctl binary against coop-publisher and coop-stream processes on the real
// broker: publishing files (acknowledgements, duplicates on a second run, messages for bad
// input) and subscribing (filters, start points, resuming from a printed cursor).
#include <sys/types.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
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

class CoopctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    ASSERT_FALSE(bootstrap_.empty());
    topic_ = coop::testing::UniqueTopicName("coopctl-publish");
    const absl::Status created = coop::testing::CreateEventTopics(bootstrap_, topic_);
    ASSERT_TRUE(created.ok()) << created;
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

  // Starts coop-stream with the test policy on a free port and waits until it accepts calls.
  void StartStream() {
    stream_address_ = absl::StrCat("127.0.0.1:", coop::testing::FreeLoopbackPort());
    stream_ = coop::testing::Spawn({COOP_STREAM_BINARY, absl::StrCat("--listen=", stream_address_),
                                    absl::StrCat("--bootstrap_servers=", bootstrap_),
                                    absl::StrCat("--events_topic=", topic_),
                                    absl::StrCat("--policy=", test_policy_), "--insecure_plaintext",
                                    "--metrics_listen=", "--settle_delay=1s"});
    ASSERT_GT(stream_, 0);
    auto channel = grpc::CreateChannel(stream_address_, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(60))))
        << "coop-stream did not start";
  }

  // coopctl subscribe with `key`.
  CommandResult Subscribe(const std::string& key, const std::string& arguments) {
    return RunCommand(absl::StrCat(COOPCTL_BINARY, " --stream=", stream_address_, " --token=", key,
                                   " subscribe ", arguments));
  }

  void TearDown() override {
    for (const pid_t pid : {publisher_, stream_}) {
      if (pid > 0) {
        kill(pid, SIGTERM);
        coop::testing::WaitExit(pid);
      }
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

  std::string bootstrap_, topic_, address_, test_policy_, stream_address_;
  std::filesystem::path dir_;
  pid_t publisher_ = -1;
  pid_t stream_ = -1;
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

TEST_F(CoopctlTest, PublishesEachEventAndASecondRunFindsThemRecorded) {
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

TEST_F(CoopctlTest, AnEventTheServiceFindsInvalidNamesTheFileTheEventAndTheField) {
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

TEST_F(CoopctlTest, ABadFilePublishesNothingAndNamesTheFieldItBreaks) {
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

TEST_F(CoopctlTest, WrongTokenIsUnauthenticatedAndUnreachableServerUnavailable) {
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
TEST_F(CoopctlTest, TheWholeSeedPublishesUnderTheDemoPolicyWithEachPublishersKey) {
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
    for (size_t at = result.output.find(": recorded at "); at != std::string::npos;
         at = result.output.find(": recorded at ", at + 1)) {
      ++recorded;
    }
    EXPECT_THAT(result.output, HasSubstr("\nmin_position: "));
    ++files;
  }
  EXPECT_EQ(files, 5);
  EXPECT_EQ(recorded, 27) << "the seed data set has 27 events";
}

TEST_F(CoopctlTest, SubscribeFromTheStartPrintsEventsInOrderAndItsCursorResumes) {
  ASSERT_NO_FATAL_FAILURE(Start(test_policy_));
  ASSERT_NO_FATAL_FAILURE(StartStream());
  const CommandResult published = Publish(Write("hubs.yaml", kHubEvents));
  ASSERT_EQ(published.exit_code, 0) << published.output;

  // Both events are on one partition (one subject): earliest gives them in log order.
  const CommandResult text =
      Subscribe(auth::testing::kMosregKey, "--regions=RU-MOS --start=earliest --count=2");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  const size_t first = text.output.find(
      "HubMilestone hub/ctl-selyatino ctl-hub-1 from "
      "publishers/mosreg-government at partition ");
  const size_t second = text.output.find("HubMilestone hub/ctl-selyatino ctl-hub-2 from");
  ASSERT_NE(first, std::string::npos) << text.output;
  ASSERT_NE(second, std::string::npos) << text.output;
  EXPECT_LT(first, second);
  EXPECT_THAT(text.output, HasSubstr("resume with --start=cursor:"));

  // JSON lines; the cursor of the first event resumes right after it.
  const CommandResult one =
      Subscribe(auth::testing::kMosregKey, "--regions=RU-MOS --start=earliest --count=1 --json");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_THAT(one.output, HasSubstr("\"id\":\"ctl-hub-1\""));
  const size_t at = one.output.find("\"cursor\":\"");
  ASSERT_NE(at, std::string::npos) << one.output;
  const size_t from = at + strlen("\"cursor\":\"");
  const std::string cursor = one.output.substr(from, one.output.find('"', from) - from);
  const CommandResult resumed =
      Subscribe(auth::testing::kMosregKey,
                absl::StrCat("--regions=RU-MOS --start=cursor:", cursor, " --count=1"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, AllOf(HasSubstr("ctl-hub-2"), Not(HasSubstr("ctl-hub-1 from"))));

  // Filters on the type and the subject prefix select both milestones.
  const CommandResult filtered =
      Subscribe(auth::testing::kMosregKey,
                "--regions=RU-MOS --start=earliest --count=2 --types=coop.v1.HubMilestone "
                "--subject_prefixes=hub/ctl-");
  ASSERT_EQ(filtered.exit_code, 0) << filtered.output;
  EXPECT_THAT(filtered.output, AllOf(HasSubstr("ctl-hub-1"), HasSubstr("ctl-hub-2")));
}

TEST_F(CoopctlTest, SubscribeBeyondTheScopeIsPermissionDeniedAndABadStartAUsageError) {
  ASSERT_NO_FATAL_FAILURE(Start(test_policy_));
  ASSERT_NO_FATAL_FAILURE(StartStream());
  // The akimat reads only MemorandumSigned and HubMilestone about KZ-19.
  const CommandResult denied = Subscribe(
      auth::testing::kAkimatKey, "--regions=KZ-19 --start=earliest --types=coop.v1.TradeUpdate");
  EXPECT_EQ(denied.exit_code, 1) << denied.output;
  EXPECT_THAT(denied.output, HasSubstr("subscribe: PERMISSION_DENIED"));
  const CommandResult bad = Subscribe(auth::testing::kMosregKey, "--start=yesterday");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("--start: 'yesterday' is not latest, earliest"));
}

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone());
}

TEST_F(CoopctlTest, ReplayWritesTheRangeAsJsonLinesEndingWithItsDigest) {
  ASSERT_NO_FATAL_FAILURE(Start(test_policy_));
  ASSERT_NO_FATAL_FAILURE(StartStream());
  const absl::Time from = absl::Now() - absl::Seconds(5);
  const CommandResult published = Publish(Write("hubs.yaml", kHubEvents));
  ASSERT_EQ(published.exit_code, 0) << published.output;
  absl::SleepFor(absl::Seconds(2));
  const absl::Time to = absl::Now() - absl::Seconds(1);  // Past the 1 s settle delay.
  const std::string range =
      absl::StrCat("--regions=RU-MOS --from=", Rfc3339(from), " --to=", Rfc3339(to));
  const std::string file = (dir_ / "replay.jsonl").string();

  const CommandResult to_file = RunCommand(
      absl::StrCat(COOPCTL_BINARY, " --stream=", stream_address_,
                   " --token=", auth::testing::kMosregKey, " replay ", range, " --output=", file));
  ASSERT_EQ(to_file.exit_code, 0) << to_file.output;
  const std::string marker = "replay: 2 events, record digest sha256 ";
  const size_t at = to_file.output.find(marker);
  ASSERT_NE(at, std::string::npos) << to_file.output;
  const std::string digest = to_file.output.substr(at + marker.size(), 64);
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << absl::StrJoin(lines, "\n");
  EXPECT_THAT(lines[0], HasSubstr("\"id\":\"ctl-hub-1\""));
  EXPECT_THAT(lines[0], HasSubstr("\"record_value\":\""));
  EXPECT_THAT(lines[1], HasSubstr("\"id\":\"ctl-hub-2\""));
  EXPECT_THAT(lines[2],
              HasSubstr(absl::StrCat("{\"summary\":{\"count\":2,\"sha256\":\"", digest, "\"")));

  // The same range again, to standard output: the same digest.
  const CommandResult again =
      RunCommand(absl::StrCat(COOPCTL_BINARY, " --stream=", stream_address_,
                              " --token=", auth::testing::kMosregKey, " replay ", range));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr(absl::StrCat("\"sha256\":\"", digest, "\"")));

  // Bad ranges: a missing bound is a usage error, an end before the start the service refuses.
  const CommandResult missing = RunCommand(absl::StrCat(
      COOPCTL_BINARY, " --stream=", stream_address_, " replay --from=", Rfc3339(from)));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("--to: required"));
  const CommandResult backwards = RunCommand(absl::StrCat(
      COOPCTL_BINARY, " --stream=", stream_address_, " --token=", auth::testing::kMosregKey,
      " replay --regions=RU-MOS --from=", Rfc3339(to), " --to=", Rfc3339(from)));
  EXPECT_EQ(backwards.exit_code, 3) << backwards.output;
  EXPECT_THAT(backwards.output, HasSubstr("end_time"));
}

}  // namespace
}  // namespace coop::ctl

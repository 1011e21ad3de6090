// Integration: coopctl end to end against the whole platform in one process — coop-server with
// every role on a single gRPC port, under the demo policy, on the real broker: the seed is
// published with each publisher's key, then read back through every view (tables, JSON, filters,
// as-of, a rebuild), a subscription and a replay; health reports each service. Also: the
// messages of bad views command lines, and coop-server's refusal of bad role flags.
#include <sys/types.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/ports.h"
#include "tests/testing/process.h"

namespace coop::ctl {
namespace {

using ::coop::testing::CommandResult;
using ::coop::testing::RunCommand;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

int CountLines(const std::string& text, const std::string& containing) {
  int count = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, containing)) ++count;
  }
  return count;
}

class CoopctlPlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    ASSERT_FALSE(bootstrap_.empty());
    topic_ = coop::testing::UniqueTopicName("coopctl-platform");
    const absl::Status created = coop::testing::CreateEventTopics(bootstrap_, topic_);
    ASSERT_TRUE(created.ok()) << created;
    dir_ = std::filesystem::temp_directory_path() / topic_;
    std::filesystem::create_directories(dir_);

    address_ = absl::StrCat("127.0.0.1:", coop::testing::FreeLoopbackPort());
    server_ = coop::testing::Spawn(
        {COOP_SERVER_BINARY, "--roles=publisher,stream,views", absl::StrCat("--listen=", address_),
         "--metrics_listen=", absl::StrCat("--bootstrap_servers=", bootstrap_),
         absl::StrCat("--events_topic=", topic_),
         absl::StrCat("--dead_letter_topic=", topic_, ".dlq"),
         absl::StrCat("--instance_id=", topic_),
         absl::StrCat("--sqlite_dir=", (dir_ / "views").string()), "--settle_delay=1s",
         absl::StrCat("--policy=", COOP_DEMO_DIR, "/policy.json"), "--insecure_plaintext",
         "--anonymous_principal=local-dev"});
    ASSERT_GT(server_, 0);
    auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(60))))
        << "coop-server did not start";
  }

  void TearDown() override {
    if (server_ > 0) {
      kill(server_, SIGTERM);
      EXPECT_EQ(coop::testing::WaitExit(server_), 0) << "coop-server did not stop cleanly";
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // coopctl with every service at the one address, as the anonymous local-dev principal.
  CommandResult Coopctl(const std::string& arguments) {
    return RunCommand(absl::StrCat(COOPCTL_BINARY, " --publisher=", address_, " --views=", address_,
                                   " --stream=", address_, " ", arguments));
  }

  // Publishes deploy/seed, each file with its publisher's demo key; returns the min_position
  // cursor of each file.
  std::vector<std::string> PublishSeed() {
    std::vector<std::string> cursors;
    for (const auto& entry : std::filesystem::directory_iterator(COOP_SEED_DIR)) {
      const CommandResult published = Coopctl(absl::StrCat("--token_file=", COOP_DEMO_DIR, "/keys/",
                                                           entry.path().stem().string(),
                                                           ".key publish ", entry.path().string()));
      EXPECT_EQ(published.exit_code, 0) << published.output;
      const size_t at = published.output.find("min_position: ");
      EXPECT_NE(at, std::string::npos) << published.output;
      if (at == std::string::npos) continue;
      const size_t from = at + strlen("min_position: ");
      cursors.push_back(published.output.substr(from, published.output.find('\n', from) - from));
    }
    return cursors;
  }

  std::string bootstrap_, topic_, address_;
  std::filesystem::path dir_;
  pid_t server_ = -1;
};

TEST_F(CoopctlPlatformTest, SeedGoesThroughPublishViewsSubscribeAndReplay) {
  const absl::Time before = absl::Now() - absl::Seconds(1);
  const std::vector<std::string> cursors = PublishSeed();
  ASSERT_EQ(cursors.size(), 5u);
  // Read your writes: the views hold each file's events once they answer with its cursor.
  for (const std::string& cursor : cursors) {
    const CommandResult waited =
        Coopctl(absl::StrCat("views timeline --limit=1 --min_position=", cursor));
    ASSERT_EQ(waited.exit_code, 0) << waited.output;
  }

  const CommandResult agreements = Coopctl("views agreements");
  ASSERT_EQ(agreements.exit_code, 0) << agreements.output;
  EXPECT_THAT(agreements.output,
              AllOf(HasSubstr("AGREEMENT"), HasSubstr("ru-mos-kz-19-memorandum-2025  memorandum"),
                    HasSubstr("selyatino-hub-2024"), HasSubstr("almaty-agrohub-2025"),
                    HasSubstr("Правительство Московской области"), HasSubstr("3 agreements")));
  const CommandResult json = Coopctl("--json views agreements --region=KZ-19");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(CountLines(json.output, "\"agreement_id\":"), 2) << json.output;

  const CommandResult hub = Coopctl("views hub selyatino");
  ASSERT_EQ(hub.exit_code, 0) << hub.output;
  EXPECT_THAT(hub.output, AllOf(HasSubstr("ТЛЦ «Селятино»"), HasSubstr("14,000,000,000 RUB"),
                                HasSubstr("milestones"), HasSubstr("planned")));
  const CommandResult planned = Coopctl("views hubs --status=planned");
  ASSERT_EQ(planned.exit_code, 0) << planned.output;
  EXPECT_THAT(planned.output,
              AllOf(HasSubstr("selyatino"), HasSubstr("1 hubs"), Not(HasSubstr("alatau-hub"))));

  const CommandResult trade = Coopctl("views trade --direction=export --hs_code_prefix=33");
  ASSERT_EQ(trade.exit_code, 0) << trade.output;
  EXPECT_THAT(trade.output, AllOf(HasSubstr("HS 33 косметика"), HasSubstr("1 trade rows")));
  const CommandResult region = Coopctl("views region RU-MOS");
  ASSERT_EQ(region.exit_code, 0) << region.output;
  EXPECT_THAT(region.output, AllOf(HasSubstr("selyatino"), HasSubstr("esipovo")));
  const CommandResult timeline = Coopctl("views timeline --limit=5");
  ASSERT_EQ(timeline.exit_code, 0) << timeline.output;
  EXPECT_THAT(timeline.output, HasSubstr("5 events (--limit reached)"));
  const CommandResult whole = Coopctl("views timeline --types=coop.v1.TradeUpdate");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_THAT(whole.output, HasSubstr("\n7 events\n"));

  // As of an instant before the seed: nothing had been recorded.
  const CommandResult as_of = Coopctl(absl::StrCat("views agreements --as_of=", Rfc3339(before)));
  ASSERT_EQ(as_of.exit_code, 0) << as_of.output;
  EXPECT_THAT(as_of.output, HasSubstr("0 agreements"));

  // The subscription from the start and the replay of the range see all 27 events.
  const CommandResult subscribed = Coopctl("--json subscribe --start=earliest --count=27");
  ASSERT_EQ(subscribed.exit_code, 0) << subscribed.output;
  EXPECT_EQ(CountLines(subscribed.output, "\"event\":"), 27);
  absl::SleepFor(absl::Seconds(2));  // The replay's end must be older than the settle delay.
  const CommandResult replayed = Coopctl(absl::StrCat(
      "replay --from=", Rfc3339(before), " --to=", Rfc3339(absl::Now() - absl::Seconds(1))));
  ASSERT_EQ(replayed.exit_code, 0) << replayed.output;
  EXPECT_EQ(CountLines(replayed.output, "\"record_value\":"), 27);
  EXPECT_THAT(replayed.output, HasSubstr("{\"summary\":{\"count\":27,"));

  // A rebuild reads the log again into a new generation, which then serves the same views.
  const CommandResult rebuilt = Coopctl("views rebuild --wait");
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.output;
  EXPECT_THAT(rebuilt.output, AllOf(HasSubstr("GENERATION"), HasSubstr("serving")));
  const CommandResult again = Coopctl("views agreements");
  EXPECT_THAT(again.output, HasSubstr("3 agreements"));
  const CommandResult status = Coopctl("views rebuild-status 2");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_THAT(status.output, HasSubstr("serving"));
}

TEST_F(CoopctlPlatformTest, HealthReportsEachServiceOfTheOnePort) {
  const CommandResult health = Coopctl(
      absl::StrCat("--bootstrap_servers=", bootstrap_, " --events_topic=", topic_, " health"));
  ASSERT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, AllOf(HasSubstr("coop.v1.Publisher"), HasSubstr("coop.v1.Views"),
                                   HasSubstr("coop.v1.Subscriptions"),
                                   HasSubstr(absl::StrCat(topic_, ": 6 partitions"))));
  EXPECT_EQ(CountLines(health.output, "SERVING"), 4) << health.output;

  // Nothing listens there: unreachable, exit 1 naming it.
  const std::string nowhere = absl::StrCat("127.0.0.1:", coop::testing::FreeLoopbackPort());
  const CommandResult down = RunCommand(
      absl::StrCat(COOPCTL_BINARY, " --timeout=2s --check=views --views=", nowhere, " health"));
  EXPECT_EQ(down.exit_code, 1) << down.output;
  EXPECT_THAT(down.output, AllOf(HasSubstr("UNREACHABLE"), HasSubstr("not healthy: views")));
}

TEST_F(CoopctlPlatformTest, BadViewsCommandLinesAreUsageErrorsNamingTheFlag) {
  const CommandResult status = Coopctl("views agreements --status=bogus");
  EXPECT_EQ(status.exit_code, 2) << status.output;
  EXPECT_THAT(status.output, AllOf(HasSubstr("--status: 'bogus' is not one of"),
                                   HasSubstr("signed"), HasSubstr("terminated")));
  const CommandResult flag = Coopctl("views hubs --hub_id=selyatino");
  EXPECT_EQ(flag.exit_code, 2) << flag.output;
  EXPECT_THAT(flag.output, HasSubstr("--hub_id: not a flag of 'views hubs'"));
  const CommandResult as_of = Coopctl("views timeline --as_of=2025-01-01T00:00:00Z");
  EXPECT_EQ(as_of.exit_code, 2) << as_of.output;
  EXPECT_THAT(as_of.output, HasSubstr("--as_of: not a flag of 'views timeline'"));
  const CommandResult time = Coopctl("views agreements --as_of=yesterday");
  EXPECT_EQ(time.exit_code, 2) << time.output;
  EXPECT_THAT(time.output, HasSubstr("--as_of: 'yesterday' is not an RFC 3339 time"));
  const CommandResult view = Coopctl("views treaties");
  EXPECT_EQ(view.exit_code, 2) << view.output;
  EXPECT_THAT(view.output, HasSubstr("unknown view 'treaties'"));
  const CommandResult id = Coopctl("views hub");
  EXPECT_EQ(id.exit_code, 2) << id.output;
  EXPECT_THAT(id.output, HasSubstr("views hub: give exactly one id"));
  // A well-formed query of an id the views do not know is the service's NOT_FOUND: exit 1.
  const CommandResult missing = Coopctl("views hub no-such-hub");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("NOT_FOUND"));
}

TEST_F(CoopctlPlatformTest, ASecondServerOnThePortInUseFailsToStart) {
  // gRPC would share the port (SO_REUSEPORT) and split the calls between two processes.
  const CommandResult second = RunCommand(absl::StrCat(
      COOP_SERVER_BINARY, " --roles=stream --listen=", address_,
      " --metrics_listen=", " --bootstrap_servers=", bootstrap_, " --events_topic=", topic_,
      " --policy=", COOP_DEMO_DIR, "/policy.json --insecure_plaintext"));
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr(absl::StrCat("cannot listen on ", address_)));
}

// coop-server refuses bad role choices before it connects to anything.
TEST(CoopServerFlagsTest, UnknownRoleAndFlagsOfRolesNotHostedAreRefused) {
  const CommandResult unknown =
      RunCommand(absl::StrCat(COOP_SERVER_BINARY, " --roles=publisher,auditor"));
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_THAT(unknown.output, HasSubstr("--roles: 'auditor' is not a role"));
  const CommandResult foreign =
      RunCommand(absl::StrCat(COOP_SERVER_BINARY, " --roles=publisher --sqlite_dir=/tmp/views"));
  EXPECT_EQ(foreign.exit_code, 1) << foreign.output;
  EXPECT_THAT(foreign.output,
              HasSubstr("--sqlite_dir: a flag of the views role, which --roles=publisher does "
                        "not host"));
  const CommandResult twice = RunCommand(
      absl::StrCat(COOP_SERVER_BINARY, " --kafka_property=linger.ms=3 --kafka_property=acks=all"));
  EXPECT_EQ(twice.exit_code, 1) << twice.output;
  EXPECT_THAT(twice.output, HasSubstr("--kafka_property: given 2 times"));
  // From a flag file too.
  const std::string flagfile =
      (std::filesystem::temp_directory_path() / coop::testing::UniqueTopicName("flags")).string();
  std::ofstream(flagfile) << "--roles=stream\n--postgres_url=postgresql://nowhere/coop\n";
  const CommandResult from_file =
      RunCommand(absl::StrCat(COOP_SERVER_BINARY, " --flagfile=", flagfile));
  std::filesystem::remove(flagfile);
  EXPECT_EQ(from_file.exit_code, 1) << from_file.output;
  EXPECT_THAT(from_file.output, HasSubstr("--postgres_url: a flag of the views role"));
  const CommandResult fixed = RunCommand(absl::StrCat(COOP_PUBLISHER_BINARY, " --roles=views"));
  EXPECT_EQ(fixed.exit_code, 1) << fixed.output;
  EXPECT_THAT(fixed.output, HasSubstr("this program hosts the publisher role only"));
}

}  // namespace
}  // namespace coop::ctl

// kill -9 of the views consumer at random points while events flow, restart, and the views equal
// a projection of the same log from scratch: nothing applied twice, nothing lost.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/consumers/views/runtime/runtime_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/process.h"
#include "tools/bench/view_events.h"

namespace coop::views::testing {
namespace {

using ::coop::testing::Spawn;
using ::coop::testing::WaitExit;

TEST(ViewCrashTest, KilledDuringBatchesAndRestartedTheViewsEqualAFreshProjection) {
  const std::string bootstrap =
      coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
  if (bootstrap.empty()) return;
  absl::StatusOr<TestTopics> topics =
      CreateTestTopics(bootstrap, coop::testing::UniqueTopicName("views-crash"));
  ASSERT_TRUE(topics.ok()) << topics.status();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / coop::testing::UniqueTopicName("coop-crash");
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "views.db").string();

  bench::ViewEventsOptions generate;
  generate.count = 6000;
  generate.seed = 11;
  generate.duplicate_percent = 3;
  generate.correction_percent = 3;
  generate.hubs = 20;
  generate.trade_categories = 5;
  const std::vector<coop::v1::Event> events = bench::GenerateViewEvents(generate);

  // Events keep arriving while the consumer is killed and restarted.
  std::atomic<bool> produced{false};
  absl::Status produce_status;
  std::thread producer([&] {
    for (size_t i = 0; i < events.size() && produce_status.ok(); i += 300) {
      const std::vector<coop::v1::Event> chunk(
          events.begin() + static_cast<long>(i),
          events.begin() + static_cast<long>(std::min(events.size(), i + 300)));
      produce_status = ProduceEvents(topics->kafka, topics->events, chunk).status();
      absl::SleepFor(absl::Milliseconds(300));
    }
    produced = true;
  });

  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE(absl::StrCat("random seed ", seed));
  const std::vector<std::string> args = {COOP_TESTEE,          bootstrap, topics->events,
                                         topics->dead_letters, db,        "40"};
  int kills = 0;
  std::vector<int64_t> progress;  // Records applied when each kill landed.
  while (kills < 8 || !produced.load()) {
    const pid_t pid = Spawn(args);
    ASSERT_GT(pid, 0);
    // Start-up takes a few hundred milliseconds; kill somewhere after it, mid-stream.
    absl::SleepFor(absl::Milliseconds(300 + rng() % 900));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    EXPECT_EQ(WaitExit(pid), 128 + SIGKILL) << "the consumer ended before it was killed";
    ++kills;
    absl::StatusOr<std::unique_ptr<sql::Connection>> peek = sql::OpenSqlite(db);
    ASSERT_TRUE(peek.ok()) << peek.status();
    absl::StatusOr<sql::Value> applied =
        QueryValue(**peek, "SELECT COALESCE(SUM(next_offset), 0) FROM positions");
    progress.push_back(applied.ok() ? sql::AsInt(*applied) : 0);
  }
  producer.join();
  ASSERT_TRUE(produce_status.ok()) << produce_status;

  std::vector<std::string> finish = args;
  finish.push_back("until-end");
  ASSERT_EQ(WaitExit(Spawn(finish)), 0);

  ASSERT_TRUE(
      ConsumeToEnd(TestConsumerOptions(*topics), *sql::OpenSqlite((dir / "fresh.db").string()))
          .ok());
  std::unique_ptr<sql::Connection> crashed = *sql::OpenSqlite(db);
  std::unique_ptr<sql::Connection> fresh = *sql::OpenSqlite((dir / "fresh.db").string());
  // Both read the whole log first: a difference below is then about what they applied.
  const std::string positions = "SELECT kafka_partition, next_offset FROM positions ORDER BY 1";
  absl::StatusOr<std::vector<sql::Row>> crashed_positions = crashed->Query(positions);
  absl::StatusOr<std::vector<sql::Row>> fresh_positions = fresh->Query(positions);
  ASSERT_TRUE(crashed_positions.ok() && fresh_positions.ok());
  ASSERT_EQ(*crashed_positions, *fresh_positions) << "the two projections stopped at different "
                                                     "positions";
  absl::StatusOr<std::string> a = DumpViews(*crashed);
  absl::StatusOr<std::string> b = DumpViews(*fresh);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  if (*a != *b) {
    for (const char* table : {"events", "agreements", "hubs", "hub_milestones", "trade_rows"}) {
      const std::string count = absl::StrCat("SELECT COUNT(*) FROM ", table);
      ADD_FAILURE() << table << ": crashed " << sql::AsInt(*QueryValue(*crashed, count))
                    << " rows, fresh " << sql::AsInt(*QueryValue(*fresh, count));
    }
    // Name the first line that differs (the dumps hold one row per line).
    const std::vector<std::string> left = absl::StrSplit(*a, '\n');
    const std::vector<std::string> right = absl::StrSplit(*b, '\n');
    size_t line = 0;
    while (line < left.size() && line < right.size() && left[line] == right[line]) ++line;
    ADD_FAILURE() << "after " << kills
                  << " kills the views differ from a fresh projection of the same log; first "
                     "difference at line "
                  << line << ":\n  crashed: " << (line < left.size() ? left[line] : "(end)")
                  << "\n  fresh:   " << (line < right.size() ? right[line] : "(end)");
  }
  EXPECT_GT(sql::AsInt(*QueryValue(*crashed, "SELECT COUNT(*) FROM trade_rows")), 0);
  // The kills landed while the consumer was working through the log, not before or after it.
  const int64_t total = sql::AsInt(*QueryValue(*crashed, "SELECT SUM(next_offset) FROM positions"));
  int mid_stream = 0;
  for (size_t i = 1; i < progress.size(); ++i) {
    if (progress[i] > progress[i - 1] && progress[i] < total) ++mid_stream;
  }
  EXPECT_GE(mid_stream, 3) << "progress at each kill: " << absl::StrJoin(progress, ", ") << " of "
                           << total;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace coop::views::testing

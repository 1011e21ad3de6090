// The views engine against the real test broker and SQLite: read-your-writes waits, rebuild
// beside the serving generation while queries run, and as-of stores.
#include "consumers/views/views_engine.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cursor/cursor_token.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "coop/v1/views.pb.h"
#include "gtest/gtest.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/consumers/views/runtime/runtime_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/seed_events.h"
#include "tools/bench/view_events.h"

namespace coop::views::testing {
namespace {

class ViewsEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bootstrap =
        coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    if (bootstrap.empty()) GTEST_FAIL() << "no broker; the failure above says why";
    absl::StatusOr<TestTopics> topics =
        CreateTestTopics(bootstrap, coop::testing::UniqueTopicName("views-engine"));
    ASSERT_TRUE(topics.ok()) << topics.status();
    topics_ = *topics;
    dir_ = std::filesystem::temp_directory_path() /
           coop::testing::UniqueTopicName("coop-views-engine");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    engine_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void StartEngine() {
    ViewsEngineOptions options;
    options.sqlite_dir = (dir_ / "views").string();
    options.consumer = TestConsumerOptions(topics_);
    options.settle_delay = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<ViewsEngine>> engine = ViewsEngine::Start(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  // The cursor of the end of the log now.
  std::string EndCursor() {
    std::unique_ptr<kafka::Consumer> reader =
        *kafka::Consumer::Create(topics_.kafka, kafka::ConsumerOptions{});
    return cursor::EncodeCursor(cursor::Cursor{
        engine_->log(), *reader->EndOffsets(topics_.events, kTestPartitions, absl::Seconds(30))});
  }

  absl::StatusOr<int64_t> Count(const std::string& sql, absl::string_view min_position = "",
                                std::optional<absl::Time> as_of = std::nullopt,
                                absl::Duration wait = absl::Seconds(30)) {
    int64_t count = -1;
    absl::Status status =
        engine_->Read(min_position, absl::Now() + wait, as_of, [&](sql::Connection& db) {
          absl::StatusOr<sql::Value> value = QueryValue(db, sql);
          if (!value.ok()) return value.status();
          count = sql::AsInt(*value);
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
    return count;
  }

  TestTopics topics_;
  std::filesystem::path dir_;
  std::unique_ptr<ViewsEngine> engine_;
};

TEST_F(ViewsEngineTest, MinPositionWaitsForTheEventAndTimesOutAtTheDeadline) {
  StartEngine();
  const std::vector<coop::v1::Event> seeds = coop::testing::SeedEvents();
  absl::StatusOr<std::vector<kafka::RecordPosition>> positions =
      ProduceEvents(topics_.kafka, topics_.events, seeds);
  ASSERT_TRUE(positions.ok()) << positions.status();

  // The acknowledgement token of the last event: the read waits until it is applied.
  const kafka::RecordPosition& last = positions->back();
  const std::string token = cursor::EncodePosition(engine_->log(), last.partition, last.offset);
  absl::StatusOr<int64_t> seen = Count(
      absl::StrCat("SELECT COUNT(*) FROM events WHERE id = '", seeds.back().id(), "'"), token);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, 1);

  // A position beyond the log fails at the deadline, not before and not much after.
  const std::string beyond =
      cursor::EncodePosition(engine_->log(), last.partition, last.offset + 1);
  const absl::Time start = absl::Now();
  absl::StatusOr<int64_t> late =
      Count("SELECT COUNT(*) FROM events", beyond, std::nullopt, absl::Milliseconds(400));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();
  EXPECT_GE(took, absl::Milliseconds(400));
  EXPECT_LT(took, absl::Seconds(3));

  // A read waiting for that position returns once the next event of the partition is applied.
  std::atomic<bool> answered{false};
  absl::StatusOr<int64_t> waited;
  std::thread reader([&] {
    waited = Count("SELECT COUNT(*) FROM events", beyond, std::nullopt, absl::Seconds(30));
    answered = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(answered.load()) << "answered before the event existed";
  // The same cultural event again under a new id: same subject, so the same partition.
  coop::v1::Event next = seeds.back();
  next.set_id(next.id() + "-again");
  ASSERT_TRUE(ProduceEvents(topics_.kafka, topics_.events, {next}).ok());
  reader.join();
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(*waited, static_cast<int64_t>(seeds.size()) + 1);
  EXPECT_EQ(engine_->serving_stats().dead_lettered.load(), 0);

  // Tokens that are not cursors of this log are refused.
  EXPECT_EQ(Count("SELECT 1", "not a token").status().code(), absl::StatusCode::kInvalidArgument);
  const std::string other_log =
      cursor::EncodePosition(cursor::LogId{engine_->log().cluster_id, "another.topic"}, 0, 0);
  EXPECT_EQ(Count("SELECT 1", other_log).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ViewsEngineTest, RebuildRunsBesideTheServingGenerationAndTakesOver) {
  bench::ViewEventsOptions generate;
  generate.count = 4000;
  generate.seed = 3;
  const std::vector<coop::v1::Event> events = bench::GenerateViewEvents(generate);
  ASSERT_TRUE(ProduceEvents(topics_.kafka, topics_.events, events).ok());
  StartEngine();
  const std::string end = EndCursor();
  absl::StatusOr<int64_t> applied = Count("SELECT COUNT(*) FROM events", end);
  ASSERT_TRUE(applied.ok()) << applied.status();
  const std::string views_sql =
      "SELECT (SELECT COUNT(*) FROM trade_rows) * 1000000 + (SELECT COUNT(*) FROM hubs) * 1000 + "
      "(SELECT COUNT(*) FROM agreements)";
  const int64_t before = *Count(views_sql);

  absl::StatusOr<coop::v1::RebuildStatus> started = engine_->StartRebuild();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->generation(), 2);
  EXPECT_EQ(started->state(), coop::v1::REBUILD_STATE_RUNNING);
  EXPECT_EQ(started->target_count(),
            sql::AsInt(*QueryValue(**sql::OpenSqlite((dir_ / "views/views-g1.db").string()),
                                   "SELECT SUM(next_offset) FROM positions")));
  EXPECT_EQ(engine_->StartRebuild().status().code(), absl::StatusCode::kFailedPrecondition);

  // Queries answer, with every event, all through the rebuild and the switch.
  int reads = 0;
  absl::StatusOr<coop::v1::RebuildStatus> status;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  do {
    absl::StatusOr<int64_t> count = Count("SELECT COUNT(*) FROM events");
    ASSERT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(*count, *applied) << "read " << reads;
    ++reads;
    status = engine_->GetRebuild(2);
    ASSERT_TRUE(status.ok()) << status.status();
  } while (status->state() == coop::v1::REBUILD_STATE_RUNNING && absl::Now() < deadline);
  EXPECT_EQ(status->state(), coop::v1::REBUILD_STATE_SERVING) << status->error_message();
  EXPECT_EQ(status->applied_count(), started->target_count());
  EXPECT_TRUE(status->has_end_time());
  EXPECT_EQ(engine_->serving_generation(), 2);
  EXPECT_EQ(engine_->GetRebuild(1)->state(), coop::v1::REBUILD_STATE_RETIRED);
  EXPECT_EQ(engine_->GetRebuild(0)->generation(), 2);
  EXPECT_EQ(engine_->GetRebuild(9).status().code(), absl::StatusCode::kNotFound);
  EXPECT_GT(reads, 1);

  EXPECT_EQ(*Count(views_sql), before);
  EXPECT_EQ(*Count("SELECT COUNT(*) FROM events"), *applied);
  // The retired generation's file goes once no query holds it.
  const absl::Time gone_by = absl::Now() + absl::Seconds(10);
  while (std::filesystem::exists(dir_ / "views/views-g1.db") && absl::Now() < gone_by) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "views/views-g1.db"));

  // The new generation is live: later events reach it, and records it cannot apply go to the
  // dead-letter topic again.
  coop::v1::Event later = coop::testing::SeedEvents()[0];
  kafka::KafkaRecord poison = *events::EncodeRecord(later);
  poison.value = "not an event";
  ASSERT_TRUE(ProduceRecords(topics_.kafka, topics_.events, {poison}).ok());
  ASSERT_TRUE(ProduceEvents(topics_.kafka, topics_.events, {later}).ok());
  EXPECT_EQ(*Count(absl::StrCat("SELECT COUNT(*) FROM events WHERE id = '", later.id(), "'"),
                   EndCursor()),
            1);
  EXPECT_EQ(engine_->serving_stats().dead_lettered.load(), 1);
  std::unique_ptr<kafka::Consumer> dead =
      *kafka::Consumer::Create(topics_.kafka, kafka::ConsumerOptions{});
  absl::StatusOr<std::map<int32_t, int64_t>> dead_ends =
      dead->EndOffsets(topics_.dead_letters, kTestPartitions, absl::Seconds(30));
  ASSERT_TRUE(dead_ends.ok()) << dead_ends.status();
  int64_t dead_letters = 0;
  for (const auto& [partition, end] : *dead_ends) dead_letters += end;
  EXPECT_EQ(dead_letters, 1) << "the poison record is in the dead-letter topic";
}

TEST_F(ViewsEngineTest, AsOfAnswersFromTheEventsRecordedUpToThatInstant) {
  const std::vector<coop::v1::Event> seeds = coop::testing::SeedEvents();
  const absl::Time first = absl::FromUnixSeconds(seeds[0].recorded_time().seconds());
  std::vector<coop::v1::Event> events = seeds;
  // An amendment of the memorandum recorded a day after the seeds.
  events.push_back(Amendment("mosreg-memorandum-in-force", "ru-mos-kz-19-memorandum-2025",
                             coop::v1::AGREEMENT_STATUS_IN_FORCE, first + absl::Hours(24)));
  ASSERT_TRUE(ProduceEvents(topics_.kafka, topics_.events, events).ok());
  StartEngine();
  ASSERT_TRUE(Count("SELECT COUNT(*) FROM events", EndCursor()).ok());

  const std::string memorandum_status =
      "SELECT status FROM agreements WHERE agreement_id = 'ru-mos-kz-19-memorandum-2025'";
  // Before anything: empty views.
  EXPECT_EQ(*Count("SELECT COUNT(*) FROM events", "", first - absl::Seconds(1)), 0);
  // After the first three seeds (one minute apart).
  EXPECT_EQ(*Count("SELECT COUNT(*) FROM events", "", first + absl::Minutes(2)), 3);
  // After all the seeds, before the amendment: the memorandum is signed.
  const absl::Time all_seeds = first + absl::Minutes(static_cast<int64_t>(seeds.size()));
  EXPECT_EQ(*Count("SELECT COUNT(*) FROM events", "", all_seeds),
            static_cast<int64_t>(seeds.size()));
  EXPECT_EQ(*Count(memorandum_status, "", all_seeds), coop::v1::AGREEMENT_STATUS_SIGNED);
  // After the amendment, and live: in force.
  EXPECT_EQ(*Count(memorandum_status, "", first + absl::Hours(48)),
            coop::v1::AGREEMENT_STATUS_IN_FORCE);
  EXPECT_EQ(*Count(memorandum_status), coop::v1::AGREEMENT_STATUS_IN_FORCE);
  // A second read of a settled instant is answered from the cached store, with equal results.
  EXPECT_EQ(*Count(memorandum_status, "", all_seeds), coop::v1::AGREEMENT_STATUS_SIGNED);
  // The future is refused.
  EXPECT_EQ(Count("SELECT 1", "", absl::Now() + absl::Hours(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coop::views::testing

// Integration: the projector on a real PostgreSQL server (COOP_TEST_POSTGRES_URL), each test in a
// schema of its own that is dropped at the end: the seed projection, duplicates, corrections,
// the compare-and-set of positions between two instances, and table-for-table equality with
// SQLite.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "consumers/views/projector.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/views.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/testing/postgres_env.h"
#include "tests/testing/seed_events.h"

namespace coop::views {
namespace {

using ::coop::testing::kAkimatSource;
using ::coop::testing::SeedEvents;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::coop::views::testing::AdvanceOver;
using ::coop::views::testing::Amendment;
using ::coop::views::testing::ApplyAsOneBatch;
using ::coop::views::testing::CorrectedSelyatinoPlan;
using ::coop::views::testing::Correction;
using ::coop::views::testing::Day;
using ::coop::views::testing::DumpTables;
using ::coop::views::testing::EverythingLog;
using ::coop::views::testing::kMemorandumId;
using ::coop::views::testing::kPartitionCount;
using ::coop::views::testing::kSelyatinoPlanId;
using ::coop::views::testing::kTopic;
using ::coop::views::testing::LoadDoc;
using ::coop::views::testing::OpenTempSqlite;
using ::coop::views::testing::QueryValue;
using ::coop::views::testing::RemoveFiles;
using ::coop::views::testing::SeedEvent;
using ::coop::views::testing::SelyatinoFollowUps;
using ::coop::views::testing::SelyatinoPlanCorrection;
using ::coop::views::testing::SetUpViews;
using ::coop::views::testing::TestLog;

namespace v1 = ::coop::v1;

const std::set<std::string> kNotViews = {"events", "positions"};

class ProjectorPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = coop::testing::PostgresUrlOrFail();
    if (url_.empty()) GTEST_FAIL() << "no PostgreSQL server to test against";
    schema_ = coop::testing::UniqueSchemaName();
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
    const absl::Status status = SetUpViews(*db_);
    ASSERT_TRUE(status.ok()) << status;
    projector_ = std::make_unique<Projector>(*db_);
  }

  void TearDown() override {
    projector_.reset();
    db_.reset();
    RemoveFiles(sqlite_paths_);
    if (schema_.empty()) return;
    absl::StatusOr<std::unique_ptr<sql::Connection>> admin = sql::OpenPostgres(url_, "");
    ASSERT_TRUE(admin.ok()) << admin.status();
    const absl::Status dropped =
        (*admin)->ExecuteScript(absl::StrCat("DROP SCHEMA ", schema_, " CASCADE"));
    EXPECT_TRUE(dropped.ok()) << dropped;
  }

  // Another connection to this test's schema.
  std::unique_ptr<sql::Connection> Connect() {
    absl::StatusOr<std::unique_ptr<sql::Connection>> db = sql::OpenPostgres(url_, schema_);
    if (!db.ok()) {
      ADD_FAILURE() << db.status();
      return nullptr;
    }
    return std::move(*db);
  }

  BatchResult Apply(const std::vector<v1::Event>& events) {
    absl::StatusOr<BatchResult> result = ApplyAsOneBatch(*projector_, log_.Append(events));
    if (!result.ok()) {
      ADD_FAILURE() << result.status();
      return {};
    }
    return *result;
  }

  std::string Dump(const std::set<std::string>& excluded = {}) {
    absl::StatusOr<std::string> dump = DumpTables(*db_, excluded);
    if (!dump.ok()) {
      ADD_FAILURE() << dump.status();
      return "";
    }
    return *dump;
  }

  sql::Row Row(const char* sql, const sql::Value& key) {
    absl::StatusOr<std::vector<sql::Row>> rows = db_->Query(sql, {key});
    if (!rows.ok() || rows->size() != 1) {
      ADD_FAILURE() << (rows.ok() ? absl::StrCat(rows->size(), " rows") : rows.status().ToString())
                    << " for " << sql;
      return sql::Row(64);
    }
    return (*rows)[0];
  }

  int64_t Count(const char* table) {
    absl::StatusOr<sql::Value> count =
        QueryValue(*db_, absl::StrCat("SELECT COUNT(*) FROM ", table));
    if (!count.ok()) ADD_FAILURE() << count.status();
    return count.ok() ? sql::AsInt(*count) : -1;
  }

  std::string url_;
  std::string schema_;
  std::vector<std::string> sqlite_paths_;
  std::unique_ptr<sql::Connection> db_;
  std::unique_ptr<Projector> projector_;
  TestLog log_;
};

TEST_F(ProjectorPostgresTest, SeedFillsEveryView) {
  const BatchResult result = Apply(SeedEvents());
  EXPECT_EQ(result.applied, static_cast<int64_t>(SeedEvents().size()));
  EXPECT_EQ(Count("events"), static_cast<int64_t>(SeedEvents().size()));
  EXPECT_EQ(Count("agreements"), 3);
  EXPECT_EQ(Count("hubs"), 3);
  EXPECT_EQ(Count("trade_rows"), 7);
  EXPECT_EQ(Count("region_facts"), 9);
  EXPECT_EQ(Count("sites"), 1);
  EXPECT_EQ(Count("incentives"), 1);
  EXPECT_EQ(Count("tourism_flows"), 2);
  EXPECT_EQ(Count("regions"), 4);

  const sql::Row memo =
      Row("SELECT form, laterality, status, signed_on, title, doc FROM agreements WHERE "
          "agreement_id = $1",
          "ru-mos-kz-19-memorandum-2025");
  EXPECT_EQ(sql::AsInt(memo[0]), v1::AGREEMENT_FORM_MEMORANDUM);
  EXPECT_EQ(sql::AsInt(memo[1]), v1::LATERALITY_BILATERAL);
  EXPECT_EQ(sql::AsInt(memo[2]), v1::AGREEMENT_STATUS_SIGNED);
  EXPECT_EQ(sql::AsString(memo[3]), "2025-09-10");
  EXPECT_EQ(sql::AsString(memo[4]),
            "Меморандум о развитии сотрудничества между Московской и Алматинской областями");
  v1::Agreement agreement;
  ASSERT_TRUE(agreement.ParseFromString(sql::AsString(memo[5])));
  ASSERT_EQ(agreement.participants_size(), 3);
  EXPECT_EQ(agreement.participants(1).person().name(), "Марат Султангазиев");

  const sql::Row hub =
      Row("SELECT baseline_completion, planned_completion, slippage_days, investment_units, jobs, "
          "status FROM hubs WHERE hub_id = $1",
          "selyatino");
  EXPECT_EQ(sql::AsString(hub[0]), "2026-04");
  EXPECT_EQ(sql::AsString(hub[1]), "2026-04");
  EXPECT_EQ(sql::AsInt(hub[2]), 0);
  EXPECT_EQ(sql::AsInt(hub[3]), 14'000'000'000);
  EXPECT_EQ(sql::AsInt(hub[4]), 1'500);
  EXPECT_EQ(sql::AsInt(hub[5]), v1::HUB_STATUS_PLANNED);

  const sql::Row trade =
      Row("SELECT growth_ratio, growth_qualifier, values_json FROM trade_rows WHERE direction = "
          "$1",
          int64_t{v1::TRADE_DIRECTION_TURNOVER});
  EXPECT_EQ(sql::AsDouble(trade[0]), 1.8);
  EXPECT_EQ(sql::AsInt(trade[1]), v1::QUALIFIER_MORE_THAN);
  EXPECT_EQ(sql::AsString(trade[2]), "[]");

  const sql::Row alatau = Row("SELECT locality FROM hubs WHERE hub_id = $1", "alatau-hub");
  EXPECT_EQ(sql::AsString(alatau[0]), "Қонаев");
  const sql::Row timeline =
      Row("SELECT regions, party_ids FROM events WHERE id = $1", kMemorandumId);
  EXPECT_EQ(sql::AsString(timeline[0]), " KZ KZ-19 RU RU-MOS ");
  EXPECT_THAT(sql::AsString(timeline[1]), HasSubstr(" mosreg-government "));
}

TEST_F(ProjectorPostgresTest, RevisedPlanMovesPlannedDateAndKeepsBaseline) {
  Apply(SeedEvents());
  Apply(SelyatinoFollowUps());
  const sql::Row row =
      Row("SELECT status, baseline_completion, planned_completion, slippage_days, "
          "percent_complete FROM hubs WHERE hub_id = $1",
          "selyatino");
  EXPECT_EQ(sql::AsInt(row[0]), v1::HUB_STATUS_UNDER_CONSTRUCTION);
  EXPECT_EQ(sql::AsString(row[1]), "2026-04");
  EXPECT_EQ(sql::AsString(row[2]), "2026-06");
  EXPECT_EQ(sql::AsInt(row[3]), 61);
  EXPECT_EQ(sql::AsDouble(row[4]), 40);
}

TEST_F(ProjectorPostgresTest, ReappliedEventChangesNothingButThePosition) {
  Apply(SeedEvents());
  const std::string before = Dump({"positions"});
  const LogEvent again = log_.Append(SeedEvent(kMemorandumId));
  absl::StatusOr<BatchResult> result = ApplyAsOneBatch(*projector_, {again});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->applied, 0);
  EXPECT_EQ(result->duplicates, 1);
  EXPECT_EQ(Dump({"positions"}), before);
  EXPECT_EQ(projector_->LoadPositions().value().at(again.partition), again.offset + 1);
}

TEST_F(ProjectorPostgresTest, CorrectedMilestoneRefoldsTheHub) {
  Apply(SeedEvents());
  Apply(SelyatinoFollowUps());
  const BatchResult result = Apply({SelyatinoPlanCorrection()});
  EXPECT_EQ(result.corrections, 1);
  const sql::Row row =
      Row("SELECT jobs, baseline_completion, planned_completion, slippage_days FROM hubs WHERE "
          "hub_id = $1",
          "selyatino");
  EXPECT_EQ(sql::AsInt(row[0]), 1'600);
  EXPECT_EQ(sql::AsString(row[1]), "2026-05");
  EXPECT_EQ(sql::AsString(row[2]), "2026-06");
  EXPECT_EQ(sql::AsInt(row[3]), 30);
  v1::Hub hub;
  ASSERT_TRUE(LoadDoc(*db_, "SELECT doc FROM hubs WHERE hub_id = $1", "selyatino", hub).ok());
  ASSERT_TRUE(AddHubMilestones(*db_, hub).ok());
  EXPECT_EQ(hub.milestones_size(), 4);
  const sql::Row original =
      Row("SELECT corrected_by_id, effective FROM events WHERE id = $1", kSelyatinoPlanId);
  EXPECT_EQ(sql::AsString(original[0]), "mosreg-2026-03-selyatino-plan-correction");
  v1::Event effective;
  ASSERT_TRUE(effective.ParseFromString(sql::AsString(original[1])));
  EXPECT_EQ(effective.hub_milestone().jobs(), 1'600);
}

TEST_F(ProjectorPostgresTest, CorrectionFromAnotherSourceIsInTheTimelineOnly) {
  Apply(SeedEvents());
  const std::string before = Dump(kNotViews);
  const BatchResult result =
      Apply({Correction(kAkimatSource, "akimat-2025-10-foreign-correction", kSelyatinoPlanId,
                        CorrectedSelyatinoPlan(), Day(2025, 10, 5))});
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.corrections, 0);
  EXPECT_EQ(Dump(kNotViews), before);
}

TEST_F(ProjectorPostgresTest, BatchFromAMovedPositionIsAbortedAndChangesNothing) {
  Apply(SeedEvents());
  const std::string before = Dump();
  const std::vector<LogEvent> batch = log_.Append(
      {SelyatinoFollowUps()[0], Amendment("mosreg-2025-10-selyatino-in-force", "selyatino-hub-2024",
                                          v1::AGREEMENT_STATUS_IN_FORCE, Day(2025, 10, 1))});
  ASSERT_NE(batch[0].partition, batch[1].partition);
  std::map<int32_t, PartitionAdvance> advance =
      AdvanceOver(batch, projector_->LoadPositions().value());
  advance[batch[1].partition].from += 1;
  absl::StatusOr<BatchResult> result = projector_->ApplyBatch(batch, advance);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
  EXPECT_EQ(Dump(), before);
}

TEST_F(ProjectorPostgresTest, SecondInstanceApplyingTheSameBatchIsAborted) {
  std::unique_ptr<sql::Connection> other_db = Connect();
  ASSERT_NE(other_db, nullptr);
  Projector other(*other_db);
  const std::vector<LogEvent> seed = log_.Append(SeedEvents());
  // Both instances read the positions before either applies the batch.
  const std::map<int32_t, PartitionAdvance> advance =
      AdvanceOver(seed, projector_->LoadPositions().value());
  ASSERT_TRUE(projector_->ApplyBatch(seed, advance).ok());
  const std::string before = Dump();
  absl::StatusOr<BatchResult> result = other.ApplyBatch(seed, advance);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
  EXPECT_EQ(Dump(), before);
}

TEST_F(ProjectorPostgresTest, InitializeForAnotherClusterFailsPrecondition) {
  const absl::Status status = projector_->Initialize("another-cluster", kTopic, kPartitionCount);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

TEST_F(ProjectorPostgresTest, TablesEqualThoseOfSqliteForTheSameLog) {
  const std::vector<LogEvent> log_events = log_.Append(EverythingLog());
  absl::StatusOr<BatchResult> result = ApplyAsOneBatch(*projector_, log_events);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->corrections, 2);

  absl::StatusOr<std::unique_ptr<sql::Connection>> sqlite = OpenTempSqlite(sqlite_paths_);
  ASSERT_TRUE(sqlite.ok()) << sqlite.status();
  Projector sqlite_projector(**sqlite);
  ASSERT_TRUE(ApplyAsOneBatch(sqlite_projector, log_events).ok());
  absl::StatusOr<std::string> expected = DumpTables(**sqlite, {"schema_migrations"});
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(Dump({"schema_migrations"}), *expected);
}

}  // namespace
}  // namespace coop::views

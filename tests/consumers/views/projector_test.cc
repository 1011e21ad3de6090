// Unit: the projector folds the seed data set and follow-up events into the SQL views of a
// SQLite generation database (a temporary file per test), with exactly-once batches.
#include "consumers/views/projector.h"

#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/views.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/publisher/validation/event_validator.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/testing/seed_events.h"

namespace coop::views {
namespace {

using ::coop::testing::kAkimatSource;
using ::coop::testing::kMosregSource;
using ::coop::testing::SeedEvents;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using ::coop::views::testing::AdvanceOver;
using ::coop::views::testing::Amendment;
using ::coop::views::testing::ApplyAsOneBatch;
using ::coop::views::testing::ApplyOneByOne;
using ::coop::views::testing::CorrectedSelyatinoPlan;
using ::coop::views::testing::Correction;
using ::coop::views::testing::Day;
using ::coop::views::testing::DumpTables;
using ::coop::views::testing::EverythingLog;
using ::coop::views::testing::kClusterId;
using ::coop::views::testing::kMemorandumId;
using ::coop::views::testing::kPartitionCount;
using ::coop::views::testing::kSelyatinoAgreementId;
using ::coop::views::testing::kSelyatinoPlanId;
using ::coop::views::testing::kTopic;
using ::coop::views::testing::LoadDoc;
using ::coop::views::testing::OpenTempSqlite;
using ::coop::views::testing::PartitionOf;
using ::coop::views::testing::QueryValue;
using ::coop::views::testing::RecordedAt;
using ::coop::views::testing::RemoveFiles;
using ::coop::views::testing::SeedEvent;
using ::coop::views::testing::SelyatinoCompleted;
using ::coop::views::testing::SelyatinoFollowUps;
using ::coop::views::testing::SelyatinoPlanCorrection;
using ::coop::views::testing::TestLog;

namespace v1 = ::coop::v1;

constexpr char kSelectAgreement[] = "SELECT doc FROM agreements WHERE agreement_id = $1";
constexpr char kSelectHub[] = "SELECT doc FROM hubs WHERE hub_id = $1";
constexpr char kSelectEvent[] = "SELECT event FROM events WHERE id = $1";
constexpr char kSelectEffective[] = "SELECT effective FROM events WHERE id = $1";

// Tables that hold the views; the timeline (events) and positions change with every batch.
const std::set<std::string> kNotViews = {"events", "positions"};

int64_t Millis(absl::Time time) { return absl::ToUnixMillis(time); }

v1::PartialDate Date(int year, int month = 0, int day = 0) {
  v1::PartialDate date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

MATCHER_P3(IsDate, year, month, day, "") {
  return arg.year() == year && arg.month() == month && arg.day() == day;
}

// Serialized equality with a readable difference on failure.
MATCHER_P(EqualsProto, expected, "") {
  std::string difference;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << difference;
  return false;
}

class ProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTempDatabase();
    ASSERT_NE(db_, nullptr);
    projector_ = std::make_unique<Projector>(*db_);
  }

  void TearDown() override {
    projector_.reset();
    db_.reset();
    RemoveFiles(paths_);
  }

  // Another generation database in a temporary file, migrated and initialized.
  std::unique_ptr<sql::Connection> OpenTempDatabase() {
    absl::StatusOr<std::unique_ptr<sql::Connection>> db = OpenTempSqlite(paths_);
    if (!db.ok()) {
      ADD_FAILURE() << db.status();
      return nullptr;
    }
    return std::move(*db);
  }

  // Appends `events` to the log and applies them as one batch.
  BatchResult Apply(const std::vector<v1::Event>& events) {
    const std::vector<LogEvent> log_events = log_.Append(events);
    absl::StatusOr<BatchResult> result = ApplyAsOneBatch(*projector_, log_events);
    if (!result.ok()) {
      ADD_FAILURE() << result.status();
      return {};
    }
    return *result;
  }

  void ApplySeed() {
    const BatchResult result = Apply(SeedEvents());
    EXPECT_EQ(result.applied, static_cast<int64_t>(SeedEvents().size()));
  }

  std::string Dump(const std::set<std::string>& excluded = {}) {
    absl::StatusOr<std::string> dump = DumpTables(*db_, excluded);
    if (!dump.ok()) {
      ADD_FAILURE() << dump.status();
      return "";
    }
    return *dump;
  }

  template <typename Doc>
  Doc Load(const char* select, const std::string& key) {
    Doc doc;
    absl::Status status = LoadDoc(*db_, select, key, doc);
    if constexpr (std::is_same_v<Doc, v1::Hub>) {
      // Milestones are rows of hub_milestones; the queries add them back the same way.
      if (status.ok()) status = AddHubMilestones(*db_, doc);
    }
    if (!status.ok()) ADD_FAILURE() << status;
    return doc;
  }

  // The rows of `sql` with parameter `key`.
  std::vector<sql::Row> Rows(const char* sql, const sql::Value& key) {
    absl::StatusOr<std::vector<sql::Row>> rows = db_->Query(sql, {key});
    if (!rows.ok()) {
      ADD_FAILURE() << rows.status();
      return {};
    }
    return *rows;
  }

  // The one row of `sql` with parameter `key`.
  sql::Row Row(const char* sql, const sql::Value& key) {
    std::vector<sql::Row> rows = Rows(sql, key);
    if (rows.size() != 1) {
      ADD_FAILURE() << rows.size() << " rows for " << sql;
      return sql::Row(64);
    }
    return rows[0];
  }

  // (facet, value) of every facet row of an entity.
  std::vector<std::pair<std::string, std::string>> Facets(const char* view,
                                                          const std::string& entity_id) {
    absl::StatusOr<std::vector<sql::Row>> rows =
        db_->Query("SELECT facet, value FROM facets WHERE view = $1 AND entity_id = $2",
                   {sql::Value(std::string(view)), sql::Value(entity_id)});
    std::vector<std::pair<std::string, std::string>> facets;
    if (!rows.ok()) {
      ADD_FAILURE() << rows.status();
      return facets;
    }
    for (const sql::Row& row : *rows) {
      facets.emplace_back(sql::AsString(row[0]), sql::AsString(row[1]));
    }
    return facets;
  }

  int64_t Count(const char* table) {
    absl::StatusOr<sql::Value> count =
        QueryValue(*db_, absl::StrCat("SELECT COUNT(*) FROM ", table));
    if (!count.ok()) ADD_FAILURE() << count.status();
    return count.ok() ? sql::AsInt(*count) : -1;
  }

  std::vector<std::string> paths_;
  std::unique_ptr<sql::Connection> db_;
  std::unique_ptr<Projector> projector_;
  TestLog log_;
};

// The events these tests add to the seed are valid events too, so the views see nothing a
// publisher would have refused.
TEST(ProjectorTestEvents, FollowUpEventsPassValidation) {
  std::vector<v1::Event> events = EverythingLog();
  events.erase(events.begin(), events.begin() + static_cast<int64_t>(SeedEvents().size()));
  ASSERT_FALSE(events.empty());
  for (const v1::Event& event : events) {
    const absl::Time recorded = absl::FromUnixMillis(event.recorded_time().seconds() * 1000 +
                                                     event.recorded_time().nanos() / 1'000'000);
    for (const publisher::FieldViolation& violation :
         publisher::ValidateEvent(event, "event", {.recorded_time = recorded})) {
      ADD_FAILURE() << event.id() << ": " << violation.field << ": " << violation.description;
    }
  }
}

TEST_F(ProjectorTest, InitializeCreatesAPositionAtZeroPerPartition) {
  absl::StatusOr<std::map<int32_t, int64_t>> positions = projector_->LoadPositions();
  ASSERT_TRUE(positions.ok()) << positions.status();
  EXPECT_THAT(*positions,
              ElementsAre(Pair(0, 0), Pair(1, 0), Pair(2, 0), Pair(3, 0), Pair(4, 0), Pair(5, 0)));
}

TEST_F(ProjectorTest, InitializeAgainForTheSameLogKeepsPositions) {
  ApplySeed();
  const absl::StatusOr<std::map<int32_t, int64_t>> before = projector_->LoadPositions();
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(projector_->Initialize(kClusterId, kTopic, kPartitionCount).ok());
  EXPECT_EQ(projector_->LoadPositions().value(), *before);
}

TEST_F(ProjectorTest, InitializeForAnotherClusterFailsPrecondition) {
  const absl::Status status = projector_->Initialize("another-cluster", kTopic, kPartitionCount);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("test-cluster"));
}

TEST_F(ProjectorTest, InitializeForAnotherTopicFailsPrecondition) {
  const absl::Status status = projector_->Initialize(kClusterId, "other.events", kPartitionCount);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

TEST_F(ProjectorTest, MemorandumRowIsABilateralSignedMemorandum) {
  ApplySeed();
  const sql::Row row = Row(
      "SELECT form, laterality, status, title, signed_on, signed_from, signed_to, place_region, "
      "areas, hub_ids, corrected, signed_source, signed_id, parties_json, participants_json, "
      "changes_json FROM agreements WHERE agreement_id = $1",
      "ru-mos-kz-19-memorandum-2025");
  EXPECT_EQ(sql::AsInt(row[0]), v1::AGREEMENT_FORM_MEMORANDUM);
  EXPECT_EQ(sql::AsInt(row[1]), v1::LATERALITY_BILATERAL);
  EXPECT_EQ(sql::AsInt(row[2]), v1::AGREEMENT_STATUS_SIGNED);
  EXPECT_EQ(sql::AsString(row[3]),
            "Меморандум о развитии сотрудничества между Московской и Алматинской областями");
  EXPECT_EQ(sql::AsString(row[4]), "2025-09-10");
  EXPECT_EQ(sql::AsString(row[5]), "2025-09-10");
  EXPECT_EQ(sql::AsString(row[6]), "2025-09-10");
  EXPECT_EQ(sql::AsString(row[7]), "RU-MOS");
  EXPECT_EQ(sql::AsString(row[8]),
            " COOPERATION_AREA_ECONOMY COOPERATION_AREA_TRADE COOPERATION_AREA_LOGISTICS "
            "COOPERATION_AREA_EDUCATION COOPERATION_AREA_CULTURE COOPERATION_AREA_TOURISM "
            "COOPERATION_AREA_TECHNOLOGY ");
  EXPECT_EQ(sql::AsString(row[9]), "");
  EXPECT_EQ(sql::AsInt(row[10]), 0);
  EXPECT_EQ(sql::AsString(row[11]), kMosregSource);
  EXPECT_EQ(sql::AsString(row[12]), kMemorandumId);
  EXPECT_THAT(sql::AsString(row[13]), HasSubstr("Правительство Московской области"));
  EXPECT_THAT(sql::AsString(row[14]), HasSubstr("Андрей Воробьев"));
  EXPECT_EQ(sql::AsString(row[15]), "[]");
}

TEST_F(ProjectorTest, MemorandumDocHasPartiesParticipantsAndAreas) {
  ApplySeed();
  const auto memo = Load<v1::Agreement>(kSelectAgreement, "ru-mos-kz-19-memorandum-2025");
  EXPECT_EQ(memo.form(), v1::AGREEMENT_FORM_MEMORANDUM);
  EXPECT_EQ(memo.laterality(), v1::LATERALITY_BILATERAL);
  EXPECT_EQ(memo.status(), v1::AGREEMENT_STATUS_SIGNED);
  EXPECT_THAT(memo.signed_on(), IsDate(2025, 9, 10));
  ASSERT_EQ(memo.parties_size(), 3);
  EXPECT_EQ(memo.parties(0).party().name(), "Правительство Московской области");
  EXPECT_EQ(memo.parties(1).party().region().code(), "KZ-19");
  EXPECT_EQ(memo.parties(2).role(), v1::PARTY_ROLE_OBSERVER);
  ASSERT_EQ(memo.participants_size(), 3);
  EXPECT_EQ(memo.participants(0).person().name(), "Андрей Воробьев");
  EXPECT_EQ(memo.participants(0).role(), v1::PARTICIPANT_ROLE_SIGNATORY);
  EXPECT_EQ(memo.participants(1).person().name(), "Марат Султангазиев");
  EXPECT_EQ(memo.participants(2).person().name(), "Даурен Абаев");
  EXPECT_EQ(memo.participants(2).role(), v1::PARTICIPANT_ROLE_WITNESS);
  EXPECT_EQ(memo.areas_size(), 7);
  EXPECT_EQ(memo.areas(6), v1::COOPERATION_AREA_TECHNOLOGY);
  EXPECT_THAT(memo.purpose(), HasSubstr("туризма и технологий"));
  EXPECT_EQ(memo.signed_event().source(), kMosregSource);
  EXPECT_EQ(memo.signed_event().id(), kMemorandumId);
  EXPECT_FALSE(memo.corrected());
  EXPECT_EQ(memo.updated_time().seconds(), Millis(Day(2025, 9, 10) + absl::Hours(9)) / 1000 + 60);
}

TEST_F(ProjectorTest, SelyatinoAgreementIsTrilateralAboutItsHub) {
  ApplySeed();
  const sql::Row row =
      Row("SELECT form, laterality, signed_on, signed_from, signed_to, hub_ids, place_region, "
          "occasion FROM agreements WHERE agreement_id = $1",
          "selyatino-hub-2024");
  EXPECT_EQ(sql::AsInt(row[0]), v1::AGREEMENT_FORM_AGREEMENT);
  EXPECT_EQ(sql::AsInt(row[1]), v1::LATERALITY_TRILATERAL);
  EXPECT_EQ(sql::AsString(row[2]), "2024-06");
  EXPECT_EQ(sql::AsString(row[3]), "2024-06-01");
  EXPECT_EQ(sql::AsString(row[4]), "2024-06-30");
  EXPECT_EQ(sql::AsString(row[5]), " selyatino ");
  EXPECT_EQ(sql::AsString(row[6]), "RU-SPE");
  EXPECT_EQ(sql::AsString(row[7]), "Петербургский международный экономический форум");
  const auto agreement = Load<v1::Agreement>(kSelectAgreement, "selyatino-hub-2024");
  EXPECT_THAT(agreement.hub_ids(), ElementsAre("selyatino"));
  EXPECT_THAT(agreement.signed_on(), IsDate(2024, 6, 0));
  ASSERT_EQ(agreement.parties_size(), 3);
  EXPECT_EQ(agreement.parties(1).party().name(), "АО «Самрук-Қазына»");
}

TEST_F(ProjectorTest, AgreementFacetsNamePartyRegionsCountriesPartiesHubsAndAreas) {
  ApplySeed();
  EXPECT_THAT(Facets("agreement", "selyatino-hub-2024"),
              UnorderedElementsAre(Pair("region", "RU-MOS"), Pair("region", "RU"),
                                   Pair("region", "KZ"), Pair("party", "mosreg-government"),
                                   Pair("party", "kz-samruk-kazyna"), Pair("party", "kz-ktz"),
                                   Pair("hub", "selyatino"), Pair("area", "3"), Pair("area", "4")));
  const auto memo_facets = Facets("agreement", "ru-mos-kz-19-memorandum-2025");
  EXPECT_THAT(memo_facets, ::testing::IsSupersetOf({Pair("region", "RU-MOS"), Pair("region", "RU"),
                                                    Pair("region", "KZ-19"), Pair("region", "KZ"),
                                                    Pair("party", "almaty-region-akimat"),
                                                    Pair("party", "kz-embassy-russia")}));
  EXPECT_EQ(memo_facets.size(), 4u + 3u + 7u);
}

TEST_F(ProjectorTest, SelyatinoPlanSetsBaselineAndFigures) {
  ApplySeed();
  const sql::Row row =
      Row("SELECT status, baseline_completion, planned_completion, actual_completion, "
          "slippage_days, percent_complete, investment_currency, investment_units, "
          "investment_nanos, jobs, total_area, total_area_unit, region, country, locality, name "
          "FROM hubs WHERE hub_id = $1",
          "selyatino");
  EXPECT_EQ(sql::AsInt(row[0]), v1::HUB_STATUS_PLANNED);
  EXPECT_EQ(sql::AsString(row[1]), "2026-04");
  EXPECT_EQ(sql::AsString(row[2]), "2026-04");
  EXPECT_TRUE(sql::IsNull(row[3]));
  EXPECT_EQ(sql::AsInt(row[4]), 0);
  EXPECT_TRUE(sql::IsNull(row[5]));
  EXPECT_EQ(sql::AsString(row[6]), "RUB");
  EXPECT_EQ(sql::AsInt(row[7]), 14'000'000'000);
  EXPECT_EQ(sql::AsInt(row[8]), 0);
  EXPECT_EQ(sql::AsInt(row[9]), 1'500);
  EXPECT_EQ(sql::AsDouble(row[10]), 65'000);
  EXPECT_EQ(sql::AsInt(row[11]), v1::UNIT_SQUARE_METRE);
  EXPECT_EQ(sql::AsString(row[12]), "RU-MOS");
  EXPECT_EQ(sql::AsString(row[13]), "RU");
  EXPECT_EQ(sql::AsString(row[14]), "Наро-Фоминский городской округ");
  EXPECT_EQ(sql::AsString(row[15]), "ТЛЦ «Селятино»");

  const auto hub = Load<v1::Hub>(kSelectHub, "selyatino");
  ASSERT_EQ(hub.phases_size(), 1);
  EXPECT_EQ(hub.phases(0).phase(), 0);
  EXPECT_THAT(hub.phases(0).baseline_on(), IsDate(2026, 4, 0));
  EXPECT_THAT(hub.phases(0).planned_on(), IsDate(2026, 4, 0));
  EXPECT_EQ(hub.phases(0).slippage_days(), 0);
  ASSERT_EQ(hub.capacities_size(), 1);
  EXPECT_EQ(hub.capacities(0).baseline().value(), 180'000);
  EXPECT_EQ(hub.capacities(0).target().value(), 550'000);
  ASSERT_EQ(hub.shares_size(), 1);
  EXPECT_EQ(hub.shares(0).percent(), 40);
  ASSERT_EQ(hub.participating_countries_size(), 3);
  EXPECT_EQ(hub.participating_countries(0).code(), "CN");
  EXPECT_THAT(hub.agreement_ids(), ElementsAre("selyatino-hub-2024"));
  ASSERT_EQ(hub.milestones_size(), 1);
  EXPECT_EQ(hub.milestones(0).event().id(), kSelyatinoPlanId);
  EXPECT_EQ(hub.milestones(0).position().partition(), PartitionOf("hub/selyatino"));
  EXPECT_THAT(Facets("hub", "selyatino"),
              UnorderedElementsAre(Pair("party", "mosreg-government"),
                                   Pair("party", "kz-samruk-kazyna"), Pair("party", "kz-ktz")));
}

TEST_F(ProjectorTest, RevisedPlanMovesPlannedDateAndKeepsBaseline) {
  ApplySeed();
  Apply(SelyatinoFollowUps());
  const sql::Row row =
      Row("SELECT status, baseline_completion, planned_completion, actual_completion, "
          "slippage_days, percent_complete, jobs, investment_units FROM hubs WHERE hub_id = $1",
          "selyatino");
  EXPECT_EQ(sql::AsInt(row[0]), v1::HUB_STATUS_UNDER_CONSTRUCTION);
  EXPECT_EQ(sql::AsString(row[1]), "2026-04");
  EXPECT_EQ(sql::AsString(row[2]), "2026-06");
  EXPECT_TRUE(sql::IsNull(row[3]));
  EXPECT_EQ(sql::AsInt(row[4]), 61);  // 2026-04-30 to 2026-06-30.
  EXPECT_EQ(sql::AsDouble(row[5]), 40);
  EXPECT_EQ(sql::AsInt(row[6]), 1'500);  // Unset in the follow-ups: kept.
  EXPECT_EQ(sql::AsInt(row[7]), 14'000'000'000);

  const auto hub = Load<v1::Hub>(kSelectHub, "selyatino");
  ASSERT_EQ(hub.phases_size(), 1);
  EXPECT_THAT(hub.phases(0).baseline_on(), IsDate(2026, 4, 0));
  EXPECT_THAT(hub.phases(0).planned_on(), IsDate(2026, 6, 0));
  EXPECT_EQ(hub.phases(0).slippage_days(), 61);
  EXPECT_EQ(hub.phases(0).percent_complete(), 40);
  ASSERT_EQ(hub.milestones_size(), 4);
  EXPECT_EQ(hub.milestones(1).milestone_kind(), v1::HUB_MILESTONE_KIND_CONSTRUCTION_STARTED);
  EXPECT_EQ(hub.milestones(2).percent_complete(), 40);
  EXPECT_THAT(hub.milestones(3).planned_on(), IsDate(2026, 6, 0));
  EXPECT_EQ(hub.capacities_size(), 1);  // An empty list keeps the previous one.
  EXPECT_EQ(hub.updated_time().seconds(), Millis(Day(2026, 2, 2)) / 1000);
}

TEST_F(ProjectorTest, CompletionSetsActualDateAndFullProgress) {
  ApplySeed();
  Apply(SelyatinoFollowUps());
  Apply({SelyatinoCompleted()});
  const sql::Row row =
      Row("SELECT status, baseline_completion, planned_completion, actual_completion, "
          "slippage_days, percent_complete FROM hubs WHERE hub_id = $1",
          "selyatino");
  EXPECT_EQ(sql::AsInt(row[0]), v1::HUB_STATUS_COMPLETED);
  EXPECT_EQ(sql::AsString(row[1]), "2026-04");
  EXPECT_EQ(sql::AsString(row[2]), "2026-06");
  EXPECT_EQ(sql::AsString(row[3]), "2026-06-25");
  EXPECT_EQ(sql::AsInt(row[4]), 56);  // 2026-04-30 to 2026-06-25.
  EXPECT_EQ(sql::AsDouble(row[5]), 100);
  const auto hub = Load<v1::Hub>(kSelectHub, "selyatino");
  EXPECT_THAT(hub.phases(0).actual_on(), IsDate(2026, 6, 25));
  EXPECT_EQ(hub.phases(0).percent_complete(), 100);
}

TEST_F(ProjectorTest, AnnouncedHubsHaveTheirFacilitiesAndLocation) {
  ApplySeed();
  const auto agrohub = Load<v1::Hub>(kSelectHub, "almaty-agrohub");
  EXPECT_EQ(agrohub.status(), v1::HUB_STATUS_ANNOUNCED);
  EXPECT_EQ(agrohub.total_area().value(), 75);
  EXPECT_EQ(agrohub.total_area().unit(), v1::UNIT_HECTARE);
  EXPECT_EQ(agrohub.facilities_size(), 4);
  const sql::Row alatau = Row(
      "SELECT name, region, country, locality, status FROM hubs WHERE hub_id = $1", "alatau-hub");
  EXPECT_EQ(sql::AsString(alatau[0]), "Alatau Hub");
  EXPECT_EQ(sql::AsString(alatau[1]), "KZ-19");
  EXPECT_EQ(sql::AsString(alatau[2]), "KZ");
  EXPECT_EQ(sql::AsString(alatau[3]), "Қонаев");
  EXPECT_EQ(sql::AsInt(alatau[4]), v1::HUB_STATUS_ANNOUNCED);
  EXPECT_EQ(Count("hubs"), 3);
}

TEST_F(ProjectorTest, TurnoverGrowthRowHasTheRatioAndNoValues) {
  ApplySeed();
  const sql::Row row =
      Row("SELECT reporting_region, reporting_country, partner_region, partner_country, period, "
          "period_from, period_to, values_json, volume, growth_ratio, growth_qualifier, trend, "
          "category_key, row_key FROM trade_rows WHERE direction = $1",
          int64_t{v1::TRADE_DIRECTION_TURNOVER});
  EXPECT_EQ(sql::AsString(row[0]), "RU-MOS");
  EXPECT_EQ(sql::AsString(row[1]), "RU");
  EXPECT_EQ(sql::AsString(row[2]), "KZ");
  EXPECT_EQ(sql::AsString(row[3]), "KZ");
  EXPECT_EQ(sql::AsString(row[4]), "2020..2025");
  EXPECT_EQ(sql::AsString(row[5]), "2020-01-01");
  EXPECT_EQ(sql::AsString(row[6]), "2025-12-31");
  EXPECT_EQ(sql::AsString(row[7]), "[]");
  EXPECT_TRUE(sql::IsNull(row[8]));
  EXPECT_EQ(sql::AsDouble(row[9]), 1.8);
  EXPECT_EQ(sql::AsInt(row[10]), v1::QUALIFIER_MORE_THAN);
  EXPECT_EQ(sql::AsInt(row[11]), v1::TRADE_TREND_GROWING);
  EXPECT_EQ(sql::AsString(row[12]), "");
  v1::TradeRow trade;
  ASSERT_TRUE(
      LoadDoc(*db_, "SELECT doc FROM trade_rows WHERE row_key = $1", sql::AsString(row[13]), trade)
          .ok());
  EXPECT_EQ(trade.values_size(), 0);
  EXPECT_FALSE(trade.has_volume());
  EXPECT_FALSE(trade.has_category());
  EXPECT_EQ(trade.growth().ratio(), 1.8);
  EXPECT_EQ(trade.growth().qualifier(), v1::QUALIFIER_MORE_THAN);
  EXPECT_THAT(trade.growth().base_period().start(), IsDate(2020, 0, 0));
  ASSERT_EQ(trade.events_size(), 1);
  EXPECT_EQ(trade.events(0).id(), "mosreg-2025-trade-turnover-kz-growth");
}

TEST_F(ProjectorTest, SteadyDemandCategoriesAreRowsKeyedByHsCodeOrName) {
  ApplySeed();
  std::vector<std::string> keys;
  for (const sql::Row& row : Rows("SELECT category_key FROM trade_rows WHERE direction = $1 "
                                  "ORDER BY category_key",
                                  int64_t{v1::TRADE_DIRECTION_EXPORT})) {
    keys.push_back(sql::AsString(row[0]));
  }
  EXPECT_THAT(keys, ElementsAre("hs:30", "hs:33", "hs:34", "hs:39", "hs:8708",
                                "name:продукция машиностроения и металлообработки"));
  EXPECT_EQ(Count("trade_rows"), 7);
}

// The articles give no absolute trade values; the figures here are invented.
TEST_F(ProjectorTest, UpdatesOfOneTradeRowKeepTheLatestValuePerCurrency) {
  auto update = [](const char* id, const char* currency, int64_t units,
                   std::optional<double> tonnes, absl::Time recorded) {
    v1::Event event = SeedEvent("mosreg-2025-export-kz-cosmetics");
    event.set_id(id);
    v1::TradeUpdate& trade = *event.mutable_trade_update();
    *trade.mutable_period()->mutable_start() = Date(2024);
    trade.set_trend(v1::TRADE_TREND_UNSPECIFIED);
    trade.mutable_value()->set_currency_code(currency);
    trade.mutable_value()->set_units(units);
    if (tonnes.has_value()) {
      trade.mutable_volume()->set_value(*tonnes);
      trade.mutable_volume()->set_unit(v1::UNIT_TONNE);
      trade.mutable_volume()->set_qualifier(v1::QUALIFIER_EXACT);
    }
    return RecordedAt(event, recorded);
  };
  Apply({update("mosreg-2025-10-cosmetics-rub", "RUB", 1'000'000'000, 12'000, Day(2025, 10, 1)),
         update("mosreg-2025-10-cosmetics-kzt", "KZT", 6'000'000'000, std::nullopt,
                Day(2025, 10, 2))});
  Apply({update("mosreg-2025-11-cosmetics-rub", "RUB", 1'200'000'000, std::nullopt,
                Day(2025, 11, 1))});
  const sql::Row row =
      Row("SELECT row_key, values_json, volume, volume_unit, period, updated_time_ms FROM "
          "trade_rows WHERE period = $1",
          std::string("2024"));
  EXPECT_THAT(sql::AsString(row[1]), HasSubstr("KZT"));
  EXPECT_EQ(sql::AsDouble(row[2]), 12'000);
  EXPECT_EQ(sql::AsInt(row[3]), v1::UNIT_TONNE);
  EXPECT_EQ(sql::AsInt(row[5]), Millis(Day(2025, 11, 1)));
  v1::TradeRow trade;
  ASSERT_TRUE(
      LoadDoc(*db_, "SELECT doc FROM trade_rows WHERE row_key = $1", sql::AsString(row[0]), trade)
          .ok());
  ASSERT_EQ(trade.values_size(), 2);
  EXPECT_EQ(trade.values(0).currency_code(), "KZT");
  EXPECT_EQ(trade.values(0).units(), 6'000'000'000);
  EXPECT_EQ(trade.values(1).currency_code(), "RUB");
  EXPECT_EQ(trade.values(1).units(), 1'200'000'000);
  EXPECT_EQ(trade.volume().value(), 12'000);
  // values_json is what Protobuf's JSON printer gives for each value, in a JSON array.
  std::vector<std::string> printed;
  for (const v1::Money& money : trade.values()) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(money, &json, options).ok());
    printed.push_back(json);
  }
  EXPECT_EQ(sql::AsString(row[1]), absl::StrCat("[", absl::StrJoin(printed, ","), "]"));
  EXPECT_EQ(trade.category().hs_code(), "33");
  ASSERT_EQ(trade.events_size(), 3);
  EXPECT_EQ(trade.events(2).id(), "mosreg-2025-11-cosmetics-rub");
}

TEST_F(ProjectorTest, RegionsAreEveryRegionNamedAsPartyLocationProfileOrDestination) {
  ApplySeed();
  absl::StatusOr<std::vector<sql::Row>> rows =
      db_->Query("SELECT code, country, updated_time_ms FROM regions ORDER BY code");
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::vector<std::pair<std::string, std::string>> regions;
  for (const sql::Row& row : *rows) {
    regions.emplace_back(sql::AsString(row[0]), sql::AsString(row[1]));
  }
  EXPECT_THAT(regions, ElementsAre(Pair("KZ", "KZ"), Pair("KZ-19", "KZ"), Pair("RU", "RU"),
                                   Pair("RU-MOS", "RU")));
  // KZ-19 is last named by the tourism flow to it, the 21st seed event.
  EXPECT_EQ(sql::AsInt((*rows)[1][2]),
            Millis(Day(2025, 9, 10) + absl::Hours(9) + absl::Minutes(20)));
}

TEST_F(ProjectorTest, RegionFactsKeepOneRowPerRegionKindAndCounterpart) {
  ApplySeed();
  EXPECT_EQ(Count("region_facts"), 9);
  const std::vector<sql::Row> rows = Rows(
      "SELECT kind, counterpart, value, unit, qualifier, valid_on, note FROM region_facts "
      "WHERE region = $1 ORDER BY kind",
      "RU-MOS");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(sql::AsInt(rows[0][0]), v1::REGION_FACT_KIND_SPECIAL_ECONOMIC_ZONE_COUNT);
  EXPECT_EQ(sql::AsDouble(rows[0][2]), 6);
  EXPECT_EQ(sql::AsDouble(rows[1][2]), 72);
  EXPECT_EQ(sql::AsDouble(rows[2][2]), 19);
  EXPECT_EQ(sql::AsString(rows[1][1]), "");
  EXPECT_EQ(sql::AsInt(rows[1][3]), v1::UNIT_COUNT);
  EXPECT_EQ(sql::AsInt(rows[1][4]), v1::QUALIFIER_EXACT);
  EXPECT_EQ(sql::AsString(rows[1][5]), "2025");
  const std::vector<sql::Row> kz = Rows(
      "SELECT kind, counterpart, value, qualifier, note FROM region_facts WHERE region = "
      "$1 ORDER BY kind",
      "KZ");
  ASSERT_EQ(kz.size(), 3u);
  EXPECT_EQ(sql::AsInt(kz[0][0]), v1::REGION_FACT_KIND_BORDER_REGION_COUNT);
  EXPECT_EQ(sql::AsString(kz[0][1]), "RU");
  EXPECT_EQ(sql::AsDouble(kz[0][2]), 7);
  EXPECT_EQ(sql::AsDouble(kz[1][2]), 30'000'000);
  EXPECT_EQ(sql::AsInt(kz[1][3]), v1::QUALIFIER_ABOUT);
  EXPECT_THAT(sql::AsString(kz[2][4]), HasSubstr("Самая длинная"));
  const std::vector<sql::Row> ru = Rows(
      "SELECT value, doc FROM region_facts WHERE region = $1 AND kind = 6 AND counterpart = 'KZ'",
      "RU");
  ASSERT_EQ(ru.size(), 1u);
  EXPECT_EQ(sql::AsDouble(ru[0][0]), 12);
  v1::RegionProfile doc;
  ASSERT_TRUE(doc.ParseFromString(sql::AsString(ru[0][1])));
  EXPECT_EQ(doc.region().code(), "RU");
  ASSERT_EQ(doc.facts_size(), 1);
  EXPECT_EQ(doc.facts(0).value().value(), 12);
}

TEST_F(ProjectorTest, SiteRowDescribesEsipovo) {
  ApplySeed();
  const sql::Row row =
      Row("SELECT name, region, country, locality, format, doc FROM sites WHERE site_id = $1",
          "esipovo");
  EXPECT_EQ(sql::AsString(row[0]), "Индустриальный парк «Есипово»");
  EXPECT_EQ(sql::AsString(row[1]), "RU-MOS");
  EXPECT_EQ(sql::AsString(row[2]), "RU");
  EXPECT_EQ(sql::AsString(row[3]), "городской округ Солнечногорск");
  EXPECT_EQ(sql::AsInt(row[4]), v1::SITE_FORMAT_LIGHT_INDUSTRIAL);
  v1::IndustrialSite site;
  ASSERT_TRUE(site.ParseFromString(sql::AsString(row[5])));
  EXPECT_EQ(site.launch_lead_time().value(), 3);
  EXPECT_EQ(site.launch_lead_time().unit(), v1::UNIT_MONTH);
  EXPECT_EQ(site.launch_lead_time().qualifier(), v1::QUALIFIER_ABOUT);
}

TEST_F(ProjectorTest, TheLaterSiteEventInThePartitionWinsWhateverItsRecordedTime) {
  ApplySeed();
  // Two publisher instances with clocks apart: the later record carries an earlier time.
  v1::Event first = SeedEvent("mosreg-2025-09-10-esipovo");
  if (first.id().empty()) return;  // SeedEvent recorded the failure.
  v1::Event later = first;
  first.set_id("esipovo-site-update-1");
  first.mutable_industrial_site()->set_description("первое обновление");
  first = RecordedAt(first, Day(2025, 10, 2));
  later.set_id("esipovo-site-update-2");
  later.mutable_industrial_site()->set_description("второе обновление");
  later = RecordedAt(later, Day(2025, 10, 1));
  Apply({first, later});
  const sql::Row row = Row("SELECT doc FROM sites WHERE site_id = $1", "esipovo");
  v1::IndustrialSite site;
  ASSERT_TRUE(site.ParseFromString(sql::AsString(row[0])));
  EXPECT_EQ(site.description(), "второе обновление");
}

TEST_F(ProjectorTest, IncentiveRowDescribesAlatauTaxRelief) {
  ApplySeed();
  const sql::Row row = Row(
      "SELECT region, country, hub_id, kind, relief_percent, subject, doc FROM incentives WHERE "
      "incentive_id = $1",
      "alatau-hub-rnd-tax-relief");
  EXPECT_EQ(sql::AsString(row[0]), "KZ-19");
  EXPECT_EQ(sql::AsString(row[1]), "KZ");
  EXPECT_EQ(sql::AsString(row[2]), "alatau-hub");
  EXPECT_EQ(sql::AsInt(row[3]), v1::INCENTIVE_KIND_TAX_RELIEF);
  EXPECT_EQ(sql::AsDouble(row[4]), 100);
  EXPECT_EQ(sql::AsString(row[5]), "hub/alatau-hub");
  v1::InvestmentIncentive incentive;
  ASSERT_TRUE(incentive.ParseFromString(sql::AsString(row[6])));
  EXPECT_EQ(incentive.condition_share().percent(), 1);
  EXPECT_EQ(incentive.offered_by().party_id(), "almaty-region-digital");
}

TEST_F(ProjectorTest, TourismFlowRowsPerDestinationOriginAndPeriod) {
  ApplySeed();
  const std::vector<sql::Row> rows = Rows(
      "SELECT destination, origin, period, destination_country, period_from, period_to, "
      "tourists, tourists_qualifier, subject, doc FROM tourism_flows WHERE period = $1 ORDER BY "
      "destination",
      "2025");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(sql::AsString(rows[0][0]), "KZ");
  EXPECT_EQ(sql::AsString(rows[0][1]), "RU");
  EXPECT_EQ(sql::AsString(rows[0][3]), "KZ");
  EXPECT_EQ(sql::AsString(rows[0][4]), "2025-01-01");
  EXPECT_EQ(sql::AsString(rows[0][5]), "2025-12-31");
  EXPECT_EQ(sql::AsDouble(rows[0][6]), 1'000'000);
  EXPECT_EQ(sql::AsInt(rows[0][7]), v1::QUALIFIER_MORE_THAN);
  EXPECT_EQ(sql::AsString(rows[0][8]), "regions/KZ:RU");
  EXPECT_EQ(sql::AsString(rows[1][0]), "KZ-19");
  EXPECT_EQ(sql::AsString(rows[1][1]), "");
  EXPECT_EQ(sql::AsString(rows[1][3]), "KZ");
  EXPECT_EQ(sql::AsDouble(rows[1][6]), 135'000);
  EXPECT_EQ(sql::AsString(rows[1][8]), "region/KZ-19");
  v1::TourismFlow flow;
  ASSERT_TRUE(flow.ParseFromString(sql::AsString(rows[1][9])));
  ASSERT_EQ(flow.shares_size(), 1);
  EXPECT_EQ(flow.shares(0).percent(), 30);
  EXPECT_EQ(flow.shares(0).qualifier(), v1::QUALIFIER_ALMOST);
  ASSERT_EQ(flow.attractions_size(), 5);
  EXPECT_EQ(flow.attractions(2).name(), "Чарынский каньон");
}

TEST_F(ProjectorTest, TimelineHasEveryEventAtItsPosition) {
  const std::vector<v1::Event> seed = SeedEvents();
  const std::vector<LogEvent> log_events = log_.Append(seed);
  ASSERT_TRUE(ApplyAsOneBatch(*projector_, log_events).ok());
  EXPECT_EQ(Count("events"), static_cast<int64_t>(seed.size()));
  for (const LogEvent& e : log_events) {
    const sql::Row row = Row(
        "SELECT source, type, subject, recorded_time_ms, kafka_partition, kafka_offset, "
        "event_time_ms, corrects_id, corrected_by_id, effective, event FROM events WHERE id = $1",
        e.event.id());
    EXPECT_EQ(sql::AsString(row[0]), e.event.source());
    EXPECT_EQ(sql::AsString(row[1]), e.event.type());
    EXPECT_EQ(sql::AsString(row[2]), e.event.subject());
    EXPECT_EQ(sql::AsInt(row[3]), e.event.recorded_time().seconds() * 1000);
    EXPECT_EQ(sql::AsInt(row[4]), e.partition);
    EXPECT_EQ(sql::AsInt(row[5]), e.offset);
    EXPECT_TRUE(sql::IsNull(row[6]));
    EXPECT_TRUE(sql::IsNull(row[7]));
    EXPECT_TRUE(sql::IsNull(row[8]));
    EXPECT_TRUE(sql::IsNull(row[9]));
    EXPECT_EQ(sql::AsString(row[10]), e.event.SerializeAsString());
  }
}

TEST_F(ProjectorTest, TimelineListsRegionsWithTheirCountriesAndPartyIds) {
  ApplySeed();
  const sql::Row memo = Row("SELECT regions, party_ids FROM events WHERE id = $1", kMemorandumId);
  EXPECT_EQ(sql::AsString(memo[0]), " KZ KZ-19 RU RU-MOS ");
  EXPECT_EQ(sql::AsString(memo[1]), " almaty-region-akimat kz-embassy-russia mosreg-government ");
  const sql::Row selyatino =
      Row("SELECT regions, party_ids FROM events WHERE id = $1", kSelyatinoAgreementId);
  EXPECT_EQ(sql::AsString(selyatino[0]), " KZ RU RU-MOS RU-SPE ");
  EXPECT_EQ(sql::AsString(selyatino[1]), " kz-ktz kz-samruk-kazyna mosreg-government ");
  const sql::Row concert =
      Row("SELECT regions, party_ids FROM events WHERE id = $1", "embassy-2025-09-alqissa-concert");
  EXPECT_EQ(sql::AsString(concert[0]), " KZ RU RU-MOW ");
  EXPECT_EQ(sql::AsString(concert[1]), " kz-embassy-russia ");
  const sql::Row flow =
      Row("SELECT regions, party_ids FROM events WHERE id = $1", "tourism-2025-ru-to-kz");
  EXPECT_EQ(sql::AsString(flow[0]), " KZ RU ");
  EXPECT_EQ(sql::AsString(flow[1]), "");
  const std::vector<sql::Row> found =
      Rows("SELECT id FROM events WHERE regions LIKE $1 ORDER BY id", "% RU-MOW %");
  ASSERT_EQ(found.size(), 1u);
}

TEST_F(ProjectorTest, ReappliedEventChangesNothingButThePosition) {
  ApplySeed();
  const std::string before = Dump({"positions"});
  const LogEvent again = log_.Append(SeedEvent(kSelyatinoPlanId));
  absl::StatusOr<BatchResult> result = ApplyAsOneBatch(*projector_, {again});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->applied, 0);
  EXPECT_EQ(result->duplicates, 1);
  EXPECT_EQ(Dump({"positions"}), before);
  EXPECT_EQ(projector_->LoadPositions().value().at(again.partition), again.offset + 1);
}

TEST_F(ProjectorTest, DuplicateWithinOneBatchIsAppliedOnce) {
  const v1::Event plan = SeedEvent(kSelyatinoPlanId);
  const BatchResult result = Apply({plan, plan});
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.duplicates, 1);
  EXPECT_EQ(Load<v1::Hub>(kSelectHub, "selyatino").milestones_size(), 1);
}

TEST_F(ProjectorTest, AmendmentsAppendChangesAndSetTheStatus) {
  ApplySeed();
  Apply({Amendment("mosreg-2025-10-selyatino-in-force", "selyatino-hub-2024",
                   v1::AGREEMENT_STATUS_IN_FORCE, Day(2025, 10, 1))});
  EXPECT_EQ(Load<v1::Agreement>(kSelectAgreement, "selyatino-hub-2024").status(),
            v1::AGREEMENT_STATUS_IN_FORCE);
  Apply({Amendment("mosreg-2026-03-selyatino-terminated", "selyatino-hub-2024",
                   v1::AGREEMENT_STATUS_TERMINATED, Day(2026, 3, 1))});
  const auto agreement = Load<v1::Agreement>(kSelectAgreement, "selyatino-hub-2024");
  EXPECT_EQ(agreement.status(), v1::AGREEMENT_STATUS_TERMINATED);
  ASSERT_EQ(agreement.changes_size(), 2);
  EXPECT_EQ(agreement.changes(0).new_status(), v1::AGREEMENT_STATUS_IN_FORCE);
  EXPECT_EQ(agreement.changes(0).event().id(), "mosreg-2025-10-selyatino-in-force");
  EXPECT_THAT(agreement.changes(0).effective_on(), IsDate(2025, 10, 1));
  EXPECT_EQ(agreement.changes(1).new_status(), v1::AGREEMENT_STATUS_TERMINATED);
  EXPECT_EQ(agreement.updated_time().seconds(), Millis(Day(2026, 3, 1)) / 1000);
  const sql::Row row = Row("SELECT status, changes_json FROM agreements WHERE agreement_id = $1",
                           "selyatino-hub-2024");
  EXPECT_EQ(sql::AsInt(row[0]), v1::AGREEMENT_STATUS_TERMINATED);
  EXPECT_THAT(sql::AsString(row[1]), HasSubstr("AGREEMENT_STATUS_TERMINATED"));
}

TEST_F(ProjectorTest, AmendmentOfAnUnknownAgreementIsInTheTimelineOnly) {
  ApplySeed();
  const std::string before = Dump(kNotViews);
  const BatchResult result =
      Apply({Amendment("mosreg-2025-10-unknown-in-force", "no-such-agreement",
                       v1::AGREEMENT_STATUS_IN_FORCE, Day(2025, 10, 1))});
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(Dump(kNotViews), before);
  EXPECT_EQ(Rows("SELECT id FROM events WHERE id = $1", "mosreg-2025-10-unknown-in-force").size(),
            1u);
}

TEST_F(ProjectorTest, CorrectedMilestoneRefoldsTheHubWithTheLaterMilestones) {
  ApplySeed();
  Apply(SelyatinoFollowUps());
  const BatchResult result = Apply({SelyatinoPlanCorrection()});
  EXPECT_EQ(result.corrections, 1);

  // Expected: the log as if the plan had been published corrected, projected afresh.
  std::unique_ptr<sql::Connection> fresh = OpenTempDatabase();
  ASSERT_NE(fresh, nullptr);
  Projector expected_projector(*fresh);
  TestLog expected_log;
  std::vector<v1::Event> corrected_sequence = SeedEvents();
  for (v1::Event& event : corrected_sequence) {
    if (event.id() == kSelyatinoPlanId) {
      *event.mutable_hub_milestone() = CorrectedSelyatinoPlan().hub_milestone();
    }
  }
  ASSERT_TRUE(ApplyAsOneBatch(expected_projector, expected_log.Append(corrected_sequence)).ok());
  ASSERT_TRUE(ApplyAsOneBatch(expected_projector, expected_log.Append(SelyatinoFollowUps())).ok());

  v1::Hub expected;
  ASSERT_TRUE(LoadDoc(*fresh, kSelectHub, "selyatino", expected).ok());
  ASSERT_TRUE(AddHubMilestones(*fresh, expected).ok());
  v1::Hub actual = Load<v1::Hub>(kSelectHub, "selyatino");
  EXPECT_EQ(actual.updated_time().seconds(), Millis(Day(2026, 3, 1)) / 1000);
  expected.clear_updated_time();
  actual.clear_updated_time();
  EXPECT_THAT(actual, EqualsProto(expected));
  EXPECT_EQ(actual.jobs(), 1'600);
  EXPECT_THAT(actual.phases(0).baseline_on(), IsDate(2026, 5, 0));
  EXPECT_THAT(actual.phases(0).planned_on(), IsDate(2026, 6, 0));
  EXPECT_EQ(actual.phases(0).slippage_days(), 30);  // 2026-05-31 to 2026-06-30.
  EXPECT_EQ(actual.status(), v1::HUB_STATUS_UNDER_CONSTRUCTION);
  EXPECT_EQ(actual.milestones_size(), 4);
  const sql::Row row =
      Row("SELECT jobs, baseline_completion, planned_completion, slippage_days FROM hubs WHERE "
          "hub_id = $1",
          "selyatino");
  EXPECT_EQ(sql::AsInt(row[0]), 1'600);
  EXPECT_EQ(sql::AsString(row[1]), "2026-05");
  EXPECT_EQ(sql::AsString(row[2]), "2026-06");
  EXPECT_EQ(sql::AsInt(row[3]), 30);
}

TEST_F(ProjectorTest, CorrectionSetsEffectiveAndCorrectedByOnTheOriginal) {
  ApplySeed();
  Apply({SelyatinoPlanCorrection()});
  const sql::Row original =
      Row("SELECT corrected_by_source, corrected_by_id, effective, event FROM events WHERE id = $1",
          kSelyatinoPlanId);
  EXPECT_EQ(sql::AsString(original[0]), kMosregSource);
  EXPECT_EQ(sql::AsString(original[1]), "mosreg-2026-03-selyatino-plan-correction");
  v1::Event effective;
  ASSERT_TRUE(effective.ParseFromString(sql::AsString(original[2])));
  EXPECT_EQ(effective.id(), kSelyatinoPlanId);
  EXPECT_EQ(effective.hub_milestone().jobs(), 1'600);
  v1::Event recorded;
  ASSERT_TRUE(recorded.ParseFromString(sql::AsString(original[3])));
  EXPECT_EQ(recorded.hub_milestone().jobs(), 1'500);
  const sql::Row correction =
      Row("SELECT corrects_source, corrects_id, type, subject, regions, party_ids, effective FROM "
          "events WHERE id = $1",
          "mosreg-2026-03-selyatino-plan-correction");
  EXPECT_EQ(sql::AsString(correction[0]), kMosregSource);
  EXPECT_EQ(sql::AsString(correction[1]), kSelyatinoPlanId);
  EXPECT_EQ(sql::AsString(correction[2]), "coop.v1.EventCorrected");
  EXPECT_EQ(sql::AsString(correction[3]), "hub/selyatino");
  // The regions and parties of the payload it carries.
  EXPECT_EQ(sql::AsString(correction[4]), " CN KZ RU RU-MOS ");
  EXPECT_EQ(sql::AsString(correction[5]), " kz-ktz kz-samruk-kazyna mosreg-government ");
  EXPECT_TRUE(sql::IsNull(correction[6]));
}

TEST_F(ProjectorTest, CorrectedSigningShowsTheCorrectedPayloadWithItsAmendments) {
  ApplySeed();
  Apply({Amendment("mosreg-2025-10-memorandum-in-force", "ru-mos-kz-19-memorandum-2025",
                   v1::AGREEMENT_STATUS_IN_FORCE, Day(2025, 10, 1))});
  v1::Event corrected = SeedEvent(kMemorandumId);
  corrected.mutable_memorandum_signed()->set_title(
      "Меморандум о развитии сотрудничества между Московской областью и Алматинской областью");
  corrected.mutable_memorandum_signed()->add_areas(v1::COOPERATION_AREA_INVESTMENT);
  const BatchResult result =
      Apply({Correction(kMosregSource, "mosreg-2025-10-memorandum-correction", kMemorandumId,
                        corrected, Day(2025, 10, 5))});
  EXPECT_EQ(result.corrections, 1);
  const auto memo = Load<v1::Agreement>(kSelectAgreement, "ru-mos-kz-19-memorandum-2025");
  EXPECT_EQ(memo.title(),
            "Меморандум о развитии сотрудничества между Московской областью и Алматинской "
            "областью");
  EXPECT_EQ(memo.areas_size(), 8);
  EXPECT_TRUE(memo.corrected());
  EXPECT_EQ(memo.signed_event().id(), kMemorandumId);
  EXPECT_EQ(memo.status(), v1::AGREEMENT_STATUS_IN_FORCE);
  ASSERT_EQ(memo.changes_size(), 1);
  const sql::Row row = Row("SELECT corrected, title FROM agreements WHERE agreement_id = $1",
                           "ru-mos-kz-19-memorandum-2025");
  EXPECT_EQ(sql::AsInt(row[0]), 1);
  EXPECT_EQ(sql::AsString(row[1]), memo.title());
  EXPECT_THAT(Facets("agreement", "ru-mos-kz-19-memorandum-2025"),
              ::testing::Contains(Pair("area", "13")));
}

TEST_F(ProjectorTest, CorrectedAmendmentChangesTheStatusItGave) {
  ApplySeed();
  const v1::Event terminated =
      Amendment("mosreg-2026-03-selyatino-terminated", "selyatino-hub-2024",
                v1::AGREEMENT_STATUS_TERMINATED, Day(2026, 3, 1));
  Apply({terminated});
  v1::Event amended = terminated;
  amended.mutable_agreement_amended()->set_new_status(v1::AGREEMENT_STATUS_AMENDED);
  amended.mutable_agreement_amended()->set_summary("В соглашение внесены изменения.");
  const BatchResult result =
      Apply({Correction(kMosregSource, "mosreg-2026-03-selyatino-amendment-correction",
                        terminated.id(), amended, Day(2026, 3, 4))});
  EXPECT_EQ(result.corrections, 1);
  const auto agreement = Load<v1::Agreement>(kSelectAgreement, "selyatino-hub-2024");
  EXPECT_EQ(agreement.status(), v1::AGREEMENT_STATUS_AMENDED);
  ASSERT_EQ(agreement.changes_size(), 1);
  EXPECT_EQ(agreement.changes(0).summary(), "В соглашение внесены изменения.");
  EXPECT_EQ(agreement.changes(0).event().id(), terminated.id());
  EXPECT_FALSE(agreement.corrected());  // The signing itself was not corrected.
}

TEST_F(ProjectorTest, CorrectedProfileDropsTheFactItNoLongerStates) {
  ApplySeed();
  v1::Event profile = SeedEvent("mosreg-2025-region-profile");
  profile.mutable_region_profile()->mutable_facts()->RemoveLast();  // No technopark count.
  profile.mutable_region_profile()->mutable_facts(1)->mutable_value()->set_value(74);
  const BatchResult result =
      Apply({Correction(kMosregSource, "mosreg-2025-10-region-profile-correction",
                        "mosreg-2025-region-profile", profile, Day(2025, 10, 1))});
  EXPECT_EQ(result.corrections, 1);
  const std::vector<sql::Row> rows =
      Rows("SELECT kind, value FROM region_facts WHERE region = $1 ORDER BY kind", "RU-MOS");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(sql::AsDouble(rows[0][1]), 6);
  EXPECT_EQ(sql::AsDouble(rows[1][1]), 74);
  EXPECT_EQ(Count("region_facts"), 8);
}

TEST_F(ProjectorTest, CorrectionWithAnotherPayloadTypeIsInTheTimelineOnly) {
  ApplySeed();
  const std::string before = Dump(kNotViews);
  v1::Event agreement = SeedEvent(kSelyatinoAgreementId);
  agreement.set_subject("agreement/ru-mos-kz-19-memorandum-2025");
  agreement.mutable_agreement_signed()->set_agreement_id("ru-mos-kz-19-memorandum-2025");
  const BatchResult result =
      Apply({Correction(kMosregSource, "mosreg-2025-10-wrong-type-correction", kMemorandumId,
                        agreement, Day(2025, 10, 5))});
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.corrections, 0);
  EXPECT_EQ(Dump(kNotViews), before);
  EXPECT_TRUE(sql::IsNull(Row(kSelectEffective, kMemorandumId)[0]));
}

TEST_F(ProjectorTest, CorrectionOfAnUnknownEventIsInTheTimelineOnly) {
  ApplySeed();
  const std::string before = Dump(kNotViews);
  const BatchResult result =
      Apply({Correction(kMosregSource, "mosreg-2025-10-unknown-correction", "mosreg-no-such-event",
                        CorrectedSelyatinoPlan(), Day(2025, 10, 5))});
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.corrections, 0);
  EXPECT_EQ(Dump(kNotViews), before);
}

TEST_F(ProjectorTest, CorrectionFromAnotherSourceIsInTheTimelineOnly) {
  ApplySeed();
  const std::string before = Dump(kNotViews);
  const BatchResult result =
      Apply({Correction(kAkimatSource, "akimat-2025-10-foreign-correction", kSelyatinoPlanId,
                        CorrectedSelyatinoPlan(), Day(2025, 10, 5))});
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.corrections, 0);
  EXPECT_EQ(Dump(kNotViews), before);
  EXPECT_TRUE(sql::IsNull(Row(kSelectEffective, kSelyatinoPlanId)[0]));
}

TEST_F(ProjectorTest, CorrectionWithAnotherSubjectIsInTheTimelineOnly) {
  ApplySeed();
  const std::string before = Dump(kNotViews);
  v1::Event moved = CorrectedSelyatinoPlan();
  moved.set_subject("hub/selyatino-2");
  moved.mutable_hub_milestone()->set_hub_id("selyatino-2");
  const BatchResult result = Apply({Correction(kMosregSource, "mosreg-2025-10-moved-correction",
                                               kSelyatinoPlanId, moved, Day(2025, 10, 5))});
  EXPECT_EQ(result.corrections, 0);
  EXPECT_EQ(Dump(kNotViews), before);
}

TEST_F(ProjectorTest, LatestCorrectionWins) {
  ApplySeed();
  Apply({Correction(kMosregSource, "mosreg-2026-03-selyatino-correction-1", kSelyatinoPlanId,
                    CorrectedSelyatinoPlan(1'600), Day(2026, 3, 1))});
  Apply({Correction(kMosregSource, "mosreg-2026-03-selyatino-correction-2", kSelyatinoPlanId,
                    CorrectedSelyatinoPlan(1'700), Day(2026, 3, 2))});
  EXPECT_EQ(Load<v1::Hub>(kSelectHub, "selyatino").jobs(), 1'700);
  EXPECT_EQ(
      sql::AsString(Row("SELECT corrected_by_id FROM events WHERE id = $1", kSelyatinoPlanId)[0]),
      "mosreg-2026-03-selyatino-correction-2");
  v1::Event effective = Load<v1::Event>(kSelectEffective, kSelyatinoPlanId);
  EXPECT_EQ(effective.hub_milestone().jobs(), 1'700);
  EXPECT_EQ(Load<v1::Event>(kSelectEvent, kSelyatinoPlanId).hub_milestone().jobs(), 1'500);
}

TEST_F(ProjectorTest, OneBatchAndOneEventPerBatchGiveTheSameTables) {
  const std::vector<LogEvent> log_events = log_.Append(EverythingLog());
  absl::StatusOr<BatchResult> batched = ApplyAsOneBatch(*projector_, log_events);
  ASSERT_TRUE(batched.ok()) << batched.status();

  std::unique_ptr<sql::Connection> other = OpenTempDatabase();
  ASSERT_NE(other, nullptr);
  Projector one_by_one_projector(*other);
  absl::StatusOr<BatchResult> one_by_one = ApplyOneByOne(one_by_one_projector, log_events);
  ASSERT_TRUE(one_by_one.ok()) << one_by_one.status();

  EXPECT_EQ(batched->applied, one_by_one->applied);
  EXPECT_EQ(batched->duplicates, 1);
  EXPECT_EQ(one_by_one->duplicates, 1);
  EXPECT_EQ(batched->corrections, 2);
  EXPECT_EQ(one_by_one->corrections, 2);
  absl::StatusOr<std::string> expected = DumpTables(*other, {"schema_migrations"});
  ASSERT_TRUE(expected.ok()) << expected.status();
  const std::string actual = Dump({"schema_migrations"});
  EXPECT_THAT(actual, HasSubstr("ТЛЦ «Селятино»"));
  EXPECT_EQ(actual, *expected);
}

TEST_F(ProjectorTest, ApplyBatchMovesThePositionsOfThePartitionsInTheBatch) {
  const std::vector<LogEvent> seed = log_.Append(SeedEvents());
  ASSERT_TRUE(ApplyAsOneBatch(*projector_, seed).ok());
  std::map<int32_t, int64_t> expected = {{0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}};
  for (const LogEvent& e : seed) expected[e.partition] = e.offset + 1;
  EXPECT_EQ(projector_->LoadPositions().value(), expected);
}

TEST_F(ProjectorTest, BatchMayMoveAPartitionWithoutEvents) {
  absl::StatusOr<BatchResult> result = projector_->ApplyBatch({}, {{4, {.from = 0, .to = 7}}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->applied, 0);
  EXPECT_EQ(projector_->LoadPositions().value().at(4), 7);
}

TEST_F(ProjectorTest, BatchFromAMovedPositionIsAbortedAndChangesNothing) {
  ApplySeed();
  const std::string before = Dump();
  const std::vector<LogEvent> batch = log_.Append(
      {SelyatinoFollowUps()[0], Amendment("mosreg-2025-10-selyatino-in-force", "selyatino-hub-2024",
                                          v1::AGREEMENT_STATUS_IN_FORCE, Day(2025, 10, 1))});
  ASSERT_NE(batch[0].partition, batch[1].partition);
  const std::map<int32_t, int64_t> positions = projector_->LoadPositions().value();
  std::map<int32_t, PartitionAdvance> advance = AdvanceOver(batch, positions);
  // The second partition has moved on meanwhile (another instance applied a record).
  advance[batch[1].partition].from += 1;
  absl::StatusOr<BatchResult> result = projector_->ApplyBatch(batch, advance);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
  EXPECT_EQ(Dump(), before);
}

}  // namespace
}  // namespace coop::views

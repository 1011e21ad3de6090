// The read queries of the views (view_queries.h) over a generation database filled by the
// projector from the seed data set and events built here.
//
// One source, two binaries: view_queries_test runs on SQLite (a temporary file per test, label
// unit); view_queries_postgres_test defines COOP_VIEWS_TEST_ON_POSTGRES and runs the same tests
// on PostgreSQL (a schema per test, label integration), where the fixture is renamed so that the
// two sets of test names differ.
#include "consumers/views/view_queries.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/cursor/cursor_token.h"
#include "common/rpc/status_conversion.h"
#include "consumers/views/projector.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/errors.pb.h"
#include "coop/v1/views.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/testing/postgres_env.h"
#include "tests/testing/seed_events.h"

#ifdef COOP_VIEWS_TEST_ON_POSTGRES
#define ViewQueriesTest ViewReadsOnPostgresTest
#endif

namespace coop::views {
namespace {

using ::coop::testing::kAkimatSource;
using ::coop::testing::kMosregSource;
using ::coop::testing::SeedEvents;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;
using namespace ::coop::views::testing;  // NOLINT(build/namespaces): the shared test helpers.

namespace v1 = ::coop::v1;

const cursor::LogId kLog = {.cluster_id = kClusterId, .topic = kTopic};

// The seed events are recorded from 2025-09-10 09:00 UTC, one minute apart.
const absl::Time kSeedStart =
    absl::FromCivil(absl::CivilSecond(2025, 9, 10, 9, 0, 0), absl::UTCTimeZone());

std::vector<std::pair<std::string, std::string>> Violations(const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> violations;
  const auto payload = status.GetPayload(rpc::kBadRequestTypeUrl);
  if (!payload.has_value()) return violations;
  v1::BadRequest bad_request;
  bad_request.ParseFromString(std::string(*payload));
  for (const v1::FieldViolation& v : bad_request.field_violations()) {
    violations.emplace_back(v.field(), v.description());
  }
  return violations;
}

std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& [field, description] : Violations(status)) fields.push_back(field);
  return fields;
}

v1::RegionRef Region(const std::string& code) {
  v1::RegionRef region;
  region.set_code(code);
  return region;
}

v1::PartialDate Date(int year, int month = 0, int day = 0) {
  v1::PartialDate date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::Period PeriodOf(v1::PartialDate start, std::optional<v1::PartialDate> end = std::nullopt) {
  v1::Period period;
  *period.mutable_start() = std::move(start);
  if (end.has_value()) *period.mutable_end() = *std::move(end);
  return period;
}

v1::Money Money(const std::string& currency, int64_t units, int32_t nanos = 0) {
  v1::Money money;
  money.set_currency_code(currency);
  money.set_units(units);
  money.set_nanos(nanos);
  return money;
}

google::protobuf::Timestamp Timestamp(absl::Time time) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(time));
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(absl::ToUnixSeconds(time)))));
  return ts;
}

// A trade update of Moscow Oblast with Kazakhstan, recorded at `recorded`.
v1::Event Trade(const std::string& id, v1::TradeDirection direction, const std::string& hs_code,
                v1::Period period, std::vector<v1::Money> values, absl::Time recorded) {
  v1::Event event;
  event.set_id(id);
  event.set_source(kMosregSource);
  event.set_type("coop.v1.TradeUpdate");
  event.set_subject("regions/KZ:RU-MOS");
  event.set_schema_version(1);
  v1::TradeUpdate& trade = *event.mutable_trade_update();
  *trade.mutable_reporting_region() = Region("RU-MOS");
  *trade.mutable_partner_region() = Region("KZ");
  *trade.mutable_period() = std::move(period);
  trade.set_direction(direction);
  trade.mutable_category()->set_name(absl::StrCat("товары ", hs_code));
  trade.mutable_category()->set_hs_code(hs_code);
  if (!values.empty()) *trade.mutable_value() = values[0];
  return RecordedAt(std::move(event), recorded);
}

// One more TradeUpdate of the same row, setting another currency's value.
v1::Event TradeValue(const v1::Event& row_event, const std::string& id, v1::Money value,
                     absl::Time recorded) {
  v1::Event event = row_event;
  event.set_id(id);
  *event.mutable_trade_update()->mutable_value() = std::move(value);
  return RecordedAt(std::move(event), recorded);
}

// A hub in `region` with an investment, published by Moscow Oblast.
v1::Event HubWithInvestment(const std::string& hub_id, const std::string& region,
                            std::optional<v1::Money> investment, absl::Time recorded) {
  v1::Event event = SeedEvent(kSelyatinoPlanId);
  event.set_id(absl::StrCat("mosreg-", hub_id, "-planned"));
  event.set_subject(absl::StrCat("hub/", hub_id));
  v1::HubMilestone& hub = *event.mutable_hub_milestone();
  hub.set_hub_id(hub_id);
  *hub.mutable_location()->mutable_region() = Region(region);
  hub.clear_agreement_ids();
  if (investment.has_value()) {
    *hub.mutable_investment() = *investment;
  } else {
    hub.clear_investment();
  }
  return RecordedAt(std::move(event), recorded);
}

class ViewQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef COOP_VIEWS_TEST_ON_POSTGRES
    const std::string url = coop::testing::PostgresUrlOrFail();
    ASSERT_FALSE(url.empty());
    schema_ = coop::testing::UniqueSchemaName();
    absl::StatusOr<std::unique_ptr<sql::Connection>> db = sql::OpenPostgres(url, schema_);
#else
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(::testing::TempDir(), "view_queries_test_", getpid(), "_", info->name(),
                         ".db");
    absl::StatusOr<std::unique_ptr<sql::Connection>> db = sql::OpenSqlite(path_);
#endif
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(SetUpViews(*db_).ok());
    projector_ = std::make_unique<Projector>(*db_);
  }

  void TearDown() override {
    projector_.reset();
#ifdef COOP_VIEWS_TEST_ON_POSTGRES
    if (db_ != nullptr) {
      EXPECT_TRUE(db_->ExecuteScript(absl::StrCat("DROP SCHEMA ", schema_, " CASCADE")).ok());
    }
    db_.reset();
#else
    db_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
#endif
  }

  void Apply(const std::vector<v1::Event>& events) {
    const std::vector<LogEvent> log_events = log_.Append(events);
    absl::StatusOr<BatchResult> result = ApplyAsOneBatch(*projector_, log_events);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  void ApplySeed() { Apply(SeedEvents(kSeedStart)); }

  std::vector<std::string> AgreementIds(const v1::ListAgreementsRequest& request) {
    absl::StatusOr<v1::ListAgreementsResponse> response = ListAgreements(*db_, request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::string> ids;
    if (!response.ok()) return ids;
    EXPECT_THAT(response->next_page_token(), IsEmpty());
    for (const v1::Agreement& a : response->agreements()) ids.push_back(a.agreement_id());
    return ids;
  }

  std::vector<std::string> HubIds(const v1::ListHubsRequest& request) {
    absl::StatusOr<v1::ListHubsResponse> response = ListHubs(*db_, request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::string> ids;
    if (!response.ok()) return ids;
    EXPECT_THAT(response->next_page_token(), IsEmpty());
    for (const v1::Hub& hub : response->hubs()) ids.push_back(hub.hub_id());
    return ids;
  }

  // "direction/category" of each row.
  std::vector<std::string> TradeRowNames(const v1::ListTradeRowsRequest& request) {
    absl::StatusOr<v1::ListTradeRowsResponse> response = ListTradeRows(*db_, request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::string> names;
    if (!response.ok()) return names;
    EXPECT_THAT(response->next_page_token(), IsEmpty());
    for (const v1::TradeRow& row : response->rows()) {
      names.push_back(absl::StrCat(
          v1::TradeDirection_Name(row.direction()), "/",
          row.category().hs_code().empty() ? row.category().name() : row.category().hs_code()));
    }
    return names;
  }

  // Every entry id of the timeline through all its pages, and how many pages it took.
  std::vector<std::string> TimelineIds(v1::ListTimelineRequest request, int* pages = nullptr,
                                       const QueryLimits& limits = {}) {
    std::vector<std::string> ids;
    for (int page = 1; page <= 100; ++page) {
      absl::StatusOr<v1::ListTimelineResponse> response = ListTimeline(*db_, kLog, request, limits);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      for (const v1::TimelineEntry& entry : response->entries()) ids.push_back(entry.event().id());
      if (response->next_page_token().empty()) {
        if (pages != nullptr) *pages = page;
        break;
      }
      request.set_page_token(response->next_page_token());
    }
    return ids;
  }

#ifdef COOP_VIEWS_TEST_ON_POSTGRES
  std::string schema_;
#else
  std::string path_;
#endif
  std::unique_ptr<sql::Connection> db_;
  std::unique_ptr<Projector> projector_;
  TestLog log_;
};

// ---- Agreements

TEST_F(ViewQueriesTest, GetAgreementReturnsTheStoredAgreement) {
  ApplySeed();
  v1::GetAgreementRequest request;
  request.set_agreement_id("selyatino-hub-2024");
  absl::StatusOr<v1::GetAgreementResponse> response = GetAgreement(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->agreement().agreement_id(), "selyatino-hub-2024");
  EXPECT_EQ(response->agreement().form(), v1::AGREEMENT_FORM_AGREEMENT);
  EXPECT_EQ(response->agreement().laterality(), v1::LATERALITY_TRILATERAL);
  EXPECT_THAT(response->agreement().hub_ids(), ElementsAre("selyatino"));
  EXPECT_EQ(response->agreement().signed_event().id(), kSelyatinoAgreementId);
  EXPECT_TRUE(response->cursor().empty());
}

TEST_F(ViewQueriesTest, GetAgreementOfAnUnknownIdIsNotFound) {
  ApplySeed();
  v1::GetAgreementRequest request;
  request.set_agreement_id("no-such-agreement");
  absl::StatusOr<v1::GetAgreementResponse> response = GetAgreement(*db_, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "agreement 'no-such-agreement' not found");
}

TEST_F(ViewQueriesTest, GetAgreementRejectsAnIdThatIsNotASlug) {
  v1::GetAgreementRequest request;
  request.set_agreement_id("Selyatino_2024");
  absl::StatusOr<v1::GetAgreementResponse> response = GetAgreement(*db_, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(response.status()), ElementsAre("agreement_id"));
  request.clear_agreement_id();
  EXPECT_THAT(Violations(GetAgreement(*db_, request).status()),
              ElementsAre(Pair("agreement_id", HasSubstr("required"))));
}

TEST_F(ViewQueriesTest, ListAgreementsOrdersBySigningDateThenId) {
  ApplySeed();
  EXPECT_THAT(
      AgreementIds(v1::ListAgreementsRequest()),
      ElementsAre("selyatino-hub-2024", "almaty-agrohub-2025", "ru-mos-kz-19-memorandum-2025"));
}

TEST_F(ViewQueriesTest, ListAgreementsByRegionMatchesACountryAndItsSubdivisions) {
  ApplySeed();
  v1::ListAgreementsRequest request;
  *request.mutable_region() = Region("KZ-19");
  EXPECT_THAT(AgreementIds(request),
              ElementsAre("almaty-agrohub-2025", "ru-mos-kz-19-memorandum-2025"));
  *request.mutable_region() = Region("KZ");
  EXPECT_THAT(AgreementIds(request), SizeIs(3));
  *request.mutable_region() = Region("RU");
  EXPECT_THAT(AgreementIds(request), SizeIs(3));
  *request.mutable_region() = Region("RU-MOW");
  EXPECT_THAT(AgreementIds(request), IsEmpty());
}

TEST_F(ViewQueriesTest, ListAgreementsFiltersByPartyHubAreaAndStatus) {
  ApplySeed();
  v1::ListAgreementsRequest by_party;
  by_party.set_party_id("kz-samruk-kazyna");
  EXPECT_THAT(AgreementIds(by_party), ElementsAre("selyatino-hub-2024"));
  v1::ListAgreementsRequest by_hub;
  by_hub.set_hub_id("almaty-agrohub");
  EXPECT_THAT(AgreementIds(by_hub), ElementsAre("almaty-agrohub-2025"));
  v1::ListAgreementsRequest by_area;
  by_area.set_area(v1::COOPERATION_AREA_CULTURE);
  EXPECT_THAT(AgreementIds(by_area), ElementsAre("ru-mos-kz-19-memorandum-2025"));
  by_area.set_area(v1::COOPERATION_AREA_LOGISTICS);
  EXPECT_THAT(AgreementIds(by_area), SizeIs(3));

  Apply({Amendment("mosreg-memorandum-in-force", "ru-mos-kz-19-memorandum-2025",
                   v1::AGREEMENT_STATUS_IN_FORCE, kSeedStart + absl::Hours(1))});
  v1::ListAgreementsRequest by_status;
  by_status.set_status(v1::AGREEMENT_STATUS_IN_FORCE);
  EXPECT_THAT(AgreementIds(by_status), ElementsAre("ru-mos-kz-19-memorandum-2025"));
  by_status.set_status(v1::AGREEMENT_STATUS_SIGNED);
  EXPECT_THAT(AgreementIds(by_status), ElementsAre("selyatino-hub-2024", "almaty-agrohub-2025"));
  // All filters together must match.
  by_status.set_party_id("kz-tlc-alatau");
  *by_status.mutable_region() = Region("KZ-19");
  EXPECT_THAT(AgreementIds(by_status), ElementsAre("almaty-agrohub-2025"));
}

TEST_F(ViewQueriesTest, ListAgreementsSignedWithinSelectsOverlappingSigningDates) {
  ApplySeed();
  v1::ListAgreementsRequest request;
  *request.mutable_signed_within() = PeriodOf(Date(2024));
  EXPECT_THAT(AgreementIds(request), ElementsAre("selyatino-hub-2024"));
  // signed_on June 2024 overlaps a period that ends on its first day.
  *request.mutable_signed_within() = PeriodOf(Date(2023, 1), Date(2024, 6, 1));
  EXPECT_THAT(AgreementIds(request), ElementsAre("selyatino-hub-2024"));
  *request.mutable_signed_within() = PeriodOf(Date(2025, 9, 10));
  EXPECT_THAT(AgreementIds(request),
              ElementsAre("almaty-agrohub-2025", "ru-mos-kz-19-memorandum-2025"));
  *request.mutable_signed_within() = PeriodOf(Date(2025, 9, 11), Date(2026));
  EXPECT_THAT(AgreementIds(request), IsEmpty());
}

TEST_F(ViewQueriesTest, ListAgreementsReportsEveryBadFilter) {
  v1::ListAgreementsRequest request;
  *request.mutable_region() = Region("Moscow");
  request.set_party_id("Bad_Party");
  request.set_hub_id("-hub");
  request.set_status(static_cast<v1::AgreementStatus>(99));
  *request.mutable_signed_within() = PeriodOf(Date(1800, 2, 30), Date(2024, 13));
  request.set_area(static_cast<v1::CooperationArea>(77));
  request.set_page_size(-1);
  absl::StatusOr<v1::ListAgreementsResponse> response = ListAgreements(*db_, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(response.status()),
              ElementsAre("region.code", "party_id", "hub_id", "status", "signed_within.start.year",
                          "signed_within.end.month", "area", "page_size"));
}

TEST_F(ViewQueriesTest, PeriodEndingBeforeItStartsIsRejected) {
  v1::ListAgreementsRequest request;
  *request.mutable_signed_within() = PeriodOf(Date(2025, 3), Date(2025, 2, 28));
  EXPECT_THAT(Violations(ListAgreements(*db_, request).status()),
              ElementsAre(Pair("signed_within.end", HasSubstr("must not end before"))));
  *request.mutable_signed_within() = PeriodOf(Date(2023, 2, 29));
  EXPECT_THAT(Violations(ListAgreements(*db_, request).status()),
              ElementsAre(Pair("signed_within.start.day", HasSubstr("1..28"))));
  request.mutable_signed_within()->clear_start();
  EXPECT_THAT(ViolatedFields(ListAgreements(*db_, request).status()),
              ElementsAre("signed_within.start"));
}

TEST_F(ViewQueriesTest, ListAgreementsPagesThroughRowsWithTheSameSigningDate) {
  // 25 agreements signed on one day: the id breaks the tie, and pages of 10 neither skip nor
  // repeat any.
  std::vector<v1::Event> events;
  for (int i = 0; i < 25; ++i) {
    v1::Event event = SeedEvent(kSelyatinoAgreementId);
    const std::string id = absl::StrFormat("agreement-%02d", 24 - i);
    event.set_id(absl::StrCat("mosreg-", id));
    event.set_subject(absl::StrCat("agreement/", id));
    event.mutable_agreement_signed()->set_agreement_id(id);
    events.push_back(RecordedAt(std::move(event), kSeedStart + absl::Seconds(i)));
  }
  Apply(events);
  v1::ListAgreementsRequest request;
  request.set_page_size(10);
  std::vector<std::string> ids;
  int pages = 0;
  do {
    absl::StatusOr<v1::ListAgreementsResponse> response = ListAgreements(*db_, request);
    ASSERT_TRUE(response.ok()) << response.status();
    ++pages;
    for (const v1::Agreement& a : response->agreements()) ids.push_back(a.agreement_id());
    request.set_page_token(response->next_page_token());
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) expected.push_back(absl::StrFormat("agreement-%02d", i));
  EXPECT_THAT(ids, ElementsAreArray(expected));
}

// ---- Hubs

TEST_F(ViewQueriesTest, GetHubUnitesTheAgreementsOfMilestonesAndOfAgreements) {
  ApplySeed();
  // An agreement naming the hub that no milestone names.
  v1::Event extra = SeedEvent(kSelyatinoAgreementId);
  extra.set_id("mosreg-2025-selyatino-phase-2-agreement");
  extra.set_subject("agreement/selyatino-phase-2");
  extra.mutable_agreement_signed()->set_agreement_id("selyatino-phase-2");
  Apply({RecordedAt(extra, kSeedStart + absl::Hours(1))});

  v1::GetHubRequest request;
  request.set_hub_id("selyatino");
  absl::StatusOr<v1::GetHubResponse> response = GetHub(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->hub().name(), "ТЛЦ «Селятино»");
  EXPECT_EQ(response->hub().status(), v1::HUB_STATUS_PLANNED);
  EXPECT_THAT(response->hub().agreement_ids(),
              ElementsAre("selyatino-hub-2024", "selyatino-phase-2"));
  EXPECT_THAT(response->hub().milestones(), SizeIs(1));
}

TEST_F(ViewQueriesTest, GetHubOfAnUnknownIdIsNotFound) {
  ApplySeed();
  v1::GetHubRequest request;
  request.set_hub_id("kashira");
  absl::StatusOr<v1::GetHubResponse> response = GetHub(*db_, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "hub 'kashira' not found");
}

TEST_F(ViewQueriesTest, ListHubsFiltersByRegionPartyKindAndStatus) {
  ApplySeed();
  EXPECT_THAT(HubIds(v1::ListHubsRequest()),
              ElementsAre("alatau-hub", "almaty-agrohub", "selyatino"));
  v1::ListHubsRequest by_region;
  *by_region.mutable_region() = Region("KZ");
  EXPECT_THAT(HubIds(by_region), ElementsAre("alatau-hub", "almaty-agrohub"));
  *by_region.mutable_region() = Region("RU-MOS");
  EXPECT_THAT(HubIds(by_region), ElementsAre("selyatino"));
  *by_region.mutable_region() = Region("RU-MOW");
  EXPECT_THAT(HubIds(by_region), IsEmpty());
  v1::ListHubsRequest by_party;
  by_party.set_party_id("kz-ktz");
  EXPECT_THAT(HubIds(by_party), ElementsAre("selyatino"));
  v1::ListHubsRequest by_kind;
  by_kind.set_kind(v1::HUB_KIND_AGRO);
  EXPECT_THAT(HubIds(by_kind), ElementsAre("almaty-agrohub"));
  v1::ListHubsRequest by_status;
  by_status.set_status(v1::HUB_STATUS_ANNOUNCED);
  *by_status.mutable_region() = Region("KZ-19");
  EXPECT_THAT(HubIds(by_status), ElementsAre("alatau-hub", "almaty-agrohub"));
  by_status.set_kind(v1::HUB_KIND_INNOVATION);
  EXPECT_THAT(HubIds(by_status), ElementsAre("alatau-hub"));
}

TEST_F(ViewQueriesTest, ListHubsCarriesTheAgreementsNamingEachHub) {
  ApplySeed();
  v1::ListHubsRequest request;
  request.set_kind(v1::HUB_KIND_LOGISTICS);
  absl::StatusOr<v1::ListHubsResponse> response = ListHubs(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_THAT(response->hubs(), SizeIs(1));
  EXPECT_THAT(response->hubs(0).agreement_ids(), ElementsAre("selyatino-hub-2024"));
}

TEST_F(ViewQueriesTest, ListHubsRejectsUnknownEnums) {
  v1::ListHubsRequest request;
  request.set_kind(static_cast<v1::HubKind>(42));
  request.set_status(static_cast<v1::HubStatus>(-1));
  EXPECT_THAT(ViolatedFields(ListHubs(*db_, request).status()), ElementsAre("kind", "status"));
}

// ---- Trade

TEST_F(ViewQueriesTest, ListTradeRowsOrdersByTheRowKey) {
  ApplySeed();
  EXPECT_THAT(TradeRowNames(v1::ListTradeRowsRequest()),
              ElementsAre("TRADE_DIRECTION_EXPORT/30", "TRADE_DIRECTION_EXPORT/33",
                          "TRADE_DIRECTION_EXPORT/34", "TRADE_DIRECTION_EXPORT/39",
                          "TRADE_DIRECTION_EXPORT/8708",
                          "TRADE_DIRECTION_EXPORT/продукция машиностроения и металлообработки",
                          "TRADE_DIRECTION_TURNOVER/"));
}

TEST_F(ViewQueriesTest, ListTradeRowsFilters) {
  ApplySeed();
  v1::ListTradeRowsRequest by_direction;
  by_direction.set_direction(v1::TRADE_DIRECTION_TURNOVER);
  EXPECT_THAT(TradeRowNames(by_direction), ElementsAre("TRADE_DIRECTION_TURNOVER/"));
  v1::ListTradeRowsRequest by_prefix;
  by_prefix.set_hs_code_prefix("87");
  EXPECT_THAT(TradeRowNames(by_prefix), ElementsAre("TRADE_DIRECTION_EXPORT/8708"));
  by_prefix.set_hs_code_prefix("3304");
  EXPECT_THAT(TradeRowNames(by_prefix), IsEmpty());
  v1::ListTradeRowsRequest by_name;
  by_name.set_category_name("полимеры");
  EXPECT_THAT(TradeRowNames(by_name), ElementsAre("TRADE_DIRECTION_EXPORT/39"));
  v1::ListTradeRowsRequest by_period;
  *by_period.mutable_period() = PeriodOf(Date(2022, 3));
  EXPECT_THAT(TradeRowNames(by_period), ElementsAre("TRADE_DIRECTION_TURNOVER/"));
  *by_period.mutable_period() = PeriodOf(Date(2026));
  EXPECT_THAT(TradeRowNames(by_period), IsEmpty());
}

TEST_F(ViewQueriesTest, ListTradeRowsByRegionMatchesEitherSideAndCountries) {
  ApplySeed();
  v1::ListTradeRowsRequest request;
  for (const char* code : {"KZ", "RU", "RU-MOS"}) {
    *request.mutable_region() = Region(code);
    EXPECT_THAT(TradeRowNames(request), SizeIs(7)) << code;
  }
  for (const char* code : {"KZ-19", "RU-MOW", "CN"}) {
    *request.mutable_region() = Region(code);
    EXPECT_THAT(TradeRowNames(request), IsEmpty()) << code;
  }
  // The partner side alone: Almaty Region reporting on trade with Moscow Oblast is found by
  // RU-MOS as partner, and merged in key order with the rows RU-MOS reports.
  v1::Event reverse = Trade("akimat-2025-import-ru-mos", v1::TRADE_DIRECTION_IMPORT, "0401",
                            PeriodOf(Date(2025)), {Money("KZT", 5)}, kSeedStart + absl::Hours(1));
  reverse.set_source(kAkimatSource);
  reverse.set_subject("regions/KZ-19:RU-MOS");
  *reverse.mutable_trade_update()->mutable_reporting_region() = Region("KZ-19");
  *reverse.mutable_trade_update()->mutable_partner_region() = Region("RU-MOS");
  Apply({reverse});
  *request.mutable_region() = Region("RU-MOS");
  request.set_direction(v1::TRADE_DIRECTION_IMPORT);
  EXPECT_THAT(TradeRowNames(request), ElementsAre("TRADE_DIRECTION_IMPORT/0401"));
  request.clear_direction();
  const std::vector<std::string> rows = TradeRowNames(request);
  ASSERT_THAT(rows, SizeIs(8));
  EXPECT_EQ(rows[0], "TRADE_DIRECTION_IMPORT/0401");  // "KZ-19..." sorts before "RU-MOS...".
  *request.mutable_region() = Region("KZ-19");
  EXPECT_THAT(TradeRowNames(request), ElementsAre("TRADE_DIRECTION_IMPORT/0401"));
}

TEST_F(ViewQueriesTest, ListTradeRowsPagesThrough250RowsWithoutGapsOrRepeats) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 250; ++i) {
    events.push_back(Trade(absl::StrCat("mosreg-export-", i), v1::TRADE_DIRECTION_EXPORT,
                           absl::StrFormat("%04d", 1000 + i), PeriodOf(Date(2025)),
                           {Money("RUB", i + 1)}, kSeedStart + absl::Seconds(i)));
  }
  Apply(events);
  v1::ListTradeRowsRequest request;
  *request.mutable_region() = Region("KZ");  // Two streams, merged.
  request.set_page_size(100);
  std::vector<std::string> codes;
  std::vector<int> page_sizes;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ListTradeRowsResponse> response = ListTradeRows(*db_, request);
    ASSERT_TRUE(response.ok()) << response.status();
    page_sizes.push_back(response->rows_size());
    for (const v1::TradeRow& row : response->rows()) codes.push_back(row.category().hs_code());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(page_sizes, ElementsAre(100, 100, 50));
  std::vector<std::string> expected;
  for (int i = 0; i < 250; ++i) expected.push_back(absl::StrFormat("%04d", 1000 + i));
  EXPECT_THAT(codes, ElementsAreArray(expected));
}

TEST_F(ViewQueriesTest, PageSizeZeroMeansOneHundredAndLargeSizesAreCapped) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 150; ++i) {
    events.push_back(Trade(absl::StrCat("mosreg-export-", i), v1::TRADE_DIRECTION_EXPORT,
                           absl::StrFormat("%04d", 1000 + i), PeriodOf(Date(2025)), {},
                           kSeedStart + absl::Seconds(i)));
  }
  Apply(events);
  v1::ListTradeRowsRequest request;
  absl::StatusOr<v1::ListTradeRowsResponse> response = ListTradeRows(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->rows_size(), 100);
  EXPECT_FALSE(response->next_page_token().empty());
  request.set_page_size(1'000'000);
  response = ListTradeRows(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->rows_size(), 150);
  EXPECT_TRUE(response->next_page_token().empty());
}

TEST_F(ViewQueriesTest, MalformedPageTokenIsInvalidArgument) {
  v1::ListTradeRowsRequest request;
  request.set_page_token("not a token!");
  absl::StatusOr<v1::ListTradeRowsResponse> response = ListTradeRows(*db_, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Violations(response.status()),
              ElementsAre(Pair("page_token", HasSubstr("malformed"))));
  request.set_page_token("cAEAAAAAAAAAAA");  // Valid base64url, truncated contents.
  EXPECT_THAT(Violations(ListTradeRows(*db_, request).status()),
              ElementsAre(Pair("page_token", HasSubstr("malformed"))));
}

TEST_F(ViewQueriesTest, PageTokenOfAnotherRequestIsRejected) {
  ApplySeed();
  v1::ListTradeRowsRequest request;
  request.set_direction(v1::TRADE_DIRECTION_EXPORT);
  request.set_page_size(2);
  absl::StatusOr<v1::ListTradeRowsResponse> first = ListTradeRows(*db_, request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(first->next_page_token().empty());

  // page_size and min_position may change between pages.
  v1::ListTradeRowsRequest next = request;
  next.set_page_token(first->next_page_token());
  next.set_page_size(3);
  next.set_min_position(cursor::EncodePosition(kLog, 0, 5));
  EXPECT_TRUE(ListTradeRows(*db_, next).ok());

  next.set_direction(v1::TRADE_DIRECTION_IMPORT);
  absl::StatusOr<v1::ListTradeRowsResponse> changed = ListTradeRows(*db_, next);
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Violations(changed.status()),
              ElementsAre(Pair("page_token", HasSubstr("does not belong to this request"))));

  // Nor is a token of another list call accepted.
  v1::ListHubsRequest hubs;
  hubs.set_page_token(first->next_page_token());
  EXPECT_THAT(Violations(ListHubs(*db_, hubs).status()),
              ElementsAre(Pair("page_token", HasSubstr("does not belong to this request"))));
}

TEST_F(ViewQueriesTest, ListTradeRowsReportsEveryBadFilter) {
  v1::ListTradeRowsRequest request;
  *request.mutable_region() = Region("kz");
  request.set_direction(static_cast<v1::TradeDirection>(9));
  request.set_hs_code_prefix("3");
  request.set_category_name(" полимеры");
  *request.mutable_period() = PeriodOf(Date(2025, 2, 29));
  EXPECT_THAT(ViolatedFields(ListTradeRows(*db_, request).status()),
              ElementsAre("region.code", "direction", "hs_code_prefix", "category_name",
                          "period.start.day"));
  request.Clear();
  request.set_hs_code_prefix("33a4");
  request.set_category_name(std::string(301, 'x'));
  EXPECT_THAT(ViolatedFields(ListTradeRows(*db_, request).status()),
              ElementsAre("hs_code_prefix", "category_name"));
}

TEST_F(ViewQueriesTest, TradeRowsCarryGrowthAgainstThePreviousPeriod) {
  const v1::Event y2024 = Trade("mosreg-wine-2024", v1::TRADE_DIRECTION_EXPORT, "2204",
                                PeriodOf(Date(2024)), {Money("USD", 100)}, kSeedStart);
  const v1::Event y2025 =
      Trade("mosreg-wine-2025", v1::TRADE_DIRECTION_EXPORT, "2204", PeriodOf(Date(2025)),
            {Money("USD", 150, 500'000'000)}, kSeedStart + absl::Minutes(1));
  const v1::Event q1 = Trade("mosreg-wine-2025-q1", v1::TRADE_DIRECTION_EXPORT, "2204",
                             PeriodOf(Date(2025, 1), Date(2025, 3)), {Money("KZT", 0)},
                             kSeedStart + absl::Minutes(2));
  const v1::Event q2 = Trade("mosreg-wine-2025-q2", v1::TRADE_DIRECTION_EXPORT, "2204",
                             PeriodOf(Date(2025, 4), Date(2025, 6)), {Money("KZT", 7)},
                             kSeedStart + absl::Minutes(3));
  Apply({y2024, y2025, q1, q2,
         TradeValue(y2024, "mosreg-wine-2024-rub", Money("RUB", 0), kSeedStart + absl::Minutes(4)),
         TradeValue(y2025, "mosreg-wine-2025-rub", Money("RUB", 9), kSeedStart + absl::Minutes(5)),
         TradeValue(y2025, "mosreg-wine-2025-cny", Money("CNY", 3), kSeedStart + absl::Minutes(6)),
         // Same category, other direction: not the previous period of the exports.
         Trade("mosreg-wine-import-2024", v1::TRADE_DIRECTION_IMPORT, "2204", PeriodOf(Date(2024)),
               {Money("CNY", 1)}, kSeedStart + absl::Minutes(7))});

  v1::ListTradeRowsRequest request;
  request.set_direction(v1::TRADE_DIRECTION_EXPORT);
  absl::StatusOr<v1::ListTradeRowsResponse> response = ListTradeRows(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  // Rows by period start: 2024, 2025 (2025-01-01, "2025" < "2025-01..2025-03"), Q1, Q2.
  ASSERT_THAT(response->rows(), SizeIs(4));
  const v1::TradeRow& row2024 = response->rows(0);
  const v1::TradeRow& row2025 = response->rows(1);
  const v1::TradeRow& q1_row = response->rows(2);
  const v1::TradeRow& q2_row = response->rows(3);
  EXPECT_EQ(row2024.period().start().year(), 2024);
  EXPECT_THAT(row2024.growth_vs_previous(), IsEmpty());
  EXPECT_THAT(q1_row.growth_vs_previous(), IsEmpty());  // No 2024-10..2024-12 row.

  ASSERT_THAT(row2025.growth_vs_previous(), SizeIs(2));  // CNY has no 2024 value.
  const v1::PeriodGrowth& rub = row2025.growth_vs_previous(0);
  EXPECT_EQ(rub.currency_code(), "RUB");
  EXPECT_FALSE(rub.has_ratio());  // The previous value is zero.
  EXPECT_EQ(rub.previous_value().units(), 0);
  EXPECT_EQ(rub.previous_period().start().year(), 2024);
  const v1::PeriodGrowth& usd = row2025.growth_vs_previous(1);
  EXPECT_EQ(usd.currency_code(), "USD");
  ASSERT_TRUE(usd.has_ratio());
  EXPECT_DOUBLE_EQ(usd.ratio(), 1.505);
  EXPECT_EQ(usd.previous_value().units(), 100);

  ASSERT_THAT(q2_row.growth_vs_previous(), SizeIs(1));
  EXPECT_EQ(q2_row.growth_vs_previous(0).currency_code(), "KZT");
  EXPECT_FALSE(q2_row.growth_vs_previous(0).has_ratio());
  EXPECT_EQ(q2_row.growth_vs_previous(0).previous_period().start().month(), 1);
  EXPECT_EQ(q2_row.growth_vs_previous(0).previous_period().end().month(), 3);
}

// ---- Regions

TEST_F(ViewQueriesTest, GetRegionSummarizesASubdivision) {
  ApplySeed();
  v1::GetRegionRequest request;
  *request.mutable_region() = Region("KZ-19");
  absl::StatusOr<v1::GetRegionResponse> response = GetRegion(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  const v1::RegionSummary& summary = response->region();
  EXPECT_EQ(summary.region().code(), "KZ-19");
  EXPECT_THAT(summary.facts(), IsEmpty());
  EXPECT_THAT(summary.agreement_ids(),
              ElementsAre("almaty-agrohub-2025", "ru-mos-kz-19-memorandum-2025"));
  EXPECT_THAT(summary.hub_ids(), ElementsAre("alatau-hub", "almaty-agrohub"));
  EXPECT_THAT(summary.site_ids(), IsEmpty());
  ASSERT_THAT(summary.incentives(), SizeIs(1));
  EXPECT_EQ(summary.incentives(0).incentive_id(), "alatau-hub-rnd-tax-relief");
  ASSERT_THAT(summary.tourism_flows(), SizeIs(1));
  EXPECT_EQ(summary.tourism_flows(0).tourists().value(), 135'000);
  EXPECT_THAT(summary.committed_investment(), IsEmpty());
  // The last event naming KZ-19 is the tourism flow to it (seed event 21, at 09:20).
  EXPECT_EQ(summary.updated_time().seconds(), absl::ToUnixSeconds(kSeedStart + absl::Minutes(20)));
}

TEST_F(ViewQueriesTest, GetRegionOfACountryIncludesItsSubdivisions) {
  ApplySeed();
  v1::GetRegionRequest request;
  *request.mutable_region() = Region("KZ");
  absl::StatusOr<v1::GetRegionResponse> response = GetRegion(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  const v1::RegionSummary& summary = response->region();
  // Facts are the country's own, by kind.
  std::vector<v1::RegionFactKind> kinds;
  for (const v1::RegionFact& fact : summary.facts()) kinds.push_back(fact.kind());
  EXPECT_THAT(kinds, ElementsAre(v1::REGION_FACT_KIND_BORDER_REGION_COUNT,
                                 v1::REGION_FACT_KIND_BORDER_POPULATION,
                                 v1::REGION_FACT_KIND_BORDER_WORLD_RANK));
  EXPECT_EQ(summary.facts(0).value().value(), 7);
  EXPECT_THAT(summary.agreement_ids(), SizeIs(3));
  EXPECT_THAT(summary.hub_ids(), ElementsAre("alatau-hub", "almaty-agrohub"));
  EXPECT_THAT(summary.incentives(), SizeIs(1));
  // Flows to KZ, then to KZ-19.
  ASSERT_THAT(summary.tourism_flows(), SizeIs(2));
  EXPECT_EQ(summary.tourism_flows(0).destination().code(), "KZ");
  EXPECT_EQ(summary.tourism_flows(1).destination().code(), "KZ-19");
}

TEST_F(ViewQueriesTest, CommittedInvestmentSumsTheHubsPerCurrency) {
  ApplySeed();
  Apply({HubWithInvestment("kashira", "RU-MOS", Money("RUB", 1, 600'000'000),
                           kSeedStart + absl::Hours(1)),
         HubWithInvestment("dmitrov", "RU-MOS", Money("RUB", 2, 500'000'000),
                           kSeedStart + absl::Hours(1)),
         HubWithInvestment("kazan", "RU-TA", Money("USD", 10), kSeedStart + absl::Hours(1)),
         HubWithInvestment("podolsk", "RU-MOS", std::nullopt, kSeedStart + absl::Hours(1))});
  v1::GetRegionRequest request;
  *request.mutable_region() = Region("RU-MOS");
  absl::StatusOr<v1::GetRegionResponse> response = GetRegion(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(response->region().hub_ids(),
              ElementsAre("dmitrov", "kashira", "podolsk", "selyatino"));
  ASSERT_THAT(response->region().committed_investment(), SizeIs(1));
  EXPECT_EQ(response->region().committed_investment(0).currency_code(), "RUB");
  EXPECT_EQ(response->region().committed_investment(0).units(), 14'000'000'004);
  EXPECT_EQ(response->region().committed_investment(0).nanos(), 100'000'000);
  EXPECT_THAT(response->region().site_ids(), ElementsAre("esipovo"));

  *request.mutable_region() = Region("RU");
  response = GetRegion(*db_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_THAT(response->region().committed_investment(), SizeIs(2));
  EXPECT_EQ(response->region().committed_investment(0).currency_code(), "RUB");
  EXPECT_EQ(response->region().committed_investment(1).currency_code(), "USD");
  EXPECT_EQ(response->region().committed_investment(1).units(), 10);
}

TEST_F(ViewQueriesTest, GetRegionOfACodeNoEventNamedIsNotFound) {
  ApplySeed();
  v1::GetRegionRequest request;
  *request.mutable_region() = Region("CN");  // Named only inside a capacity figure.
  absl::StatusOr<v1::GetRegionResponse> response = GetRegion(*db_, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "region 'CN' not found");
  request.clear_region();
  EXPECT_THAT(ViolatedFields(GetRegion(*db_, request).status()), ElementsAre("region"));
}

TEST_F(ViewQueriesTest, ListRegionsByCodeAndCountry) {
  ApplySeed();
  v1::ListRegionsRequest request;
  request.set_page_size(1);
  std::vector<std::string> codes;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ListRegionsResponse> response = ListRegions(*db_, request);
    ASSERT_TRUE(response.ok()) << response.status();
    for (const v1::RegionSummary& summary : response->regions()) {
      codes.push_back(summary.region().code());
    }
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(codes, ElementsAre("KZ", "KZ-19", "RU", "RU-MOS"));

  v1::ListRegionsRequest by_country;
  *by_country.mutable_country() = Region("KZ");
  absl::StatusOr<v1::ListRegionsResponse> response = ListRegions(*db_, by_country);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_THAT(response->regions(), SizeIs(2));
  EXPECT_EQ(response->regions(1).region().code(), "KZ-19");
  EXPECT_THAT(response->regions(1).hub_ids(), ElementsAre("alatau-hub", "almaty-agrohub"));

  *by_country.mutable_country() = Region("KZ-19");
  EXPECT_THAT(Violations(ListRegions(*db_, by_country).status()),
              ElementsAre(Pair("country.code", HasSubstr("ISO 3166-1"))));
}

// ---- Timeline

TEST_F(ViewQueriesTest, TimelineListsEventsInRecordedOrderWithPositions) {
  ApplySeed();
  const std::vector<v1::Event> seed = SeedEvents(kSeedStart);
  v1::ListTimelineRequest request;
  request.set_page_size(10);
  int pages = 0;
  const std::vector<std::string> ids = TimelineIds(request, &pages);
  std::vector<std::string> expected;
  for (const v1::Event& event : seed) expected.push_back(event.id());
  EXPECT_THAT(ids, ElementsAreArray(expected));
  EXPECT_EQ(pages, 3);

  absl::StatusOr<v1::ListTimelineResponse> response = ListTimeline(*db_, kLog, request);
  ASSERT_TRUE(response.ok()) << response.status();
  const v1::TimelineEntry& memorandum = response->entries(1);
  EXPECT_EQ(memorandum.event().source(), kMosregSource);
  EXPECT_EQ(memorandum.type(), "coop.v1.MemorandumSigned");
  EXPECT_EQ(memorandum.subject(), "agreement/ru-mos-kz-19-memorandum-2025");
  EXPECT_EQ(memorandum.recorded_time().seconds(),
            absl::ToUnixSeconds(kSeedStart + absl::Minutes(1)));
  EXPECT_FALSE(memorandum.has_time());
  // The payload's codes, without the countries the regions column adds ("RU").
  std::vector<std::string> regions;
  for (const v1::RegionRef& region : memorandum.regions()) regions.push_back(region.code());
  EXPECT_THAT(regions, ElementsAre("KZ", "KZ-19", "RU-MOS"));
  absl::StatusOr<cursor::Cursor> position =
      cursor::DecodeCursor(memorandum.position().token(), kLog);
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_THAT(position->next_offsets, ElementsAre(Pair(memorandum.position().partition(),
                                                       memorandum.position().offset() + 1)));
  EXPECT_FALSE(memorandum.has_corrects());
  EXPECT_FALSE(memorandum.has_corrected_by());
}

TEST_F(ViewQueriesTest, TimelineFiltersByTimeTypeSubjectRegionAndParty) {
  ApplySeed();
  v1::ListTimelineRequest by_time;
  *by_time.mutable_start_time() = Timestamp(kSeedStart + absl::Minutes(5));
  *by_time.mutable_end_time() = Timestamp(kSeedStart + absl::Minutes(8));
  EXPECT_THAT(TimelineIds(by_time), ElementsAre("akimat-2025-09-10-alatau-hub-announced",
                                                "digital-2025-09-10-alatau-hub-rnd-tax-relief",
                                                "mosreg-2025-09-10-esipovo"));
  // start_time inclusive to the millisecond: a nanosecond later excludes the event at 09:05.
  by_time.mutable_start_time()->set_nanos(1);
  EXPECT_THAT(TimelineIds(by_time), SizeIs(2));

  v1::ListTimelineRequest by_type;
  by_type.mutable_filter()->add_types("coop.v1.HubMilestone");
  EXPECT_THAT(TimelineIds(by_type),
              ElementsAre("mosreg-2025-09-10-selyatino-plan", "akimat-2025-09-10-agrohub-announced",
                          "akimat-2025-09-10-alatau-hub-announced"));

  v1::ListTimelineRequest by_subject;
  by_subject.mutable_filter()->add_subjects("hub/selyatino");
  by_subject.mutable_filter()->add_subject_prefixes("agreement/s");
  by_subject.mutable_filter()->add_subject_prefixes("culture/");
  EXPECT_THAT(TimelineIds(by_subject), ElementsAre(kSelyatinoAgreementId, kSelyatinoPlanId,
                                                   "embassy-2025-09-alqissa-concert"));

  v1::ListTimelineRequest by_region;
  by_region.mutable_filter()->add_regions()->set_code("RU-MOW");
  EXPECT_THAT(TimelineIds(by_region), ElementsAre("embassy-2025-09-alqissa-concert"));
  by_region.mutable_filter()->add_regions()->set_code("KZ-71");
  EXPECT_THAT(TimelineIds(by_region), SizeIs(6));  // Five road map items name Astana.
  v1::ListTimelineRequest by_country;
  by_country.mutable_filter()->add_regions()->set_code("CN");
  EXPECT_THAT(TimelineIds(by_country), ElementsAre(kSelyatinoPlanId));

  v1::ListTimelineRequest by_party;
  by_party.mutable_filter()->add_party_ids("kz-ktz");
  EXPECT_THAT(TimelineIds(by_party), ElementsAre(kSelyatinoAgreementId, kSelyatinoPlanId));
  by_party.mutable_filter()->add_types("coop.v1.AgreementSigned");
  EXPECT_THAT(TimelineIds(by_party), ElementsAre(kSelyatinoAgreementId));
}

TEST_F(ViewQueriesTest, TimelineShowsCorrections) {
  ApplySeed();
  v1::Event corrected = SeedEvent("mosreg-2025-09-10-esipovo");
  corrected.mutable_industrial_site()->set_locality("Солнечногорск");
  Apply({Correction(kMosregSource, "mosreg-esipovo-correction", "mosreg-2025-09-10-esipovo",
                    corrected, kSeedStart + absl::Hours(1))});
  v1::ListTimelineRequest request;
  request.mutable_filter()->add_subjects("site/esipovo");
  absl::StatusOr<v1::ListTimelineResponse> response = ListTimeline(*db_, kLog, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_THAT(response->entries(), SizeIs(2));
  EXPECT_EQ(response->entries(0).corrected_by().id(), "mosreg-esipovo-correction");
  EXPECT_FALSE(response->entries(0).has_corrects());
  EXPECT_EQ(response->entries(1).type(), "coop.v1.EventCorrected");
  EXPECT_EQ(response->entries(1).corrects().id(), "mosreg-2025-09-10-esipovo");
  EXPECT_EQ(response->entries(1).corrects().source(), kMosregSource);
  EXPECT_FALSE(response->entries(1).has_corrected_by());
  ASSERT_THAT(response->entries(1).regions(), SizeIs(1));
  EXPECT_EQ(response->entries(1).regions(0).code(), "RU-MOS");
}

TEST_F(ViewQueriesTest, TimelineScanIsBoundedAndMayReturnShortPages) {
  ApplySeed();
  // One CulturalEvent, the last of 27 events; each call reads at most 10 rows.
  v1::ListTimelineRequest request;
  request.mutable_filter()->add_types("coop.v1.CulturalEvent");
  std::vector<int> page_sizes;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ListTimelineResponse> response =
        ListTimeline(*db_, kLog, request, QueryLimits{.max_scanned_rows = 10});
    ASSERT_TRUE(response.ok()) << response.status();
    page_sizes.push_back(response->entries_size());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(page_sizes, ElementsAre(0, 0, 1));
  // The same bound applies to the other lists' unindexed filters.
  v1::ListTradeRowsRequest trade;
  trade.set_direction(v1::TRADE_DIRECTION_TURNOVER);
  absl::StatusOr<v1::ListTradeRowsResponse> rows =
      ListTradeRows(*db_, trade, QueryLimits{.max_scanned_rows = 3});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(rows->rows(), IsEmpty());
  EXPECT_FALSE(rows->next_page_token().empty());
}

TEST_F(ViewQueriesTest, TimelineReportsEveryBadFilter) {
  v1::ListTimelineRequest request;
  *request.mutable_start_time() = Timestamp(kSeedStart);
  *request.mutable_end_time() = Timestamp(kSeedStart);
  v1::EventFilter& filter = *request.mutable_filter();
  filter.add_types("coop.v1.Nope");
  filter.add_types("coop.v1.HubMilestone");
  filter.add_types("coop.v1.HubMilestone");
  filter.add_subjects("hub/Selyatino");
  filter.add_subject_prefixes("hub/");
  filter.add_subject_prefixes("hub selyatino");
  filter.add_regions()->set_code("KZ");
  filter.add_regions()->set_code("kz-19");
  filter.add_party_ids("kz-ktz");
  filter.add_party_ids("KTZ");
  request.set_page_size(-5);
  absl::StatusOr<v1::ListTimelineResponse> response = ListTimeline(*db_, kLog, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(response.status()),
              ElementsAre("end_time", "filter.types[0]", "filter.types[2]", "filter.subjects[0]",
                          "filter.subject_prefixes[1]", "filter.regions[1].code",
                          "filter.party_ids[1]", "page_size"));

  v1::ListTimelineRequest too_many;
  for (int i = 0; i < 101; ++i) too_many.mutable_filter()->add_party_ids("kz-ktz");
  for (int i = 0; i < 33; ++i) too_many.mutable_filter()->add_types("coop.v1.TradeUpdate");
  const std::vector<std::string> fields =
      ViolatedFields(ListTimeline(*db_, kLog, too_many).status());
  ASSERT_FALSE(fields.empty());
  EXPECT_EQ(fields[0], "filter.types");
  EXPECT_THAT(fields, ::testing::Contains("filter.party_ids"));
}

}  // namespace
}  // namespace coop::views

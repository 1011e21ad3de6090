// Unit: the seed data set (tests/testing/seed_events.h) is valid under the contract and covers
// every kind of event the articles report.
#include "tests/testing/seed_events.h"

#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "coop/v1/envelope.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/publisher/validation/event_validator.h"

namespace coop::testing {
namespace {

using ::testing::IsEmpty;

absl::Time RecordedTime(const coop::v1::Event& event) {
  return absl::FromUnixSeconds(event.recorded_time().seconds()) +
         absl::Nanoseconds(event.recorded_time().nanos());
}

std::string Describe(const std::vector<publisher::FieldViolation>& violations) {
  std::string text;
  for (const publisher::FieldViolation& violation : violations) {
    text += violation.field + ": " + violation.description + "\n";
  }
  return text;
}

TEST(SeedEventsTest, EveryEventPassesValidation) {
  for (const coop::v1::Event& event : SeedEvents()) {
    const std::vector<publisher::FieldViolation> violations =
        publisher::ValidateEvent(event, "event", {.recorded_time = RecordedTime(event)});
    EXPECT_THAT(violations, IsEmpty()) << event.id() << ":\n" << Describe(violations);
  }
}

TEST(SeedEventsTest, IdsAreUnique) {
  std::set<std::string> ids;
  for (const coop::v1::Event& event : SeedEvents()) {
    EXPECT_TRUE(ids.insert(event.id()).second) << "duplicate " << event.id();
  }
}

TEST(SeedEventsTest, EveryPayloadTypeButAmendmentsAndCorrectionsAppears) {
  std::set<int> seen;
  for (const coop::v1::Event& event : SeedEvents()) seen.insert(event.payload_case());
  const google::protobuf::OneofDescriptor* payload =
      coop::v1::Event::descriptor()->FindOneofByName("payload");
  ASSERT_EQ(payload->field_count(), 13);
  for (int i = 0; i < payload->field_count(); ++i) {
    const int number = payload->field(i)->number();
    const bool expected = number != coop::v1::Event::kAgreementAmendedFieldNumber &&
                          number != coop::v1::Event::kEventCorrectedFieldNumber;
    EXPECT_EQ(seen.count(number) == 1, expected) << payload->field(i)->name();
  }
}

TEST(SeedEventsTest, RecordedTimesAreOneMinuteApartFromTheFirst) {
  const absl::Time first =
      absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5), absl::UTCTimeZone());
  const std::vector<coop::v1::Event> events = SeedEvents(first);
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(RecordedTime(events[i]), first + absl::Minutes(static_cast<int64_t>(i)))
        << events[i].id();
  }
}

TEST(SeedEventsTest, FiguresAreAsTheArticlesStateThem) {
  bool saw_plan = false, saw_growth = false;
  for (const coop::v1::Event& event : SeedEvents()) {
    if (event.has_hub_milestone() && event.hub_milestone().hub_id() == "selyatino") {
      saw_plan = true;
      const coop::v1::HubMilestone& plan = event.hub_milestone();
      EXPECT_EQ(plan.investment().currency_code(), "RUB");
      EXPECT_EQ(plan.investment().units(), 14'000'000'000);
      EXPECT_EQ(plan.jobs(), 1'500);
      EXPECT_EQ(plan.planned_on().year(), 2026);
      EXPECT_EQ(plan.planned_on().month(), 4);
      EXPECT_EQ(plan.planned_on().day(), 0);
    }
    if (event.has_trade_update() && event.trade_update().has_growth()) {
      saw_growth = true;
      EXPECT_EQ(event.trade_update().growth().ratio(), 1.8);
      EXPECT_EQ(event.trade_update().growth().qualifier(), coop::v1::QUALIFIER_MORE_THAN);
      EXPECT_FALSE(event.trade_update().has_value());
    }
  }
  EXPECT_TRUE(saw_plan);
  EXPECT_TRUE(saw_growth);
}

}  // namespace
}  // namespace coop::testing

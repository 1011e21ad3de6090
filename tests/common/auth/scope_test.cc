#include "common/auth/scope.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_events.h"

namespace coop::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Principal Publisher(std::vector<std::string> types, std::vector<std::string> regions) {
  return Principal{
      .id = "test-publisher",
      .display_name = "Test",
      .publish = Scope{.event_types = std::move(types), .regions = std::move(regions)}};
}

Principal Subscriber(std::vector<std::string> types, std::vector<std::string> regions) {
  return Principal{
      .id = "test-subscriber",
      .display_name = "Test",
      .subscribe = Scope{.event_types = std::move(types), .regions = std::move(regions)}};
}

// Selyatino: a hub in RU-MOS with capacity partner CN and participating countries CN, KZ, RU.
coop::v1::Event SelyatinoMilestone() {
  coop::v1::Event event;
  event.set_id("mosreg-selyatino-2025-plan");
  event.set_type("coop.v1.HubMilestone");
  event.set_subject("hub/selyatino");
  coop::v1::HubMilestone& hub = *event.mutable_hub_milestone();
  hub.set_hub_id("selyatino");
  hub.set_hub_name("ТЛЦ «Селятино»");
  hub.mutable_location()->set_locality("Наро-Фоминский городской округ");
  hub.mutable_location()->mutable_region()->set_code("RU-MOS");
  coop::v1::CapacityFigure& exports = *hub.add_capacities();
  exports.set_name("экспорт в Китай");
  exports.mutable_partner()->set_code("CN");
  for (const char* country : {"CN", "KZ", "RU"}) {
    hub.add_participating_countries()->set_code(country);
  }
  return event;
}

// A TradeUpdate of RU-MOS with KZ.
coop::v1::Event TradeUpdate() {
  coop::v1::Event event;
  event.set_type("coop.v1.TradeUpdate");
  event.mutable_trade_update()->mutable_reporting_region()->set_code("RU-MOS");
  event.mutable_trade_update()->mutable_partner_region()->set_code("KZ");
  return event;
}

// An EventCorrected whose corrected payload is `original`'s.
coop::v1::Event CorrectionOf(const coop::v1::Event& original) {
  coop::v1::Event event;
  event.set_type("coop.v1.EventCorrected");
  coop::v1::EventCorrected& correction = *event.mutable_event_corrected();
  correction.set_corrected_event_id(original.id());
  correction.set_reason("неверная дата подписания");
  if (original.has_memorandum_signed()) {
    *correction.mutable_memorandum_signed() = original.memorandum_signed();
  } else if (original.has_trade_update()) {
    *correction.mutable_trade_update() = original.trade_update();
  }
  return event;
}

// A MemorandumSigned that names no region at all.
coop::v1::Event MemorandumWithoutRegions() {
  coop::v1::Event event;
  event.set_type("coop.v1.MemorandumSigned");
  event.mutable_memorandum_signed()->set_title("Меморандум");
  return event;
}

TEST(RegionCoversTest, CodeCoversItself) {
  EXPECT_TRUE(RegionCovers("RU-MOS", "RU-MOS"));
  EXPECT_TRUE(RegionCovers("KZ", "KZ"));
}

TEST(RegionCoversTest, CountryCoversItsSubdivisions) {
  EXPECT_TRUE(RegionCovers("KZ", "KZ-19"));
  EXPECT_TRUE(RegionCovers("KZ", "KZ-75"));
  EXPECT_TRUE(RegionCovers("RU", "RU-MOW"));
}

TEST(RegionCoversTest, SubdivisionDoesNotCoverItsCountryOrSiblings) {
  EXPECT_FALSE(RegionCovers("KZ-19", "KZ"));
  EXPECT_FALSE(RegionCovers("RU-MOS", "RU-MOW"));
}

TEST(RegionCoversTest, CountryDoesNotCoverOtherCountries) {
  EXPECT_FALSE(RegionCovers("KZ", "RU-MOS"));
  EXPECT_FALSE(RegionCovers("KZ", "CN"));
  EXPECT_FALSE(RegionCovers("K", "KZ-19"));
  EXPECT_FALSE(RegionCovers("KZ", "KZX-1"));
}

TEST(RegionCoversTest, WildcardCoversEverything) {
  EXPECT_TRUE(RegionCovers("*", "CN"));
  EXPECT_TRUE(RegionCovers("*", "KZ-19"));
}

TEST(RegionCodesInTest, FindsRefsInRepeatedAndNestedFields) {
  // Parties (repeated InvolvedParty → Party → RegionRef), participants' parties and the place.
  EXPECT_THAT(RegionCodesIn(coop::testing::MemorandumSignedEvent()),
              ElementsAre("KZ-19", "RU-MOS"));
  // Location (Place → RegionRef), capacities (repeated → RegionRef) and repeated RegionRefs.
  EXPECT_THAT(RegionCodesIn(SelyatinoMilestone()), ElementsAre("CN", "KZ", "RU", "RU-MOS"));
}

TEST(RegionCodesInTest, FindsRefsInsideACorrectedPayload) {
  EXPECT_THAT(RegionCodesIn(CorrectionOf(TradeUpdate())), ElementsAre("KZ", "RU-MOS"));
}

TEST(RegionCodesInTest, EventWithoutPayloadHasNoRegions) {
  EXPECT_THAT(RegionCodesIn(coop::v1::Event()), IsEmpty());
}

TEST(CheckPublishTest, EventOfAllowedTypeAboutAScopeRegionIsAllowed) {
  // The memorandum names RU-MOS and KZ-19: one covered region is enough.
  EXPECT_TRUE(CheckPublish(Publisher({"coop.v1.MemorandumSigned"}, {"RU-MOS"}),
                           coop::testing::MemorandumSignedEvent())
                  .ok());
}

TEST(CheckPublishTest, TypeOutsideTheScopeIsPermissionDenied) {
  absl::Status status = CheckPublish(
      Publisher({"coop.v1.MemorandumSigned", "coop.v1.HubMilestone"}, {"RU-MOS"}), TradeUpdate());
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "publisher 'test-publisher' may not publish coop.v1.TradeUpdate; its event types are "
            "[coop.v1.MemorandumSigned, coop.v1.HubMilestone]");
}

TEST(CheckPublishTest, EventAboutNoScopeRegionIsPermissionDeniedNamingTheRegions) {
  absl::Status status = CheckPublish(Publisher({"coop.v1.CulturalEvent"}, {"RU-MOS", "KZ"}),
                                     coop::testing::CulturalEventEvent());
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "publisher 'test-publisher' may not publish coop.v1.CulturalEvent about regions "
            "[RU-MOW]; its regions are [RU-MOS, KZ]");
}

TEST(CheckPublishTest, RegionFoundInANestedRepeatedFieldCounts) {
  // The concert at the Helikon-Opera (RU-MOW), organised by the embassy (party region KZ).
  coop::v1::Event event = coop::testing::CulturalEventEvent();
  coop::v1::Participant& organizer = *event.mutable_cultural_event()->add_participants();
  organizer.set_role(coop::v1::PARTICIPANT_ROLE_ORGANIZER);
  organizer.mutable_party()->mutable_region()->set_code("KZ");
  EXPECT_TRUE(CheckPublish(Publisher({"coop.v1.CulturalEvent"}, {"KZ"}), event).ok());
}

TEST(CheckPublishTest, CountryScopeCoversSubdivisionsInTheEvent) {
  // The memorandum names KZ-19 and RU-MOS; a KZ scope covers KZ-19.
  EXPECT_TRUE(CheckPublish(Publisher({"*"}, {"KZ"}), coop::testing::MemorandumSignedEvent()).ok());
}

TEST(CheckPublishTest, SubdivisionScopeDoesNotCoverACountryOnlyEvent) {
  coop::v1::Event event = TradeUpdate();
  event.mutable_trade_update()->mutable_reporting_region()->set_code("KZ");
  event.mutable_trade_update()->mutable_partner_region()->set_code("CN");
  absl::Status status = CheckPublish(Publisher({"*"}, {"KZ-19"}), event);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "publisher 'test-publisher' may not publish coop.v1.TradeUpdate about regions "
            "[CN, KZ]; its regions are [KZ-19]");
}

TEST(CheckPublishTest, WildcardsAllowEveryTypeAndRegion) {
  EXPECT_TRUE(CheckPublish(Publisher({"*"}, {"*"}), coop::testing::CulturalEventEvent()).ok());
  EXPECT_TRUE(CheckPublish(Publisher({"*"}, {"*"}), SelyatinoMilestone()).ok());
}

TEST(CheckPublishTest, EventNamingNoRegionNeedsTheRegionWildcard) {
  EXPECT_TRUE(CheckPublish(Publisher({"*"}, {"*"}), MemorandumWithoutRegions()).ok());
  absl::Status status = CheckPublish(Publisher({"*"}, {"RU-MOS"}), MemorandumWithoutRegions());
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "publisher 'test-publisher' may not publish coop.v1.MemorandumSigned that names no "
            "region; its regions are [RU-MOS]");
}

TEST(CheckPublishTest, PrincipalWithoutPublishScopeIsNotAPublisher) {
  absl::Status status =
      CheckPublish(Subscriber({"*"}, {"*"}), coop::testing::MemorandumSignedEvent());
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "principal 'test-subscriber' is not a publisher");
}

TEST(CheckPublishTest, EventWithoutPayloadIsInvalidArgument) {
  EXPECT_EQ(CheckPublish(Publisher({"*"}, {"*"}), coop::v1::Event()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckPublishTest, PayloadDecidesTheTypeNotTheTypeString) {
  coop::v1::Event event = TradeUpdate();
  event.set_type("coop.v1.MemorandumSigned");
  EXPECT_EQ(CheckPublish(Publisher({"coop.v1.MemorandumSigned"}, {"*"}), event).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(CheckPublishTest, CorrectionNeedsBothEventCorrectedAndTheCorrectedType) {
  const Principal publisher =
      Publisher({"coop.v1.EventCorrected", "coop.v1.MemorandumSigned"}, {"RU-MOS"});
  EXPECT_TRUE(CheckPublish(publisher, CorrectionOf(coop::testing::MemorandumSignedEvent())).ok());

  absl::Status status = CheckPublish(publisher, CorrectionOf(TradeUpdate()));
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "publisher 'test-publisher' may not publish coop.v1.EventCorrected (correcting "
            "coop.v1.TradeUpdate); its event types are [coop.v1.EventCorrected, "
            "coop.v1.MemorandumSigned]");
}

TEST(CheckPublishTest, CorrectionIsDeniedWithoutEventCorrectedInTheScope) {
  absl::Status status = CheckPublish(Publisher({"coop.v1.MemorandumSigned"}, {"RU-MOS"}),
                                     CorrectionOf(coop::testing::MemorandumSignedEvent()));
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
}

TEST(CheckSubscribeTest, FilterWithinTheScopeIsAllowed) {
  coop::v1::EventFilter filter;
  filter.add_types("coop.v1.MemorandumSigned");
  filter.add_regions()->set_code("KZ-19");
  filter.add_regions()->set_code("RU-MOS");
  EXPECT_TRUE(
      CheckSubscribe(Subscriber({"coop.v1.MemorandumSigned"}, {"RU-MOS", "KZ"}), filter).ok());
}

TEST(CheckSubscribeTest, EmptyFilterNeedsWildcardScope) {
  EXPECT_TRUE(CheckSubscribe(Subscriber({"*"}, {"*"}), coop::v1::EventFilter()).ok());
}

TEST(CheckSubscribeTest, AllTypesNeedTheTypeWildcard) {
  coop::v1::EventFilter filter;
  filter.add_regions()->set_code("RU-MOS");
  absl::Status status = CheckSubscribe(Subscriber({"coop.v1.HubMilestone"}, {"*"}), filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "subscriber 'test-subscriber' may not read every event type: name some of its event "
            "types in the filter [coop.v1.HubMilestone]");
}

TEST(CheckSubscribeTest, AllRegionsNeedTheRegionWildcard) {
  coop::v1::EventFilter filter;
  filter.add_types("coop.v1.HubMilestone");
  absl::Status status = CheckSubscribe(Subscriber({"*"}, {"RU-MOS", "KZ"}), filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "subscriber 'test-subscriber' may not read every region: name some of its regions in "
            "the filter [RU-MOS, KZ]");
}

TEST(CheckSubscribeTest, TypesOutsideTheScopeArePermissionDeniedNamingThem) {
  coop::v1::EventFilter filter;
  filter.add_types("coop.v1.HubMilestone");
  filter.add_types("coop.v1.TradeUpdate");
  filter.add_types("coop.v1.TourismFlow");
  absl::Status status = CheckSubscribe(Subscriber({"coop.v1.HubMilestone"}, {"*"}), filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "subscriber 'test-subscriber' may not read coop.v1.TradeUpdate, coop.v1.TourismFlow; "
            "its event types are [coop.v1.HubMilestone]");
}

TEST(CheckSubscribeTest, RegionsOutsideTheScopeArePermissionDeniedNamingThem) {
  coop::v1::EventFilter filter;
  for (const char* code : {"KZ-19", "CN", "RU-MOW"}) filter.add_regions()->set_code(code);
  absl::Status status = CheckSubscribe(Subscriber({"*"}, {"RU-MOS", "KZ"}), filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "subscriber 'test-subscriber' may not read regions [CN, RU-MOW]; its regions are "
            "[RU-MOS, KZ]");
}

TEST(CheckSubscribeTest, CountryFilterIsNotCoveredByASubdivisionScope) {
  coop::v1::EventFilter filter;
  filter.add_regions()->set_code("KZ");
  absl::Status status = CheckSubscribe(Subscriber({"*"}, {"KZ-19"}), filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "subscriber 'test-subscriber' may not read regions [KZ]; its regions are [KZ-19]");
}

TEST(CheckSubscribeTest, PrincipalWithoutSubscribeScopeMayNotRead) {
  absl::Status status = CheckSubscribe(Publisher({"*"}, {"*"}), coop::v1::EventFilter());
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "principal 'test-publisher' may not read events");
}

TEST(MaySeeTest, EventInTheScopeIsVisible) {
  EXPECT_TRUE(MaySee(Subscriber({"coop.v1.MemorandumSigned"}, {"KZ"}),
                     coop::testing::MemorandumSignedEvent()));
}

TEST(MaySeeTest, EventOfAnotherTypeIsHidden) {
  EXPECT_FALSE(
      MaySee(Subscriber({"coop.v1.HubMilestone"}, {"*"}), coop::testing::MemorandumSignedEvent()));
}

TEST(MaySeeTest, EventAboutOtherRegionsIsHidden) {
  EXPECT_FALSE(MaySee(Subscriber({"*"}, {"RU-MOS", "KZ"}), coop::testing::CulturalEventEvent()));
  EXPECT_TRUE(MaySee(Subscriber({"*"}, {"RU"}), coop::testing::CulturalEventEvent()));
}

TEST(MaySeeTest, EventNamingNoRegionIsVisibleOnlyWithTheRegionWildcard) {
  EXPECT_TRUE(MaySee(Subscriber({"*"}, {"*"}), MemorandumWithoutRegions()));
  EXPECT_FALSE(MaySee(Subscriber({"*"}, {"RU-MOS"}), MemorandumWithoutRegions()));
}

TEST(MaySeeTest, CorrectionIsVisibleOnlyWithTheCorrectedType) {
  const Principal subscriber =
      Subscriber({"coop.v1.EventCorrected", "coop.v1.MemorandumSigned"}, {"*"});
  EXPECT_TRUE(MaySee(subscriber, CorrectionOf(coop::testing::MemorandumSignedEvent())));
  EXPECT_FALSE(MaySee(subscriber, CorrectionOf(TradeUpdate())));
}

TEST(MaySeeTest, PrincipalWithoutSubscribeScopeSeesNothing) {
  EXPECT_FALSE(MaySee(Publisher({"*"}, {"*"}), coop::testing::MemorandumSignedEvent()));
}

TEST(MaySeeTest, EventWithoutPayloadIsHidden) {
  EXPECT_FALSE(MaySee(Subscriber({"*"}, {"*"}), coop::v1::Event()));
}

TEST(InSubscribeScopeTest, AgreesWithMaySeeOnTheEventsValues) {
  const std::vector<Principal> principals = {
      Subscriber({"*"}, {"*"}),
      Subscriber({"coop.v1.MemorandumSigned"}, {"KZ"}),
      Subscriber({"*"}, {"RU-MOS"}),
      Subscriber({"coop.v1.EventCorrected"}, {"*"}),
      Subscriber({"coop.v1.EventCorrected", "coop.v1.TradeUpdate"}, {"KZ-19"}),
      Publisher({"*"}, {"*"})};
  const std::vector<std::pair<coop::v1::Event, std::pair<std::string, std::string>>> cases = {
      {coop::testing::MemorandumSignedEvent(), {"coop.v1.MemorandumSigned", ""}},
      {coop::testing::CulturalEventEvent(), {"coop.v1.CulturalEvent", ""}},
      {SelyatinoMilestone(), {"coop.v1.HubMilestone", ""}},
      {CorrectionOf(TradeUpdate()), {"coop.v1.EventCorrected", "coop.v1.TradeUpdate"}},
      {CorrectionOf(coop::testing::MemorandumSignedEvent()),
       {"coop.v1.EventCorrected", "coop.v1.MemorandumSigned"}},
      {MemorandumWithoutRegions(), {"coop.v1.MemorandumSigned", ""}},
      {coop::v1::Event(), {"", ""}}};
  int visible = 0;
  for (const Principal& principal : principals) {
    for (const auto& [event, types] : cases) {
      const bool may_see = MaySee(principal, event);
      EXPECT_EQ(InSubscribeScope(principal, types.first, types.second, RegionCodesIn(event)),
                may_see)
          << principal.id << " " << types.first << " " << types.second;
      if (may_see) ++visible;
    }
  }
  EXPECT_GT(visible, 0);
}

TEST(InSubscribeScopeTest, CorrectedTypeMustBeInTheScope) {
  const Principal subscriber = Subscriber({"coop.v1.EventCorrected", "coop.v1.TradeUpdate"}, {"*"});
  EXPECT_TRUE(InSubscribeScope(subscriber, "coop.v1.EventCorrected", "coop.v1.TradeUpdate", {}));
  EXPECT_FALSE(
      InSubscribeScope(subscriber, "coop.v1.EventCorrected", "coop.v1.MemorandumSigned", {}));
  EXPECT_TRUE(InSubscribeScope(subscriber, "coop.v1.EventCorrected", "", {}));
}

TEST(InSubscribeScopeTest, ARegionMustBeCoveredUnlessTheScopeHasTheWildcard) {
  const Principal subscriber = Subscriber({"*"}, {"KZ", "RU-MOS"});
  EXPECT_TRUE(InSubscribeScope(subscriber, "coop.v1.TradeUpdate", "", {"CN", "KZ-19"}));
  EXPECT_FALSE(InSubscribeScope(subscriber, "coop.v1.TradeUpdate", "", {"CN", "RU"}));
  EXPECT_FALSE(InSubscribeScope(subscriber, "coop.v1.TradeUpdate", "", {}));
  EXPECT_TRUE(InSubscribeScope(Subscriber({"*"}, {"*"}), "coop.v1.TradeUpdate", "", {}));
}

TEST(InSubscribeScopeTest, NoPayloadOrNoSubscribeScopeIsNeverVisible) {
  EXPECT_FALSE(InSubscribeScope(Subscriber({"*"}, {"*"}), "", "", {"KZ"}));
  EXPECT_FALSE(InSubscribeScope(Publisher({"*"}, {"*"}), "coop.v1.TradeUpdate", "", {"KZ"}));
}

}  // namespace
}  // namespace coop::auth

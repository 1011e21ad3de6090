#include "services/publisher/validation/event_validator.h"

#include <cmath>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "coop/v1/envelope.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_events.h"

namespace coop::publisher {

void PrintTo(const FieldViolation& violation, std::ostream* os) {
  *os << "{" << violation.field << ": " << violation.description << "}";
}

namespace {

namespace v1 = ::coop::v1;
using ::google::protobuf::util::TimeUtil;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Matcher;
using ::testing::SizeIs;

// The server's recorded_time for the events under test: after every domain event.
const absl::Time kRecordedTime =
    absl::FromCivil(absl::CivilSecond(2025, 9, 12, 12, 0, 0), absl::UTCTimeZone());

std::vector<FieldViolation> Validate(const v1::Event& event, absl::string_view prefix = "event") {
  return ValidateEvent(event, prefix, ValidationLimits{.recorded_time = kRecordedTime});
}

Matcher<FieldViolation> Violation(const std::string& field, const std::string& description) {
  return AllOf(Field(&FieldViolation::field, field),
               Field(&FieldViolation::description, HasSubstr(description)));
}

// Valid events, at least one per payload type, are built below from the facts in
// shared/domain.md, with names in their original scripts.
v1::RegionRef Region(const std::string& code) {
  v1::RegionRef region;
  region.set_code(code);
  return region;
}

v1::Party Party(const std::string& id, const std::string& name, v1::PartyKind kind,
                const std::string& region) {
  v1::Party party;
  party.set_party_id(id);
  party.set_name(name);
  party.set_kind(kind);
  *party.mutable_region() = Region(region);
  return party;
}

void AddInvolved(google::protobuf::RepeatedPtrField<v1::InvolvedParty>* parties,
                 const v1::Party& party, v1::PartyRole role) {
  v1::InvolvedParty* involved = parties->Add();
  *involved->mutable_party() = party;
  involved->set_role(role);
}

v1::Participant Participant(const std::string& name, const std::string& title,
                            v1::ParticipantRole role, const v1::Party* party) {
  v1::Participant participant;
  participant.mutable_person()->set_name(name);
  if (!title.empty()) participant.mutable_person()->set_title(title);
  participant.set_role(role);
  if (party != nullptr) *participant.mutable_party() = *party;
  return participant;
}

v1::PartialDate Date(int year, int month = 0, int day = 0) {
  v1::PartialDate date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::Period Period(const v1::PartialDate& start, const v1::PartialDate& end) {
  v1::Period period;
  *period.mutable_start() = start;
  *period.mutable_end() = end;
  return period;
}

v1::Quantity Quantity(double value, v1::Unit unit, v1::Qualifier qualifier = v1::QUALIFIER_EXACT) {
  v1::Quantity quantity;
  quantity.set_value(value);
  quantity.set_unit(unit);
  quantity.set_qualifier(qualifier);
  return quantity;
}

v1::Share Share(double percent, v1::Qualifier qualifier, const std::string& description) {
  v1::Share share;
  share.set_percent(percent);
  share.set_qualifier(qualifier);
  share.set_description(description);
  return share;
}

v1::Event Envelope(const std::string& id, const std::string& type, const std::string& subject) {
  v1::Event event;
  event.set_id(id);
  event.set_type(type);
  event.set_subject(subject);
  event.set_schema_version(1);
  return event;
}

const v1::Party kSlavtrans =
    Party("ru-mos-slavtrans-service", "АО «Славтранс-Сервис»", v1::PARTY_KIND_COMPANY, "RU-MOS");
const v1::Party kKtzExpress =
    Party("kz-ktz-express", "АО «КТЖ-Экспресс»", v1::PARTY_KIND_STATE_COMPANY, "KZ");
const v1::Party kTlcAlatau =
    Party("kz-19-tlc-alatau", "ТОО «ТЛЦ Алатау»", v1::PARTY_KIND_COMPANY, "KZ-19");
const v1::Party kAlmatyAkimat =
    Party("almaty-region-akimat", "Алматы облысының әкімдігі", v1::PARTY_KIND_AKIMAT, "KZ-19");

// 2025-09-10: the trilateral agreement on the Agrohub in Almaty Region.
v1::Event AgreementSignedEvent() {
  v1::Event event = Envelope("mosreg-2025-09-10-agrohub-agreement", "coop.v1.AgreementSigned",
                             "agreement/almaty-agrohub-2025");
  v1::AgreementSigned& agreement = *event.mutable_agreement_signed();
  agreement.set_agreement_id("almaty-agrohub-2025");
  agreement.set_title("Трёхстороннее соглашение о создании Агрохаба в Алматинской области");
  AddInvolved(agreement.mutable_parties(), kSlavtrans, v1::PARTY_ROLE_PRINCIPAL);
  AddInvolved(agreement.mutable_parties(), kKtzExpress, v1::PARTY_ROLE_PRINCIPAL);
  AddInvolved(agreement.mutable_parties(), kTlcAlatau, v1::PARTY_ROLE_PRINCIPAL);
  *agreement.mutable_signed_on() = Date(2025, 9, 10);
  agreement.mutable_place()->mutable_region()->set_code("RU-MOS");
  agreement.set_purpose(
      "создание Агрохаба в Алматинской области\nдвусторонние контейнерные поезда");
  agreement.add_areas(v1::COOPERATION_AREA_LOGISTICS);
  agreement.add_areas(v1::COOPERATION_AREA_AGRICULTURE);
  agreement.add_hub_ids("almaty-agrohub");
  return event;
}

v1::HubMilestone SelyatinoPlan() {
  v1::HubMilestone hub;
  hub.set_hub_id("selyatino");
  hub.set_hub_name("ТЛЦ «Селятино»");
  hub.set_hub_kind(v1::HUB_KIND_LOGISTICS);
  hub.mutable_location()->set_locality("Наро-Фоминский городской округ");
  *hub.mutable_location()->mutable_region() = Region("RU-MOS");
  hub.set_milestone_kind(v1::HUB_MILESTONE_KIND_PLANNED);
  *hub.mutable_planned_on() = Date(2026, 4);
  *hub.mutable_total_area() = Quantity(65000, v1::UNIT_SQUARE_METRE);
  hub.mutable_investment()->set_currency_code("RUB");
  hub.mutable_investment()->set_units(14'000'000'000);
  hub.set_jobs(1500);
  v1::CapacityFigure& exports = *hub.add_capacities();
  exports.set_name("экспорт в Китай");
  *exports.mutable_baseline() = Quantity(180000, v1::UNIT_TONNE_PER_YEAR);
  *exports.mutable_target() = Quantity(550000, v1::UNIT_TONNE_PER_YEAR);
  *exports.mutable_partner() = Region("CN");
  *hub.add_shares() =
      Share(40, v1::QUALIFIER_EXACT, "весь экспорт АПК Московской области после второй очереди");
  for (const char* country : {"CN", "KZ", "RU"})
    *hub.add_participating_countries() = Region(country);
  hub.add_agreement_ids("selyatino-hub-2024");
  return hub;
}

// The Selyatino hub: completion planned by April 2026.
v1::Event HubMilestoneEvent() {
  v1::Event event =
      Envelope("mosreg-2025-09-10-selyatino-plan", "coop.v1.HubMilestone", "hub/selyatino");
  *event.mutable_hub_milestone() = SelyatinoPlan();
  return event;
}

// Trade turnover of Moscow Oblast with Kazakhstan grew more than 1.8 times in five years.
v1::Event TradeUpdateEvent() {
  v1::Event event =
      Envelope("mosreg-2025-09-10-trade-kz", "coop.v1.TradeUpdate", "regions/KZ:RU-MOS");
  v1::TradeUpdate& trade = *event.mutable_trade_update();
  *trade.mutable_reporting_region() = Region("RU-MOS");
  *trade.mutable_partner_region() = Region("KZ");
  *trade.mutable_period() = Period(Date(2020), Date(2025));
  trade.set_direction(v1::TRADE_DIRECTION_TURNOVER);
  trade.mutable_growth()->set_ratio(1.8);
  trade.mutable_growth()->set_qualifier(v1::QUALIFIER_MORE_THAN);
  *trade.mutable_growth()->mutable_base_period()->mutable_start() = Date(2020);
  *trade.mutable_growth()->mutable_compared_period()->mutable_start() = Date(2025);
  trade.set_note("товарооборот за последние пять лет вырос более чем в 1,8 раза");
  return event;
}

// Alatau Hub in Қонаев: full tax relief for putting 1% of dividends into R&D.
v1::Event InvestmentIncentiveEvent() {
  v1::Event event = Envelope("almaty-digital-2025-alatau-tax-relief", "coop.v1.InvestmentIncentive",
                             "hub/alatau-hub");
  v1::InvestmentIncentive& incentive = *event.mutable_investment_incentive();
  incentive.set_incentive_id("alatau-hub-rnd-tax-relief");
  *incentive.mutable_region() = Region("KZ-19");
  incentive.set_hub_id("alatau-hub");
  incentive.set_kind(v1::INCENTIVE_KIND_TAX_RELIEF);
  incentive.set_relief_percent(100);
  incentive.set_condition("1% от дивидендов вкладывается в развитие НИОКР");
  *incentive.mutable_condition_share() =
      Share(1, v1::QUALIFIER_EXACT, "дивиденды, вкладываемые в НИОКР");
  incentive.set_beneficiaries("IT-компании и инвесторы");
  *incentive.mutable_offered_by() = Party("", "Управление цифровых технологий Алматинской области",
                                          v1::PARTY_KIND_GOVERNMENT_DEPARTMENT, "KZ-19");
  incentive.set_description("Alatau Hub в городе Қонаев: точка входа в инновационную экосистему");
  return event;
}

// The Esipovo industrial park: "light industrial", modules launched in about three months.
v1::Event IndustrialSiteEvent() {
  v1::Event event = Envelope("mosreg-2025-esipovo", "coop.v1.IndustrialSite", "site/esipovo");
  v1::IndustrialSite& site = *event.mutable_industrial_site();
  site.set_site_id("esipovo");
  site.set_name("Индустриальный парк «Есипово»");
  *site.mutable_region() = Region("RU-MOS");
  site.set_locality("городской округ Солнечногорск");
  site.set_format(v1::SITE_FORMAT_LIGHT_INDUSTRIAL);
  *site.mutable_launch_lead_time() = Quantity(3, v1::UNIT_MONTH, v1::QUALIFIER_ABOUT);
  return event;
}

void AddFact(v1::RegionProfile& profile, v1::RegionFactKind kind, const v1::Quantity& value,
             const std::string& counterpart = "") {
  v1::RegionFact& fact = *profile.add_facts();
  fact.set_kind(kind);
  *fact.mutable_value() = value;
  if (!counterpart.empty()) *fact.mutable_counterpart() = Region(counterpart);
}

// Moscow Oblast: 6 special economic zones, 72 industrial parks, 19 technoparks.
v1::Event RegionProfileEvent() {
  v1::Event event = Envelope("mosreg-2025-profile", "coop.v1.RegionProfile", "region/RU-MOS");
  v1::RegionProfile& profile = *event.mutable_region_profile();
  *profile.mutable_region() = Region("RU-MOS");
  *profile.mutable_as_of() = Date(2025, 9);
  AddFact(profile, v1::REGION_FACT_KIND_SPECIAL_ECONOMIC_ZONE_COUNT, Quantity(6, v1::UNIT_COUNT));
  AddFact(profile, v1::REGION_FACT_KIND_INDUSTRIAL_PARK_COUNT, Quantity(72, v1::UNIT_COUNT));
  AddFact(profile, v1::REGION_FACT_KIND_TECHNOPARK_COUNT, Quantity(19, v1::UNIT_COUNT));
  return event;
}

// Kazakhstan's border with Russia: the world's longest continuous land border, 7 border
// regions, about 30 million people.
v1::Event BorderProfileEvent() {
  v1::Event event = Envelope("kz-2025-border-profile", "coop.v1.RegionProfile", "region/KZ");
  v1::RegionProfile& profile = *event.mutable_region_profile();
  *profile.mutable_region() = Region("KZ");
  AddFact(profile, v1::REGION_FACT_KIND_BORDER_REGION_COUNT, Quantity(7, v1::UNIT_COUNT), "RU");
  AddFact(profile, v1::REGION_FACT_KIND_BORDER_POPULATION,
          Quantity(30'000'000, v1::UNIT_PERSON, v1::QUALIFIER_ABOUT), "RU");
  AddFact(profile, v1::REGION_FACT_KIND_BORDER_WORLD_RANK, Quantity(1, v1::UNIT_COUNT), "RU");
  return event;
}

// The Almaty Region delegation visits the Esipovo industrial park before the forum.
v1::Event DelegationVisitEvent() {
  v1::Event event = Envelope("almaty-akimat-2025-09-esipovo-visit", "coop.v1.DelegationVisit",
                             "regions/KZ-19:RU-MOS");
  v1::DelegationVisit& visit = *event.mutable_delegation_visit();
  *visit.mutable_visiting_region() = Region("KZ-19");
  *visit.mutable_host_region() = Region("RU-MOS");
  *visit.mutable_dates()->mutable_start() = Date(2025, 9);
  *visit.add_participants() = Participant("Марат Сұлтанғазиев", "Алматы облысының әкімі",
                                          v1::PARTICIPANT_ROLE_HEAD_OF_DELEGATION, &kAlmatyAkimat);
  v1::Place& park = *visit.add_places_visited();
  park.set_name("Индустриальный парк «Есипово»");
  park.set_locality("городской округ Солнечногорск");
  *park.mutable_region() = Region("RU-MOS");
  visit.add_site_ids("esipovo");
  visit.set_occasion("Бизнес-форум «Казахстан — Подмосковье»");
  visit.set_return_visit_invited(true);
  return event;
}

// Almaty Region receives 135,000 foreign tourists, almost 30% of them from CIS countries.
v1::Event TourismFlowEvent() {
  v1::Event event = Envelope("almaty-tourism-2024-flow", "coop.v1.TourismFlow", "region/KZ-19");
  v1::TourismFlow& flow = *event.mutable_tourism_flow();
  *flow.mutable_destination() = Region("KZ-19");
  *flow.mutable_period()->mutable_start() = Date(2024);
  *flow.mutable_tourists() = Quantity(135000, v1::UNIT_PERSON);
  *flow.add_shares() = Share(30, v1::QUALIFIER_ALMOST, "иностранные туристы из стран СНГ");
  for (const char* park : {"Кольсай", "Иле-Алатауский национальный парк", "Чарынский каньон"}) {
    v1::Attraction& attraction = *flow.add_attractions();
    attraction.set_name(park);
    attraction.set_kind(v1::ATTRACTION_KIND_NATIONAL_PARK);
  }
  return event;
}

// "Days of Moscow" in Astana and Almaty: the region's digital twin as a joint solution.
v1::Event RoadMapItemEvent() {
  v1::Event event = Envelope("almaty-digital-2025-digital-twin", "coop.v1.RoadMapItem",
                             "roadmap/days-of-moscow-2025");
  v1::RoadMapItem& item = *event.mutable_road_map_item();
  item.set_road_map_id("days-of-moscow-2025");
  item.set_road_map_title("Дорожная карта «Дни Москвы»");
  item.set_item_id("digital-twin");
  item.set_title("Цифровой двойник региона");
  item.set_kind(v1::ROAD_MAP_ITEM_KIND_DIGITAL_SOLUTION);
  item.set_status(v1::ROAD_MAP_ITEM_STATUS_AGREED);
  AddInvolved(item.mutable_parties(), kAlmatyAkimat, v1::PARTY_ROLE_PRINCIPAL);
  item.set_occasion("Дни Москвы");
  for (const char* city : {"KZ-71", "KZ-75"}) *item.add_places()->mutable_region() = Region(city);
  item.add_areas(v1::COOPERATION_AREA_DIGITAL);
  item.add_areas(v1::COOPERATION_AREA_PUBLIC_SAFETY);
  return event;
}

// The "Әлқисса" concert, with its honoree, conductor and programme.
v1::Event FullCulturalEvent() {
  v1::Event event = testing::CulturalEventEvent();
  v1::CulturalEvent& concert = *event.mutable_cultural_event();
  concert.set_title_latin("Alqissa");
  v1::Honoree& honoree = *concert.add_honorees();
  honoree.mutable_person()->set_name("Нұрғиса Тілендиев");
  honoree.set_anniversary_years(100);
  *concert.add_participants() =
      Participant("Динзухра Тлендиева", "", v1::PARTICIPANT_ROLE_CONDUCTOR, nullptr);
  concert.set_programme("Календарь памятных дат ЮНЕСКО");
  return event;
}

// The memorandum of 2025-09-10 enters into force.
v1::Event AgreementAmendedEvent() {
  v1::Event event = Envelope("mosreg-2025-10-memorandum-in-force", "coop.v1.AgreementAmended",
                             "agreement/ru-mos-kz-19-memorandum-2025");
  v1::AgreementAmended& amended = *event.mutable_agreement_amended();
  amended.set_agreement_id("ru-mos-kz-19-memorandum-2025");
  amended.set_summary("Меморандум вступил в силу.\nСтороны утвердили план мероприятий.");
  *amended.mutable_effective_on() = Date(2025, 10);
  amended.set_new_status(v1::AGREEMENT_STATUS_IN_FORCE);
  return event;
}

// A correction of the Selyatino plan: the completion date is April 2026, not March.
v1::Event EventCorrectedEvent() {
  v1::Event event =
      Envelope("mosreg-2025-09-11-selyatino-fix", "coop.v1.EventCorrected", "hub/selyatino");
  v1::EventCorrected& correction = *event.mutable_event_corrected();
  correction.set_corrected_event_id("mosreg-2025-09-10-selyatino-plan");
  correction.set_reason("неверная дата завершения");
  *correction.mutable_hub_milestone() = SelyatinoPlan();
  return event;
}

struct NamedEvent {
  std::string name;
  std::function<v1::Event()> build;
};

void PrintTo(const NamedEvent& event, std::ostream* os) { *os << event.name; }

std::vector<NamedEvent> DomainEvents() {
  return {
      {"MemorandumSigned", testing::MemorandumSignedEvent},
      {"AgreementSigned", AgreementSignedEvent},
      {"HubMilestone", HubMilestoneEvent},
      {"TradeUpdate", TradeUpdateEvent},
      {"InvestmentIncentive", InvestmentIncentiveEvent},
      {"IndustrialSite", IndustrialSiteEvent},
      {"RegionProfile", RegionProfileEvent},
      {"BorderRegionProfile", BorderProfileEvent},
      {"DelegationVisit", DelegationVisitEvent},
      {"TourismFlow", TourismFlowEvent},
      {"RoadMapItem", RoadMapItemEvent},
      {"SampleCulturalEvent", testing::CulturalEventEvent},
      {"CulturalEvent", FullCulturalEvent},
      {"AgreementAmended", AgreementAmendedEvent},
      {"EventCorrected", EventCorrectedEvent},
  };
}

class DomainEventTest : public ::testing::TestWithParam<NamedEvent> {};

TEST_P(DomainEventTest, HasNoViolations) { EXPECT_THAT(Validate(GetParam().build()), IsEmpty()); }

TEST_P(DomainEventTest, HasNoViolationsWithoutRecordedTime) {
  EXPECT_THAT(ValidateEvent(GetParam().build(), "event"), IsEmpty());
}

// An unknown field in any message of the event is reported at that message's path. The walk
// covers every message the event sets, so no Check function can forget the rule.
TEST_P(DomainEventTest, UnknownFieldInAnyMessageIsReportedAtItsPath) {
  const v1::Event original = GetParam().build();
  struct Step {
    const google::protobuf::FieldDescriptor* field;
    int index;  // -1 for a singular field.
  };
  std::vector<std::pair<std::vector<Step>, std::string>> messages = {{{}, "event"}};
  for (size_t next = 0; next < messages.size(); ++next) {
    const google::protobuf::Message* message = &original;
    for (const Step& step : messages[next].first) {
      message = step.index < 0 ? &message->GetReflection()->GetMessage(*message, step.field)
                               : &message->GetReflection()->GetRepeatedMessage(*message, step.field,
                                                                               step.index);
    }
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    message->GetReflection()->ListFields(*message, &fields);
    for (const google::protobuf::FieldDescriptor* field : fields) {
      if (field->message_type() == nullptr || field->name() == "recorded_time") continue;
      const std::string path = absl::StrCat(messages[next].second, ".", field->name());
      const int count =
          field->is_repeated() ? message->GetReflection()->FieldSize(*message, field) : 1;
      for (int i = 0; i < count; ++i) {
        std::vector<Step> steps = messages[next].first;
        steps.push_back({field, field->is_repeated() ? i : -1});
        messages.emplace_back(steps, field->is_repeated() ? absl::StrCat(path, "[", i, "]") : path);
      }
    }
  }
  ASSERT_GE(messages.size(), 3u);  // The event, its payload and at least one message inside.
  for (const auto& [steps, path] : messages) {
    v1::Event event = original;
    google::protobuf::Message* message = &event;
    for (const Step& step : steps) {
      message = step.index < 0 ? message->GetReflection()->MutableMessage(message, step.field)
                               : message->GetReflection()->MutableRepeatedMessage(
                                     message, step.field, step.index);
    }
    message->GetReflection()->MutableUnknownFields(message)->AddVarint(999, 1);
    EXPECT_THAT(Validate(event),
                ElementsAre(Violation(path, "has fields unknown to this schema (numbers 999)")));
  }
}

INSTANTIATE_TEST_SUITE_P(AllPayloads, DomainEventTest, ::testing::ValuesIn(DomainEvents()),
                         [](const ::testing::TestParamInfo<NamedEvent>& info) {
                           return info.param.name;
                         });

TEST(EventValidatorTest, MultipleViolationsAreAllReportedInFieldOrder) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.set_id("has spaces");
  event.set_schema_version(2);
  v1::MemorandumSigned& memo = *event.mutable_memorandum_signed();
  memo.mutable_parties(1)->mutable_party()->mutable_region()->set_code("Moscow");
  memo.mutable_signed_on()->set_day(31);
  memo.add_areas(v1::COOPERATION_AREA_UNSPECIFIED);

  EXPECT_THAT(
      Validate(event),
      ElementsAre(
          Violation("event.id", "must be 1..128 characters of [A-Za-z0-9._:-]; got 'has spaces'"),
          Violation("event.schema_version", "must be 1; got 2"),
          Violation("event.memorandum_signed.parties[1].party.region.code", "got 'Moscow'"),
          Violation("event.memorandum_signed.signed_on.day", "must be 1..30 for 2025-09"),
          Violation("event.memorandum_signed.areas[5]",
                    "required: any value except COOPERATION_AREA_UNSPECIFIED")));
}

TEST(EventValidatorTest, PathsStartWithThePrefix) {
  v1::Event event = testing::CulturalEventEvent();
  event.mutable_cultural_event()->mutable_venue()->mutable_region()->set_code("ru-mow");

  EXPECT_THAT(Validate(event, "events[3]"),
              ElementsAre(Violation("events[3].cultural_event.venue.region.code", "got 'ru-mow'")));
}

TEST(EventValidatorTest, RegionCodeDescriptionNamesBothFormats) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.mutable_memorandum_signed()
      ->mutable_parties(1)
      ->mutable_party()
      ->mutable_region()
      ->set_code("Moscow");

  EXPECT_THAT(Validate(event),
              ElementsAre(FieldViolation{
                  .field = "event.memorandum_signed.parties[1].party.region.code",
                  .description = "must be an ISO 3166-2 code such as RU-MOS or an ISO 3166-1 "
                                 "alpha-2 code such as KZ; got 'Moscow'"}));
}

TEST(EventValidatorTest, ViolationsBeyondTheLimitAreCountedInOneLastEntry) {
  v1::Event event = RoadMapItemEvent();
  for (int i = 0; i < 150; ++i) event.mutable_road_map_item()->add_places();
  ValidationLimits limits{.max_violations = 10};

  const std::vector<FieldViolation> violations = ValidateEvent(event, "event", limits);

  ASSERT_THAT(violations, SizeIs(11));
  EXPECT_THAT(violations[0],
              Violation("event.road_map_item.places", "at most 20 entries; got 152"));
  EXPECT_THAT(violations[1], Violation("event.road_map_item.places[2].region", "required"));
  EXPECT_THAT(violations[10], Violation("event", "and 141 more violations not listed"));
}

TEST(EventValidatorTest, DescriptionOfInvalidUtf8IsValidUtf8) {
  v1::Event event = IndustrialSiteEvent();
  event.mutable_industrial_site()->set_locality("Солнечногорск\xFF");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.industrial_site.locality",
                                                     "must be valid UTF-8; invalid byte sequence "
                                                     "at byte 26 of 'Солнечногорск\\xFF'")));
}

TEST(EventValidatorTest, TypeNamingAnotherPayloadIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.set_type("coop.v1.AgreementSigned");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.type",
                                    "must be 'coop.v1.MemorandumSigned' to name the payload that "
                                    "is set (memorandum_signed); got 'coop.v1.AgreementSigned'")));
}

TEST(EventValidatorTest, MissingTypeNamesTheExpectedOne) {
  v1::Event event = HubMilestoneEvent();
  event.clear_type();

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.type", "'coop.v1.HubMilestone'")));
}

TEST(EventValidatorTest, EventWithoutPayloadIsRejected) {
  v1::Event event = Envelope("some-id", "coop.v1.HubMilestone", "hub/selyatino");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.payload", "required")));
}

TEST(EventValidatorTest, UnknownTypeWithoutPayloadIsRejected) {
  v1::Event event = Envelope("some-id", "coop.v2.Thing", "hub/selyatino");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.type", "got 'coop.v2.Thing'"),
                                           Violation("event.payload", "required")));
}

TEST(EventValidatorTest, SubjectOtherThanThePayloadsIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.set_subject("hub/almaty-agrohub");

  EXPECT_THAT(Validate(event),
              ElementsAre(FieldViolation{.field = "event.subject",
                                         .description = "must be 'hub/selyatino' (hub/{hub_id}); "
                                                        "got 'hub/almaty-agrohub'"}));
}

TEST(EventValidatorTest, RegionPairSubjectMustBeSorted) {
  v1::Event event = TradeUpdateEvent();
  event.set_subject("regions/RU-MOS:KZ");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.subject", "must be 'regions/KZ:RU-MOS'")));
}

TEST(EventValidatorTest, TourismFlowWithOriginHasRegionPairSubject) {
  v1::Event event = TourismFlowEvent();
  *event.mutable_tourism_flow()->mutable_origin() = Region("RU");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.subject", "'regions/KZ-19:RU'")));
  event.set_subject("regions/KZ-19:RU");
  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, IncentiveWithoutHubHasRegionSubject) {
  v1::Event event = InvestmentIncentiveEvent();
  event.mutable_investment_incentive()->clear_hub_id();
  event.set_subject("region/KZ-19");

  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, MalformedSubjectIsRejectedWhenThePayloadGivesNone) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->set_hub_id("Selyatino");
  event.set_subject("hub/Selyatino");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.subject", "followed by a Slug"),
                          Violation("event.hub_milestone.hub_id", "must be a Slug")));
}

TEST(EventValidatorTest, SchemaVersionZeroIsRejected) {
  v1::Event event = IndustrialSiteEvent();
  event.clear_schema_version();

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.schema_version", "must be 1; got 0")));
}

TEST(EventValidatorTest, TimeMoreThanFiveMinutesAfterRecordedTimeIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  *event.mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kRecordedTime) + 301);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.time", "more than 5 minutes after")));
  *event.mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kRecordedTime) + 300);
  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, TimeBefore1900IsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.mutable_time()->set_seconds(-2208988801);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.time", "before 1900-01-01")));
}

TEST(EventValidatorTest, ClientSourceAndRecordedTimeAreIgnored) {
  v1::Event event = IndustrialSiteEvent();
  event.set_source(std::string(2'000'000, 'x'));
  event.mutable_recorded_time()->set_nanos(-1);
  google::protobuf::Timestamp::GetReflection()
      ->MutableUnknownFields(event.mutable_recorded_time())
      ->AddVarint(999, 1);

  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, OversizeEventIsRejected) {
  v1::Event event = HubMilestoneEvent();
  for (int i = 0; i < 20; ++i) {
    event.mutable_hub_milestone()->add_facilities()->set_kind(v1::FACILITY_KIND_WAREHOUSE);
  }
  const size_t size = event.ByteSizeLong();
  ValidationLimits limits{.max_event_bytes = size - 1};

  EXPECT_THAT(
      ValidateEvent(event, "event", limits),
      ElementsAre(FieldViolation{.field = "event",
                                 .description = absl::StrCat("must be at most ", size - 1,
                                                             " bytes serialized; got ", size)}));
  limits.max_event_bytes = size;
  EXPECT_THAT(ValidateEvent(event, "event", limits), IsEmpty());
}

TEST(EventValidatorTest, CorrelationIdWithSpaceIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.set_correlation_id("forum 2025");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.correlation_id", "got 'forum 2025'")));
}

TEST(EventValidatorTest, CausationSourceRequiresCausationId) {
  v1::Event event = AgreementAmendedEvent();
  event.set_causation_source("publishers/mosreg-government");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.causation_source", "requires causation_id")));
  event.set_causation_id("mosreg-2025-09-10-memorandum");
  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, CausationSourceMustNameAPublisher) {
  v1::Event event = AgreementAmendedEvent();
  event.set_causation_id("mosreg-2025-09-10-memorandum");
  event.set_causation_source("mosreg-government");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.causation_source",
                                                     "must be 'publishers/' followed by a Slug")));
}

TEST(EventValidatorTest, KazakhAndCyrillicTextPasses) {
  v1::Event event = FullCulturalEvent();
  event.mutable_cultural_event()->set_title("Әлқисса");
  event.mutable_cultural_event()->mutable_venue()->set_locality("Қонаев");
  event.mutable_cultural_event()->mutable_venue()->mutable_region()->set_code("KZ-19");
  event.mutable_cultural_event()->mutable_honorees(0)->mutable_person()->set_name(
      "Нұрғиса Тілендиев");

  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, TextLengthCountsCodePointsNotBytes) {
  v1::Event event = testing::MemorandumSignedEvent();
  std::string name;
  for (int i = 0; i < 300; ++i) name += "Ж";
  ASSERT_EQ(name.size(), 600u);
  event.mutable_memorandum_signed()->mutable_parties(0)->mutable_party()->set_name(name);
  // The signatory's party must stay equal to the principal; it is matched by party_id.

  EXPECT_THAT(Validate(event), IsEmpty());
  event.mutable_memorandum_signed()->mutable_parties(0)->mutable_party()->set_name(name + "Ә");
  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.memorandum_signed.parties[0].party.name",
                                    "must be 1..300 characters (Unicode code points); got 301")));
}

TEST(EventValidatorTest, ControlCharacterInTextIsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  event.mutable_cultural_event()->set_title("Әлқ\tисса");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.cultural_event.title", "found U+0009 at character 4")));
}

TEST(EventValidatorTest, C1ControlCharacterInTextIsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  event.mutable_cultural_event()->set_title("Әлқисса\u0085");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.cultural_event.title", "found U+0085 at character 8")));
}

TEST(EventValidatorTest, LineFeedIsAllowedOnlyInMultiLineText) {
  v1::Event event = FullCulturalEvent();
  event.mutable_cultural_event()->set_description("Концерт.\nДирижёр — Динзухра Тлендиева.");
  EXPECT_THAT(Validate(event), IsEmpty());

  event.mutable_cultural_event()->set_programme("Календарь\nЮНЕСКО");
  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.cultural_event.programme",
                                                     "found U+000A at character 10")));
}

TEST(EventValidatorTest, TextBeginningWithNoBreakSpaceIsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  event.mutable_cultural_event()->set_title("\u00A0Әлқисса");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.cultural_event.title",
                                                     "must not begin or end with a space")));
}

TEST(EventValidatorTest, InvalidUtf8IsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  event.mutable_cultural_event()->set_title("\xD0");  // A truncated two-byte sequence.

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.cultural_event.title", "must be valid UTF-8")));
}

TEST(EventValidatorTest, EncodedSurrogateIsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  event.mutable_cultural_event()->set_title("\xED\xA0\x80");  // U+D800

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.cultural_event.title", "must be valid UTF-8")));
}

TEST(EventValidatorTest, MissingRequiredTextIsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  event.mutable_cultural_event()->clear_title();

  EXPECT_THAT(Validate(event), ElementsAre(FieldViolation{.field = "event.cultural_event.title",
                                                          .description = "required: 1..500 "
                                                                         "characters"}));
}

TEST(EventValidatorTest, UnknownEnumNumberIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.mutable_memorandum_signed()->mutable_parties(0)->mutable_party()->set_kind(
      static_cast<v1::PartyKind>(42));

  EXPECT_THAT(Validate(event), ElementsAre(FieldViolation{
                                   .field = "event.memorandum_signed.parties[0].party.kind",
                                   .description = "must be a known PartyKind value; got 42"}));
}

TEST(EventValidatorTest, UnknownCooperationAreaIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.mutable_memorandum_signed()->add_areas(static_cast<v1::CooperationArea>(99));

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.memorandum_signed.areas[5]",
                                                     "must be a known CooperationArea value")));
}

TEST(EventValidatorTest, DuplicateAreaIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.mutable_memorandum_signed()->add_areas(v1::COOPERATION_AREA_TRADE);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.memorandum_signed.areas[5]", "duplicate of areas[1]")));
}

TEST(EventValidatorTest, RoleNotAllowedByTheFieldIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  AddInvolved(event.mutable_memorandum_signed()->mutable_parties(), kTlcAlatau,
              v1::PARTY_ROLE_OPERATOR);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.memorandum_signed.parties[2].role",
                                    "must be one of PARTY_ROLE_PRINCIPAL, PARTY_ROLE_COORDINATOR, "
                                    "PARTY_ROLE_PARTNER, PARTY_ROLE_OBSERVER; got "
                                    "PARTY_ROLE_OPERATOR")));
}

TEST(EventValidatorTest, UnspecifiedRequiredEnumIsRejected) {
  v1::Event event = IndustrialSiteEvent();
  event.mutable_industrial_site()->clear_format();

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.industrial_site.format",
                                                     "any value except SITE_FORMAT_UNSPECIFIED")));
}

TEST(EventValidatorTest, IndustrialSiteRegionMustBeASubdivision) {
  v1::Event event = IndustrialSiteEvent();
  *event.mutable_industrial_site()->mutable_region() = Region("RU");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.industrial_site.region.code",
                                                     "must be an ISO 3166-2 code such as RU-MOS; "
                                                     "got 'RU'")));
}

TEST(EventValidatorTest, ParticipatingCountryMustBeACountry) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_participating_countries(2)->set_code("RU-MOS");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.participating_countries[2].code",
                                    "must be an ISO 3166-1 alpha-2 code such as KZ")));
}

TEST(EventValidatorTest, EmbassyRegionMustBeItsCountry) {
  v1::Event event = testing::MemorandumSignedEvent();
  const v1::Party embassy = Party("kz-embassy-moscow", "Посольство Республики Казахстан в РФ",
                                  v1::PARTY_KIND_EMBASSY, "RU-MOW");
  *event.mutable_memorandum_signed()->add_participants() = Participant(
      "Даурен Абаев", "Посол Казахстана в России", v1::PARTICIPANT_ROLE_WITNESS, &embassy);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.memorandum_signed.participants[2].party.region.code",
                                    "ISO 3166-1 alpha-2 code such as KZ; got 'RU-MOW'")));
}

TEST(EventValidatorTest, CurrencyCodeMustBeThreeUpperCaseLetters) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_investment()->set_currency_code("rub");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.investment.currency_code",
                                                     "RUB, KZT, USD or CNY; got 'rub'")));
}

TEST(EventValidatorTest, NegativeMoneyIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_investment()->set_units(-14'000'000'000);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.investment.units",
                                                     "must not be negative")));
}

TEST(EventValidatorTest, NegativeNanosOnlyIsANegativeAmount) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_investment()->set_units(0);
  event.mutable_hub_milestone()->mutable_investment()->set_nanos(-500'000'000);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.investment.nanos",
                                                     "must not be negative")));
}

TEST(EventValidatorTest, NanosWithTheOtherSignThanUnitsIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_investment()->set_nanos(-1);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.investment.nanos",
                                                     "must have the same sign as units")));
}

TEST(EventValidatorTest, NanosOfABillionIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_investment()->set_nanos(1'000'000'000);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.investment.nanos",
                                                     "must be -999999999..999999999")));
}

TEST(EventValidatorTest, NanPercentageIsRejected) {
  v1::Event event = TourismFlowEvent();
  event.mutable_tourism_flow()->mutable_shares(0)->set_percent(
      std::numeric_limits<double>::quiet_NaN());

  EXPECT_THAT(Validate(event),
              ElementsAre(FieldViolation{.field = "event.tourism_flow.shares[0].percent",
                                         .description = "must be a finite number > 0 and <= 100; "
                                                        "got nan"}));
}

TEST(EventValidatorTest, InfinitePercentCompleteIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->set_percent_complete(std::numeric_limits<double>::infinity());

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.percent_complete",
                                                     "must be a finite number >= 0")));
}

TEST(EventValidatorTest, ShareAbove100IsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_shares(0)->set_percent(100.5);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.shares[0].percent", "got 100.5")));
}

TEST(EventValidatorTest, GrowthRatioOfZeroIsRejected) {
  v1::Event event = TradeUpdateEvent();
  event.mutable_trade_update()->mutable_growth()->set_ratio(0);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.trade_update.growth.ratio",
                                                     "must be a finite number > 0; got 0")));
}

TEST(EventValidatorTest, FractionalCountIsRejected) {
  v1::Event event = TourismFlowEvent();
  event.mutable_tourism_flow()->mutable_tourists()->set_value(135000.5);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.tourism_flow.tourists.value",
                                                     "must be a whole number for UNIT_PERSON")));
}

TEST(EventValidatorTest, NegativeQuantityIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_total_area()->set_value(-65000);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.total_area.value", "must be >= 0")));
}

TEST(EventValidatorTest, UnitNotAllowedByTheFieldIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_total_area()->set_unit(v1::UNIT_TONNE);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.total_area.unit", "got UNIT_TONNE")));
}

TEST(EventValidatorTest, February29InANonLeapYearIsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  *event.mutable_cultural_event()->mutable_held_on() = Date(2025, 2, 29);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.cultural_event.held_on.day",
                                                     "must be 1..28 for 2025-02")));
}

TEST(EventValidatorTest, February29InALeapYearPasses) {
  v1::Event event = testing::CulturalEventEvent();
  *event.mutable_cultural_event()->mutable_held_on() = Date(2024, 2, 29);

  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, DayWithoutMonthIsRejected) {
  v1::Event event = testing::CulturalEventEvent();
  *event.mutable_cultural_event()->mutable_held_on() = Date(2025, 0, 5);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.cultural_event.held_on.day", "requires month")));
}

TEST(EventValidatorTest, YearOutsideRangeAndMonth13AreBothReported) {
  v1::Event event = testing::CulturalEventEvent();
  *event.mutable_cultural_event()->mutable_held_on() = Date(1899, 13);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.cultural_event.held_on.year", "must be 1900..2200"),
                          Violation("event.cultural_event.held_on.month", "must be 1..12")));
}

TEST(EventValidatorTest, SigningDateInTheFutureIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  *event.mutable_memorandum_signed()->mutable_signed_on() = Date(2025, 9, 13);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.memorandum_signed.signed_on",
                                    "must not be in the future: 2025-09-13 begins after "
                                    "2025-09-12")));
  // Without the server's recorded_time the rule is not checked.
  EXPECT_THAT(ValidateEvent(event, "event"), IsEmpty());
}

TEST(EventValidatorTest, SigningMonthThatHasBegunIsNotInTheFuture) {
  v1::Event event = testing::MemorandumSignedEvent();
  *event.mutable_memorandum_signed()->mutable_signed_on() = Date(2025, 9);

  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, PeriodEndingBeforeItStartsIsRejected) {
  v1::Event event = TradeUpdateEvent();
  *event.mutable_trade_update()->mutable_period() = Period(Date(2025), Date(2020));

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.trade_update.period.end",
                                                     "must not end before start begins")));
}

TEST(EventValidatorTest, GrowthPeriodOutsideTheUpdatePeriodIsRejected) {
  v1::Event event = TradeUpdateEvent();
  *event.mutable_trade_update()->mutable_growth()->mutable_base_period()->mutable_start() =
      Date(2019);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.trade_update.growth.base_period",
                                                     "must lie within the period of the update, "
                                                     "2020-01-01 to 2025-12-31")));
}

TEST(EventValidatorTest, ComparedPeriodBeforeBasePeriodIsRejected) {
  v1::Event event = TradeUpdateEvent();
  v1::GrowthRatio& growth = *event.mutable_trade_update()->mutable_growth();
  *growth.mutable_base_period()->mutable_start() = Date(2025);
  *growth.mutable_compared_period()->mutable_start() = Date(2020);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.trade_update.growth.compared_period",
                                                     "must not start before base_period")));
}

TEST(EventValidatorTest, MemorandumWithOnePartyNamesPartiesField) {
  v1::Event event = testing::MemorandumSignedEvent();
  v1::MemorandumSigned& memo = *event.mutable_memorandum_signed();
  memo.mutable_parties()->RemoveLast();
  memo.mutable_participants()->RemoveLast();

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.memorandum_signed.parties",
                                    "at least two parties with role PARTY_ROLE_PRINCIPAL; got 1 "
                                    "among 1 parties")));
}

TEST(EventValidatorTest, AgreementWithOnePrincipalAndAnOperatorIsRejected) {
  v1::Event event = AgreementSignedEvent();
  v1::AgreementSigned& agreement = *event.mutable_agreement_signed();
  agreement.mutable_parties(1)->set_role(v1::PARTY_ROLE_OPERATOR);
  agreement.mutable_parties(2)->set_role(v1::PARTY_ROLE_INVESTOR);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.agreement_signed.parties", "got 1 among 3 parties")));
}

TEST(EventValidatorTest, MemorandumWithoutSignatoryIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  event.mutable_memorandum_signed()->clear_participants();

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.memorandum_signed.participants",
                                                     "at least one participant with role "
                                                     "PARTICIPANT_ROLE_SIGNATORY")));
}

TEST(EventValidatorTest, SignatoryForANonPrincipalIsRejected) {
  v1::Event event = AgreementSignedEvent();
  const v1::Party samruk =
      Party("kz-samruk-kazyna", "АО «Самрук-Қазына»", v1::PARTY_KIND_STATE_COMPANY, "KZ");
  *event.mutable_agreement_signed()->add_participants() =
      Participant("Подписант", "", v1::PARTICIPANT_ROLE_SIGNATORY, &samruk);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.agreement_signed.participants[0].party",
                                                     "must be one of the principal parties")));
}

TEST(EventValidatorTest, SignatoryMatchesPrincipalWithoutIdByNameAndRegion) {
  v1::Event event = AgreementSignedEvent();
  v1::Party* tlc = event.mutable_agreement_signed()->mutable_parties(2)->mutable_party();
  tlc->clear_party_id();
  *event.mutable_agreement_signed()->add_participants() =
      Participant("Директор ТЛЦ", "", v1::PARTICIPANT_ROLE_SIGNATORY, tlc);
  EXPECT_THAT(Validate(event), IsEmpty());

  event.mutable_agreement_signed()
      ->mutable_participants(0)
      ->mutable_party()
      ->mutable_region()
      ->set_code("KZ");
  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.agreement_signed.participants[0].party",
                                                     "must be one of the principal parties")));
}

TEST(EventValidatorTest, WitnessWithoutPartyIsRejected) {
  v1::Event event = testing::MemorandumSignedEvent();
  *event.mutable_memorandum_signed()->add_participants() =
      Participant("Даурен Абаев", "", v1::PARTICIPANT_ROLE_WITNESS, nullptr);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.memorandum_signed.participants[2].party",
                                    "required for role PARTICIPANT_ROLE_WITNESS")));
}

TEST(EventValidatorTest, DuplicatePartyIdIsRejected) {
  v1::Event event = AgreementSignedEvent();
  event.mutable_agreement_signed()->mutable_parties(2)->mutable_party()->set_party_id(
      "kz-ktz-express");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.agreement_signed.parties[2].party.party_id",
                                    "is also the id of parties[1]")));
}

TEST(EventValidatorTest, AmendmentBackToSignedIsRejected) {
  v1::Event event = AgreementAmendedEvent();
  event.mutable_agreement_amended()->set_new_status(v1::AGREEMENT_STATUS_SIGNED);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.agreement_amended.new_status",
                                                     "got AGREEMENT_STATUS_SIGNED")));
}

TEST(EventValidatorTest, PlannedMilestoneNeedsPlannedOnAndNoActualOn) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->clear_planned_on();
  *event.mutable_hub_milestone()->mutable_actual_on() = Date(2025, 9);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.planned_on",
                                    "required for HUB_MILESTONE_KIND_PLANNED"),
                          Violation("event.hub_milestone.actual_on",
                                    "must be unset for HUB_MILESTONE_KIND_PLANNED")));
}

TEST(EventValidatorTest, PhaseCompletedNeedsPhaseAndActualOn) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->set_milestone_kind(v1::HUB_MILESTONE_KIND_PHASE_COMPLETED);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.phase", "must be >= 1"),
                                           Violation("event.hub_milestone.actual_on", "required")));
  event.mutable_hub_milestone()->set_phase(2);
  *event.mutable_hub_milestone()->mutable_actual_on() = Date(2025, 9, 1);
  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, CompletedHubMustHavePhaseZero) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->set_milestone_kind(v1::HUB_MILESTONE_KIND_COMPLETED);
  event.mutable_hub_milestone()->set_phase(1);
  *event.mutable_hub_milestone()->mutable_actual_on() = Date(2025, 8);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.phase", "must be 0")));
}

TEST(EventValidatorTest, ProgressReportNeedsPercentComplete) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->set_milestone_kind(v1::HUB_MILESTONE_KIND_PROGRESS_REPORTED);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.percent_complete",
                                                     "required for "
                                                     "HUB_MILESTONE_KIND_PROGRESS_REPORTED")));
}

TEST(EventValidatorTest, ActualDateInTheFutureIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->set_milestone_kind(v1::HUB_MILESTONE_KIND_OPERATION_STARTED);
  *event.mutable_hub_milestone()->mutable_actual_on() = Date(2026, 4);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.actual_on", "must not be in the future")));
}

TEST(EventValidatorTest, JobsAboveTenMillionAreRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->set_jobs(10'000'001);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.hub_milestone.jobs",
                                                     "must be 0..10000000; got 10000001")));
}

TEST(EventValidatorTest, CapacityBaselineInAnotherUnitThanTargetIsRejected) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->mutable_capacities(0)->mutable_baseline()->set_unit(
      v1::UNIT_TONNE);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.capacities[0].baseline.unit",
                                    "must equal target.unit (UNIT_TONNE_PER_YEAR); got "
                                    "UNIT_TONNE")));
}

TEST(EventValidatorTest, OtherFacilityNeedsAName) {
  v1::Event event = HubMilestoneEvent();
  event.mutable_hub_milestone()->add_facilities()->set_kind(v1::FACILITY_KIND_OTHER);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.hub_milestone.facilities[0].name", "required")));
}

TEST(EventValidatorTest, TradeUpdateWithoutAnyFigureNamesTheMessage) {
  v1::Event event = TradeUpdateEvent();
  event.mutable_trade_update()->clear_growth();

  EXPECT_THAT(Validate(event),
              ElementsAre(FieldViolation{
                  .field = "event.trade_update",
                  .description = "must state at least one of value, volume, growth and trend"}));
  event.mutable_trade_update()->set_trend(v1::TRADE_TREND_GROWING);
  EXPECT_THAT(Validate(event), IsEmpty());
}

TEST(EventValidatorTest, TradePartnerThatIsTheReportingRegionsCountryIsRejected) {
  v1::Event event = TradeUpdateEvent();
  *event.mutable_trade_update()->mutable_partner_region() = Region("RU");
  event.set_subject("regions/RU:RU-MOS");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.trade_update.partner_region.code",
                                                     "must not be the country of")));
}

TEST(EventValidatorTest, ReliefPercentOnASubsidyIsRejected) {
  v1::Event event = InvestmentIncentiveEvent();
  event.mutable_investment_incentive()->set_kind(v1::INCENTIVE_KIND_SUBSIDY);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.investment_incentive.relief_percent",
                                                     "allowed only for")));
}

TEST(EventValidatorTest, OtherIncentiveNeedsADescription) {
  v1::Event event = InvestmentIncentiveEvent();
  event.mutable_investment_incentive()->set_kind(v1::INCENTIVE_KIND_OTHER);
  event.mutable_investment_incentive()->clear_relief_percent();
  event.mutable_investment_incentive()->clear_description();

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.investment_incentive.description", "required")));
}

TEST(EventValidatorTest, RegionFactInTheWrongUnitIsRejected) {
  v1::Event event = RegionProfileEvent();
  event.mutable_region_profile()->mutable_facts(1)->mutable_value()->set_unit(v1::UNIT_HECTARE);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.region_profile.facts[1].value.unit",
                                                     "must be one of UNIT_COUNT; got "
                                                     "UNIT_HECTARE")));
}

TEST(EventValidatorTest, BorderFactNeedsACounterpartAndOthersMustNotHaveOne) {
  v1::Event event = BorderProfileEvent();
  event.mutable_region_profile()->mutable_facts(0)->clear_counterpart();
  AddFact(*event.mutable_region_profile(), v1::REGION_FACT_KIND_AREA,
          Quantity(2'724'900, v1::UNIT_SQUARE_KILOMETRE), "RU");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.region_profile.facts[0].counterpart", "required for"),
                          Violation("event.region_profile.facts[3].counterpart",
                                    "must be unset for REGION_FACT_KIND_AREA")));
}

TEST(EventValidatorTest, BorderRankBelowOneIsRejected) {
  v1::Event event = BorderProfileEvent();
  event.mutable_region_profile()->mutable_facts(2)->mutable_value()->set_value(0);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.region_profile.facts[2].value.value", "must be >= 1")));
}

TEST(EventValidatorTest, TwoFactsOfOneKindAndCounterpartAreRejected) {
  v1::Event event = RegionProfileEvent();
  AddFact(*event.mutable_region_profile(), v1::REGION_FACT_KIND_INDUSTRIAL_PARK_COUNT,
          Quantity(73, v1::UNIT_COUNT));

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.region_profile.facts[3]", "duplicate of facts[1]")));
}

TEST(EventValidatorTest, DelegationWithTwoHeadsIsRejected) {
  v1::Event event = DelegationVisitEvent();
  *event.mutable_delegation_visit()->add_participants() =
      Participant("Второй глава", "", v1::PARTICIPANT_ROLE_HEAD_OF_DELEGATION, &kAlmatyAkimat);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.delegation_visit.participants[1].role",
                                                     "participants[0] already is")));
}

TEST(EventValidatorTest, DelegationVisitingItsOwnRegionIsRejected) {
  v1::Event event = DelegationVisitEvent();
  *event.mutable_delegation_visit()->mutable_host_region() = Region("KZ-19");
  event.set_subject("region/KZ-19");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.delegation_visit.host_region.code",
                                                     "must differ from visiting_region.code")));
}

TEST(EventValidatorTest, CulturalAnniversaryAbove1000IsRejected) {
  v1::Event event = FullCulturalEvent();
  event.mutable_cultural_event()->mutable_honorees(0)->set_anniversary_years(1001);

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.cultural_event.honorees[0].anniversary_years", "1001")));
}

TEST(EventValidatorTest, CorrectedPayloadIsValidatedUnderItsOwnPath) {
  v1::Event event = EventCorrectedEvent();
  *event.mutable_event_corrected()->mutable_hub_milestone()->mutable_planned_on() =
      Date(2025, 2, 29);

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.event_corrected.hub_milestone."
                                                     "planned_on.day",
                                                     "must be 1..28")));
}

TEST(EventValidatorTest, CorrectionSubjectIsTheCorrectedPayloads) {
  v1::Event event = EventCorrectedEvent();
  event.set_subject("hub/almaty-agrohub");

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.subject",
                                                     "must be 'hub/selyatino' (the subject of "
                                                     "the corrected payload, hub/{hub_id})")));
}

TEST(EventValidatorTest, CorrectionOfItselfIsRejected) {
  v1::Event event = EventCorrectedEvent();
  event.mutable_event_corrected()->set_corrected_event_id(event.id());

  EXPECT_THAT(Validate(event), ElementsAre(Violation("event.event_corrected.corrected_event_id",
                                                     "must differ from the id of this event")));
}

TEST(EventValidatorTest, CorrectionWithoutPayloadIsRejected) {
  v1::Event event = EventCorrectedEvent();
  event.mutable_event_corrected()->clear_corrected();

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.event_corrected.corrected", "required")));
}

TEST(EventValidatorTest, CorrectionTypeMustBeEventCorrected) {
  v1::Event event = EventCorrectedEvent();
  event.set_type("coop.v1.HubMilestone");

  EXPECT_THAT(Validate(event),
              ElementsAre(Violation("event.type", "must be 'coop.v1.EventCorrected'")));
}

}  // namespace
}  // namespace coop::publisher

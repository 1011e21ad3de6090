#include "tests/testing/seed_events.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "coop/v1/events.pb.h"
#include "coop/v1/types.pb.h"

namespace coop::testing {
namespace {

namespace v1 = ::coop::v1;

v1::RegionRef Region(const char* code) {
  v1::RegionRef region;
  region.set_code(code);
  return region;
}

v1::Party MakeParty(const char* id, const char* name, const char* name_latin, v1::PartyKind kind,
                    const char* region) {
  v1::Party party;
  party.set_party_id(id);
  party.set_name(name);
  party.set_name_latin(name_latin);
  party.set_kind(kind);
  *party.mutable_region() = Region(region);
  return party;
}

// The organisations of the articles, in their original scripts.
v1::Party MosregGovernment() {
  return MakeParty("mosreg-government", "Правительство Московской области",
                   "Government of Moscow Oblast", v1::PARTY_KIND_GOVERNMENT, "RU-MOS");
}
v1::Party AlmatyRegionAkimat() {
  return MakeParty("almaty-region-akimat", "Акимат Алматинской области", "Akimat of Almaty Region",
                   v1::PARTY_KIND_AKIMAT, "KZ-19");
}
v1::Party KazakhEmbassy() {
  return MakeParty("kz-embassy-russia", "Посольство Республики Казахстан в Российской Федерации",
                   "Embassy of the Republic of Kazakhstan in the Russian Federation",
                   v1::PARTY_KIND_EMBASSY, "KZ");
}
v1::Party SamrukKazyna() {
  return MakeParty("kz-samruk-kazyna", "АО «Самрук-Қазына»", "JSC Samruk-Kazyna",
                   v1::PARTY_KIND_STATE_COMPANY, "KZ");
}
v1::Party Ktz() {
  return MakeParty("kz-ktz", "АО «Қазақстан темір жолы»", "JSC Kazakhstan Temir Zholy",
                   v1::PARTY_KIND_STATE_COMPANY, "KZ");
}
v1::Party SlavtransService() {
  return MakeParty("ru-slavtrans-service", "АО «Славтранс-Сервис»", "JSC Slavtrans-Service",
                   v1::PARTY_KIND_COMPANY, "RU-MOS");
}
v1::Party KtzExpress() {
  return MakeParty("kz-ktz-express", "АО «KTZ-Express»", "JSC KTZ-Express",
                   v1::PARTY_KIND_STATE_COMPANY, "KZ");
}
v1::Party TlcAlatau() {
  return MakeParty("kz-tlc-alatau", "ТОО «ТЛЦ Алатау»", "LLP TLC Alatau", v1::PARTY_KIND_COMPANY,
                   "KZ-19");
}
v1::Party DigitalDepartment() {
  return MakeParty("almaty-region-digital", "Управление цифровых технологий Алматинской области",
                   "Digital Technologies Department of Almaty Region",
                   v1::PARTY_KIND_GOVERNMENT_DEPARTMENT, "KZ-19");
}
v1::Party TourismDepartment() {
  return MakeParty("almaty-region-tourism", "Управление туризма Алматинской области",
                   "Tourism Department of Almaty Region", v1::PARTY_KIND_GOVERNMENT_DEPARTMENT,
                   "KZ-19");
}

v1::InvolvedParty Involved(v1::Party party, v1::PartyRole role) {
  v1::InvolvedParty involved;
  *involved.mutable_party() = std::move(party);
  involved.set_role(role);
  return involved;
}

v1::Participant Person(const char* name, const char* name_latin, const char* title,
                       v1::ParticipantRole role, const v1::Party* party) {
  v1::Participant participant;
  participant.mutable_person()->set_name(name);
  participant.mutable_person()->set_name_latin(name_latin);
  participant.mutable_person()->set_title(title);
  participant.set_role(role);
  if (party != nullptr) *participant.mutable_party() = *party;
  return participant;
}

v1::PartialDate Date(int32_t year, int32_t month = 0, int32_t day = 0) {
  v1::PartialDate date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::Period PeriodOf(v1::PartialDate start) {
  v1::Period period;
  *period.mutable_start() = std::move(start);
  return period;
}

v1::Period PeriodOf(v1::PartialDate start, v1::PartialDate end) {
  v1::Period period = PeriodOf(std::move(start));
  *period.mutable_end() = std::move(end);
  return period;
}

v1::Place PlaceOf(const char* name, const char* locality, const char* region) {
  v1::Place place;
  place.set_name(name);
  place.set_locality(locality);
  *place.mutable_region() = Region(region);
  return place;
}

v1::Quantity Amount(double value, v1::Unit unit, v1::Qualifier qualifier) {
  v1::Quantity quantity;
  quantity.set_value(value);
  quantity.set_unit(unit);
  quantity.set_qualifier(qualifier);
  return quantity;
}

v1::Share ShareOf(double percent, v1::Qualifier qualifier, const char* description) {
  v1::Share share;
  share.set_percent(percent);
  share.set_qualifier(qualifier);
  share.set_description(description);
  return share;
}

v1::Event Envelope(const char* source, const char* id, const std::string& subject) {
  v1::Event event;
  event.set_id(id);
  event.set_source(source);
  event.set_subject(subject);
  event.set_schema_version(1);
  return event;
}

constexpr char kForum[] = "forum-2025-09-10";
constexpr char kForumName[] = "Бизнес-форум Московской и Алматинской областей";

v1::Event Memorandum() {
  v1::Event event = Envelope(kMosregSource, "mosreg-2025-09-10-memorandum",
                             "agreement/ru-mos-kz-19-memorandum-2025");
  event.set_correlation_id(kForum);
  v1::MemorandumSigned& memo = *event.mutable_memorandum_signed();
  memo.set_agreement_id("ru-mos-kz-19-memorandum-2025");
  memo.set_title("Меморандум о развитии сотрудничества между Московской и Алматинской областями");
  const v1::Party mosreg = MosregGovernment();
  const v1::Party akimat = AlmatyRegionAkimat();
  const v1::Party embassy = KazakhEmbassy();
  *memo.add_parties() = Involved(mosreg, v1::PARTY_ROLE_PRINCIPAL);
  *memo.add_parties() = Involved(akimat, v1::PARTY_ROLE_PRINCIPAL);
  *memo.add_parties() = Involved(embassy, v1::PARTY_ROLE_OBSERVER);
  *memo.add_participants() =
      Person("Андрей Воробьев", "Andrei Vorobyov", "Губернатор Московской области",
             v1::PARTICIPANT_ROLE_SIGNATORY, &mosreg);
  *memo.add_participants() =
      Person("Марат Султангазиев", "Marat Sultangaziev", "Аким Алматинской области",
             v1::PARTICIPANT_ROLE_SIGNATORY, &akimat);
  *memo.add_participants() =
      Person("Даурен Абаев", "Dauren Abayev",
             "Чрезвычайный и Полномочный Посол Республики Казахстан в Российской Федерации",
             v1::PARTICIPANT_ROLE_WITNESS, &embassy);
  *memo.mutable_signed_on() = Date(2025, 9, 10);
  *memo.mutable_place() = PlaceOf(kForumName, "", "RU-MOS");
  memo.set_occasion(kForumName);
  for (v1::CooperationArea area :
       {v1::COOPERATION_AREA_ECONOMY, v1::COOPERATION_AREA_TRADE, v1::COOPERATION_AREA_LOGISTICS,
        v1::COOPERATION_AREA_EDUCATION, v1::COOPERATION_AREA_CULTURE, v1::COOPERATION_AREA_TOURISM,
        v1::COOPERATION_AREA_TECHNOLOGY}) {
    memo.add_areas(area);
  }
  memo.set_summary(
      "Развитие сотрудничества между Московской и Алматинской областями в сферах экономики, "
      "торговли, логистики, образования, культуры, туризма и технологий.");
  return event;
}

v1::Event SelyatinoAgreement() {
  v1::Event event = Envelope(kMosregSource, "mosreg-2024-06-spief-selyatino-agreement",
                             "agreement/selyatino-hub-2024");
  v1::AgreementSigned& agreement = *event.mutable_agreement_signed();
  agreement.set_agreement_id("selyatino-hub-2024");
  agreement.set_title(
      "Соглашение о создании транспортно-логистического хаба на базе ТЛЦ «Селятино»");
  *agreement.add_parties() = Involved(MosregGovernment(), v1::PARTY_ROLE_PRINCIPAL);
  *agreement.add_parties() = Involved(SamrukKazyna(), v1::PARTY_ROLE_PRINCIPAL);
  *agreement.add_parties() = Involved(Ktz(), v1::PARTY_ROLE_PRINCIPAL);
  *agreement.mutable_signed_on() = Date(2024, 6);
  *agreement.mutable_place() = PlaceOf("", "Санкт-Петербург", "RU-SPE");
  agreement.set_occasion("Петербургский международный экономический форум");
  agreement.set_purpose(
      "Создание крупного транспортно-логистического хаба на базе ТЛЦ «Селятино» в "
      "Наро-Фоминском городском округе");
  agreement.add_areas(v1::COOPERATION_AREA_LOGISTICS);
  agreement.add_areas(v1::COOPERATION_AREA_TRANSPORT);
  agreement.add_hub_ids("selyatino");
  return event;
}

v1::Event AgrohubAgreement() {
  v1::Event event = Envelope(kAkimatSource, "akimat-2025-09-10-agrohub-agreement",
                             "agreement/almaty-agrohub-2025");
  event.set_correlation_id(kForum);
  v1::AgreementSigned& agreement = *event.mutable_agreement_signed();
  agreement.set_agreement_id("almaty-agrohub-2025");
  agreement.set_title("Трехстороннее соглашение о создании Агрохаба в Алматинской области");
  const v1::Party slavtrans = SlavtransService();
  *agreement.add_parties() = Involved(slavtrans, v1::PARTY_ROLE_PRINCIPAL);
  *agreement.add_parties() = Involved(KtzExpress(), v1::PARTY_ROLE_PRINCIPAL);
  *agreement.add_parties() = Involved(TlcAlatau(), v1::PARTY_ROLE_PRINCIPAL);
  *agreement.add_participants() = Person("Андрей Голландцев", "Andrei Gollandtsev",
                                         "Председатель совета директоров АО «Славтранс-Сервис»",
                                         v1::PARTICIPANT_ROLE_SPEAKER, &slavtrans);
  *agreement.mutable_signed_on() = Date(2025, 9, 10);
  *agreement.mutable_place() = PlaceOf(kForumName, "", "RU-MOS");
  agreement.set_occasion(kForumName);
  agreement.set_purpose(
      "Создание Агрохаба на территории Алматинской области: 75 га с контейнерным терминалом, "
      "складами, таможенным терминалом и большим оптово-розничным центром");
  agreement.add_areas(v1::COOPERATION_AREA_LOGISTICS);
  agreement.add_areas(v1::COOPERATION_AREA_AGRICULTURE);
  agreement.add_areas(v1::COOPERATION_AREA_TRADE);
  agreement.add_hub_ids("almaty-agrohub");
  return event;
}

v1::Event SelyatinoPlan() {
  v1::Event event = Envelope(kMosregSource, "mosreg-2025-09-10-selyatino-plan", "hub/selyatino");
  event.set_correlation_id(kForum);
  v1::HubMilestone& hub = *event.mutable_hub_milestone();
  hub.set_hub_id("selyatino");
  hub.set_hub_name("ТЛЦ «Селятино»");
  hub.set_hub_kind(v1::HUB_KIND_LOGISTICS);
  *hub.mutable_location() = PlaceOf("ТЛЦ «Селятино»", "Наро-Фоминский городской округ", "RU-MOS");
  hub.set_milestone_kind(v1::HUB_MILESTONE_KIND_PLANNED);
  hub.set_phase(0);
  *hub.mutable_planned_on() = Date(2026, 4);
  *hub.add_parties() = Involved(MosregGovernment(), v1::PARTY_ROLE_COORDINATOR);
  *hub.add_parties() = Involved(SamrukKazyna(), v1::PARTY_ROLE_PARTNER);
  *hub.add_parties() = Involved(Ktz(), v1::PARTY_ROLE_PARTNER);
  *hub.mutable_total_area() = Amount(65'000, v1::UNIT_SQUARE_METRE, v1::QUALIFIER_EXACT);
  hub.mutable_investment()->set_currency_code("RUB");
  hub.mutable_investment()->set_units(14'000'000'000);
  hub.set_jobs(1'500);
  v1::CapacityFigure& exports = *hub.add_capacities();
  exports.set_name("экспорт в Китай");
  *exports.mutable_baseline() = Amount(180'000, v1::UNIT_TONNE_PER_YEAR, v1::QUALIFIER_EXACT);
  *exports.mutable_target() = Amount(550'000, v1::UNIT_TONNE_PER_YEAR, v1::QUALIFIER_EXACT);
  *exports.mutable_partner() = Region("CN");
  *hub.add_shares() =
      ShareOf(40, v1::QUALIFIER_EXACT,
              "весь экспорт АПК Московской области (после реализации второй очереди)");
  for (const char* country : {"CN", "KZ", "RU"}) {
    *hub.add_participating_countries() = Region(country);
  }
  hub.add_agreement_ids("selyatino-hub-2024");
  hub.set_description("Завершить работы планируют к апрелю 2026 года.");
  return event;
}

v1::Event AgrohubAnnounced() {
  v1::Event event =
      Envelope(kAkimatSource, "akimat-2025-09-10-agrohub-announced", "hub/almaty-agrohub");
  event.set_correlation_id(kForum);
  v1::HubMilestone& hub = *event.mutable_hub_milestone();
  hub.set_hub_id("almaty-agrohub");
  hub.set_hub_name("Агрохаб");
  hub.set_hub_kind(v1::HUB_KIND_AGRO);
  *hub.mutable_location() = PlaceOf("", "", "KZ-19");
  hub.set_milestone_kind(v1::HUB_MILESTONE_KIND_ANNOUNCED);
  *hub.mutable_actual_on() = Date(2025, 9, 10);
  *hub.add_parties() = Involved(SlavtransService(), v1::PARTY_ROLE_PARTNER);
  *hub.add_parties() = Involved(KtzExpress(), v1::PARTY_ROLE_PARTNER);
  *hub.add_parties() = Involved(TlcAlatau(), v1::PARTY_ROLE_OPERATOR);
  *hub.mutable_total_area() = Amount(75, v1::UNIT_HECTARE, v1::QUALIFIER_EXACT);
  for (v1::FacilityKind kind :
       {v1::FACILITY_KIND_CONTAINER_TERMINAL, v1::FACILITY_KIND_WAREHOUSE,
        v1::FACILITY_KIND_CUSTOMS_TERMINAL, v1::FACILITY_KIND_WHOLESALE_RETAIL_CENTRE}) {
    hub.add_facilities()->set_kind(kind);
  }
  hub.add_agreement_ids("almaty-agrohub-2025");
  hub.set_description("Практически двухсторонние контейнерные поезда.");
  return event;
}

v1::Event AlatauHubAnnounced() {
  v1::Event event =
      Envelope(kAkimatSource, "akimat-2025-09-10-alatau-hub-announced", "hub/alatau-hub");
  event.set_correlation_id(kForum);
  v1::HubMilestone& hub = *event.mutable_hub_milestone();
  hub.set_hub_id("alatau-hub");
  hub.set_hub_name("Alatau Hub");
  hub.set_hub_kind(v1::HUB_KIND_INNOVATION);
  *hub.mutable_location() = PlaceOf("Alatau Hub", "Қонаев", "KZ-19");
  hub.set_milestone_kind(v1::HUB_MILESTONE_KIND_ANNOUNCED);
  *hub.add_parties() = Involved(DigitalDepartment(), v1::PARTY_ROLE_COORDINATOR);
  hub.set_description("Входная точка в инновационную экосистему Алматинской области.");
  return event;
}

v1::Event AlatauIncentive() {
  v1::Event event =
      Envelope(kDigitalSource, "digital-2025-09-10-alatau-hub-rnd-tax-relief", "hub/alatau-hub");
  event.set_correlation_id(kForum);
  v1::InvestmentIncentive& incentive = *event.mutable_investment_incentive();
  incentive.set_incentive_id("alatau-hub-rnd-tax-relief");
  *incentive.mutable_region() = Region("KZ-19");
  incentive.set_hub_id("alatau-hub");
  incentive.set_kind(v1::INCENTIVE_KIND_TAX_RELIEF);
  incentive.set_relief_percent(100);
  incentive.set_condition(
      "Если 1% от дивидендов вкладывается в развитие НИОКР (исследования, открытие новых "
      "технологий), предоставляются все налоговые скидки.");
  *incentive.mutable_condition_share() =
      ShareOf(1, v1::QUALIFIER_EXACT, "дивиденды, вкладываемые в НИОКР");
  incentive.set_beneficiaries("разработчики и инвесторы");
  *incentive.mutable_offered_by() = DigitalDepartment();
  return event;
}

v1::Event Esipovo() {
  v1::Event event = Envelope(kMosregSource, "mosreg-2025-09-10-esipovo", "site/esipovo");
  v1::IndustrialSite& site = *event.mutable_industrial_site();
  site.set_site_id("esipovo");
  site.set_name("Индустриальный парк «Есипово»");
  *site.mutable_region() = Region("RU-MOS");
  site.set_locality("городской округ Солнечногорск");
  site.set_format(v1::SITE_FORMAT_LIGHT_INDUSTRIAL);
  *site.mutable_launch_lead_time() = Amount(3, v1::UNIT_MONTH, v1::QUALIFIER_ABOUT);
  site.set_description(
      "Формат Light industrial: быстрый запуск готовых производственных модулей, удобный малому "
      "и среднему бизнесу.");
  return event;
}

v1::Event TurnoverGrowth() {
  v1::Event event =
      Envelope(kMosregSource, "mosreg-2025-trade-turnover-kz-growth", "regions/KZ:RU-MOS");
  v1::TradeUpdate& trade = *event.mutable_trade_update();
  *trade.mutable_reporting_region() = Region("RU-MOS");
  *trade.mutable_partner_region() = Region("KZ");
  *trade.mutable_period() = PeriodOf(Date(2020), Date(2025));
  trade.set_direction(v1::TRADE_DIRECTION_TURNOVER);
  v1::GrowthRatio& growth = *trade.mutable_growth();
  growth.set_ratio(1.8);
  growth.set_qualifier(v1::QUALIFIER_MORE_THAN);
  *growth.mutable_base_period() = PeriodOf(Date(2020));
  *growth.mutable_compared_period() = PeriodOf(Date(2025));
  trade.set_trend(v1::TRADE_TREND_GROWING);
  trade.set_note(
      "За последние пять лет товарооборот Московской области с Казахстаном вырос более чем в "
      "1,8 раза.");
  return event;
}

v1::Event SteadyExport(const char* id, const char* category, const char* hs_code) {
  v1::Event event = Envelope(kMosregSource, id, "regions/KZ:RU-MOS");
  v1::TradeUpdate& trade = *event.mutable_trade_update();
  *trade.mutable_reporting_region() = Region("RU-MOS");
  *trade.mutable_partner_region() = Region("KZ");
  *trade.mutable_period() = PeriodOf(Date(2025));
  trade.set_direction(v1::TRADE_DIRECTION_EXPORT);
  trade.mutable_category()->set_name(category);
  trade.mutable_category()->set_hs_code(hs_code);
  trade.set_trend(v1::TRADE_TREND_STEADY);
  trade.set_note("Стабильно востребовано на казахстанском рынке.");
  return event;
}

v1::RegionFact Fact(v1::RegionFactKind kind, double value, v1::Unit unit, v1::Qualifier qualifier,
                    const char* counterpart = nullptr, const char* note = nullptr) {
  v1::RegionFact fact;
  fact.set_kind(kind);
  *fact.mutable_value() = Amount(value, unit, qualifier);
  if (counterpart != nullptr) *fact.mutable_counterpart() = Region(counterpart);
  if (note != nullptr) fact.set_note(note);
  return fact;
}

v1::Event MosregProfile() {
  v1::Event event = Envelope(kMosregSource, "mosreg-2025-region-profile", "region/RU-MOS");
  v1::RegionProfile& profile = *event.mutable_region_profile();
  *profile.mutable_region() = Region("RU-MOS");
  *profile.mutable_as_of() = Date(2025);
  *profile.add_facts() = Fact(v1::REGION_FACT_KIND_SPECIAL_ECONOMIC_ZONE_COUNT, 6, v1::UNIT_COUNT,
                              v1::QUALIFIER_EXACT);
  *profile.add_facts() =
      Fact(v1::REGION_FACT_KIND_INDUSTRIAL_PARK_COUNT, 72, v1::UNIT_COUNT, v1::QUALIFIER_EXACT);
  *profile.add_facts() =
      Fact(v1::REGION_FACT_KIND_TECHNOPARK_COUNT, 19, v1::UNIT_COUNT, v1::QUALIFIER_EXACT);
  return event;
}

constexpr char kLongestBorder[] =
    "Самая длинная непрерывная сухопутная граница в мире; принята дорожная карта по "
    "трансформации всей приграничной инфраструктуры.";

// Border facts of one side ("7 и 12 приграничных регионов с обеих сторон, соответственно").
v1::Event BorderProfile(const char* id, const char* region, const char* counterpart,
                        int border_regions) {
  v1::Event event = Envelope(kEmbassySource, id, std::string("region/") + region);
  event.set_correlation_id(kForum);
  v1::RegionProfile& profile = *event.mutable_region_profile();
  *profile.mutable_region() = Region(region);
  *profile.mutable_as_of() = Date(2025);
  *profile.add_facts() = Fact(v1::REGION_FACT_KIND_BORDER_REGION_COUNT, border_regions,
                              v1::UNIT_COUNT, v1::QUALIFIER_EXACT, counterpart);
  *profile.add_facts() = Fact(v1::REGION_FACT_KIND_BORDER_POPULATION, 30'000'000, v1::UNIT_PERSON,
                              v1::QUALIFIER_ABOUT, counterpart);
  *profile.add_facts() = Fact(v1::REGION_FACT_KIND_BORDER_WORLD_RANK, 1, v1::UNIT_COUNT,
                              v1::QUALIFIER_EXACT, counterpart, kLongestBorder);
  return event;
}

v1::Event TouristsFromRussia() {
  v1::Event event = Envelope(kTourismSource, "tourism-2025-ru-to-kz", "regions/KZ:RU");
  v1::TourismFlow& flow = *event.mutable_tourism_flow();
  *flow.mutable_origin() = Region("RU");
  *flow.mutable_destination() = Region("KZ");
  *flow.mutable_period() = PeriodOf(Date(2025));
  *flow.mutable_tourists() = Amount(1'000'000, v1::UNIT_PERSON, v1::QUALIFIER_MORE_THAN);
  flow.set_note(
      "По Казахстану более миллиона туристов из Российской Федерации приезжают ежегодно.");
  return event;
}

v1::Attraction Attraction(const char* name, v1::AttractionKind kind) {
  v1::Attraction attraction;
  attraction.set_name(name);
  attraction.set_kind(kind);
  *attraction.mutable_place()->mutable_region() = Region("KZ-19");
  return attraction;
}

v1::Event ForeignTouristsToAlmatyRegion() {
  v1::Event event = Envelope(kTourismSource, "tourism-2025-foreign-to-kz-19", "region/KZ-19");
  v1::TourismFlow& flow = *event.mutable_tourism_flow();
  *flow.mutable_destination() = Region("KZ-19");
  *flow.mutable_period() = PeriodOf(Date(2025));
  *flow.mutable_tourists() = Amount(135'000, v1::UNIT_PERSON, v1::QUALIFIER_EXACT);
  *flow.add_shares() = ShareOf(30, v1::QUALIFIER_ALMOST, "иностранные туристы из стран СНГ");
  *flow.add_attractions() = Attraction("Кольсай", v1::ATTRACTION_KIND_NATIONAL_PARK);
  *flow.add_attractions() = Attraction("Иле-Алатау", v1::ATTRACTION_KIND_NATIONAL_PARK);
  *flow.add_attractions() = Attraction("Чарынский каньон", v1::ATTRACTION_KIND_NATIONAL_PARK);
  *flow.add_attractions() = Attraction("горнолыжные курорты", v1::ATTRACTION_KIND_SKI_RESORT);
  *flow.add_attractions() = Attraction("рыболовство", v1::ATTRACTION_KIND_RECREATION);
  flow.set_note("Зимой увеличивается турпоток горнолыжных курортов.");
  return event;
}

v1::Event DelegationAtEsipovo() {
  v1::Event event =
      Envelope(kAkimatSource, "akimat-2025-09-10-delegation-esipovo", "regions/KZ-19:RU-MOS");
  event.set_correlation_id(kForum);
  v1::DelegationVisit& visit = *event.mutable_delegation_visit();
  *visit.mutable_visiting_region() = Region("KZ-19");
  *visit.mutable_host_region() = Region("RU-MOS");
  *visit.mutable_dates() = PeriodOf(Date(2025, 9, 10));
  const v1::Party akimat = AlmatyRegionAkimat();
  const v1::Party digital = DigitalDepartment();
  const v1::Party tourism = TourismDepartment();
  const v1::Party mosreg = MosregGovernment();
  *visit.add_participants() =
      Person("Марат Султангазиев", "Marat Sultangaziev", "Аким Алматинской области",
             v1::PARTICIPANT_ROLE_HEAD_OF_DELEGATION, &akimat);
  *visit.add_participants() =
      Person("Жандос Акыл", "Zhandos Akyl",
             "Руководитель управления цифровых технологий Алматинской области",
             v1::PARTICIPANT_ROLE_DELEGATION_MEMBER, &digital);
  *visit.add_participants() = Person("Куанышбек Мирамбекулы", "Kuanyshbek Mirambekuly",
                                     "Руководитель управления туризма Алматинской области",
                                     v1::PARTICIPANT_ROLE_DELEGATION_MEMBER, &tourism);
  *visit.add_participants() =
      Person("Андрей Воробьев", "Andrei Vorobyov", "Губернатор Московской области",
             v1::PARTICIPANT_ROLE_HOST, &mosreg);
  *visit.add_places_visited() =
      PlaceOf("Индустриальный парк «Есипово»", "городской округ Солнечногорск", "RU-MOS");
  visit.add_site_ids("esipovo");
  visit.set_purpose(
      "Знакомство с форматом Light industrial; обсуждение сфер взаимодействия и проектов "
      "кооперации.");
  visit.set_occasion(kForumName);
  visit.set_return_visit_invited(true);
  return event;
}

v1::Event RoadMapItem(const char* item_id, const char* title, v1::RoadMapItemKind kind,
                      std::initializer_list<v1::CooperationArea> areas, const char* description) {
  v1::Event event = Envelope(kAkimatSource, "", "roadmap/days-of-moscow-2025");
  event.set_id(std::string("akimat-2025-days-of-moscow-") + item_id);
  v1::RoadMapItem& item = *event.mutable_road_map_item();
  item.set_road_map_id("days-of-moscow-2025");
  item.set_road_map_title("Дорожные карты «Дней Москвы» в Астане и Алматы");
  item.set_item_id(item_id);
  item.set_title(title);
  item.set_kind(kind);
  item.set_status(v1::ROAD_MAP_ITEM_STATUS_PROPOSED);
  *item.add_parties() = Involved(MosregGovernment(), v1::PARTY_ROLE_PRINCIPAL);
  *item.add_parties() = Involved(AlmatyRegionAkimat(), v1::PARTY_ROLE_PRINCIPAL);
  item.set_occasion("Дни Москвы");
  *item.add_places() = PlaceOf("", "Астана", "KZ-71");
  *item.add_places() = PlaceOf("", "Алматы", "KZ-75");
  for (v1::CooperationArea area : areas) item.add_areas(area);
  item.set_description(description);
  return event;
}

v1::Event Alqissa() {
  v1::Event event =
      Envelope(kEmbassySource, "embassy-2025-09-alqissa-concert", "culture/alqissa-tlendiev-100");
  v1::CulturalEvent& concert = *event.mutable_cultural_event();
  concert.set_cultural_event_id("alqissa-tlendiev-100");
  concert.set_title("Әлқисса");
  concert.set_title_latin("Alqissa");
  concert.set_kind(v1::CULTURAL_EVENT_KIND_CONCERT);
  *concert.mutable_venue() =
      PlaceOf("Московский музыкальный театр «Геликон-опера»", "Москва", "RU-MOW");
  *concert.mutable_held_on() = Date(2025, 9);
  v1::Honoree& honoree = *concert.add_honorees();
  honoree.mutable_person()->set_name("Нұрғиса Тілендиев");
  honoree.mutable_person()->set_name_latin("Nurgisa Tlendiev");
  honoree.mutable_person()->set_title("Народный артист СССР, композитор и дирижер");
  honoree.set_anniversary_years(100);
  const v1::Party embassy = KazakhEmbassy();
  *concert.add_participants() = Person("Динзухра Тлендиева", "Dinzukhra Tlendieva",
                                       "Дирижер, заслуженный деятель культуры Казахстана",
                                       v1::PARTICIPANT_ROLE_CONDUCTOR, nullptr);
  *concert.add_participants() = Person("Даурен Абаев", "Dauren Abayev", "Посол Казахстана в России",
                                       v1::PARTICIPANT_ROLE_SPEAKER, &embassy);
  concert.set_programme("Календарь памятных дат ЮНЕСКО");
  concert.set_description(
      "Концерт, посвященный 100-летию Нургисы Тлендиева, часть международной юбилейной "
      "программы.");
  return event;
}

}  // namespace

std::vector<v1::Event> SeedEvents(absl::Time first_recorded) {
  std::vector<v1::Event> events = {
      SelyatinoAgreement(),
      Memorandum(),
      AgrohubAgreement(),
      SelyatinoPlan(),
      AgrohubAnnounced(),
      AlatauHubAnnounced(),
      AlatauIncentive(),
      Esipovo(),
      DelegationAtEsipovo(),
      TurnoverGrowth(),
      SteadyExport("mosreg-2025-export-kz-cosmetics", "косметика", "33"),
      SteadyExport("mosreg-2025-export-kz-household-chemicals", "бытовая химия", "34"),
      SteadyExport("mosreg-2025-export-kz-pharmaceuticals", "фармацевтическая продукция", "30"),
      SteadyExport("mosreg-2025-export-kz-polymers", "полимеры", "39"),
      SteadyExport("mosreg-2025-export-kz-machinery", "продукция машиностроения и металлообработки",
                   ""),
      SteadyExport("mosreg-2025-export-kz-auto-components", "автокомпоненты", "8708"),
      MosregProfile(),
      BorderProfile("embassy-2025-09-10-border-kz", "KZ", "RU", 7),
      BorderProfile("embassy-2025-09-10-border-ru", "RU", "KZ", 12),
      TouristsFromRussia(),
      ForeignTouristsToAlmatyRegion(),
      RoadMapItem("pilot-cities",
                  "Выбор пилотных городов и отраслей для совместных цифровых "
                  "решений",
                  v1::ROAD_MAP_ITEM_KIND_PILOT_CITY, {v1::COOPERATION_AREA_DIGITAL},
                  "Пилотные города и отрасли для совместных цифровых решений."),
      RoadMapItem("digital-twin", "Цифровой двойник региона",
                  v1::ROAD_MAP_ITEM_KIND_DIGITAL_SOLUTION, {v1::COOPERATION_AREA_DIGITAL},
                  "«Цифровой двойник» региона, представленный делегацией Алматинской области."),
      RoadMapItem("public-road-safety", "Системы общественной и дорожной безопасности",
                  v1::ROAD_MAP_ITEM_KIND_DIGITAL_SOLUTION,
                  {v1::COOPERATION_AREA_DIGITAL, v1::COOPERATION_AREA_PUBLIC_SAFETY},
                  "Системы общественной и дорожной безопасности."),
      RoadMapItem("tourist-routes", "Календарь туристических маршрутов",
                  v1::ROAD_MAP_ITEM_KIND_TOURIST_ROUTE, {v1::COOPERATION_AREA_TOURISM},
                  "Календарь туристических маршрутов, в том числе зимних."),
      RoadMapItem("sme-projects", "Перечень проектов МСП для оперативного запуска",
                  v1::ROAD_MAP_ITEM_KIND_SME_PROJECT, {v1::COOPERATION_AREA_SME},
                  "Перечень проектов малого и среднего бизнеса, которые можно оперативно "
                  "запустить."),
      Alqissa(),
  };
  for (size_t i = 0; i < events.size(); ++i) {
    const absl::Time recorded = first_recorded + absl::Minutes(static_cast<int64_t>(i));
    const int64_t ms = absl::ToUnixMillis(recorded);
    events[i].mutable_recorded_time()->set_seconds(ms / 1000);
    events[i].mutable_recorded_time()->set_nanos(static_cast<int32_t>(ms % 1000) * 1'000'000);
    events[i].set_type("coop.v1." + std::string(v1::Event::descriptor()
                                                    ->FindFieldByNumber(events[i].payload_case())
                                                    ->message_type()
                                                    ->name()));
  }
  return events;
}

}  // namespace coop::testing

#include "tools/bench/view_events.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace coop::bench {
namespace {

using coop::v1::Event;

constexpr char kMosreg[] = "publishers/mosreg-government";
constexpr char kAkimat[] = "publishers/almaty-region-akimat";

struct Side {
  const char* source;
  const char* region;
};
constexpr Side kSides[] = {{kMosreg, "RU-MOS"}, {kAkimat, "KZ-19"}};
constexpr const char* kPartners[] = {"KZ", "KZ-19", "KZ-75", "KZ-71", "CN", "RU-MOW", "UZ", "BY"};
constexpr const char* kCurrencies[] = {"RUB", "KZT", "USD", "CNY"};

void Stamp(Event& event, const std::string& source, const std::string& id, const std::string& type,
           const std::string& subject, absl::Time recorded) {
  event.set_source(source);
  event.set_id(id);
  event.set_type(type);
  event.set_subject(subject);
  event.set_schema_version(1);
  const int64_t ms = absl::ToUnixMillis(recorded);
  event.mutable_recorded_time()->set_seconds(ms / 1000);
  event.mutable_recorded_time()->set_nanos(static_cast<int32_t>(ms % 1000) * 1'000'000);
}

std::string PairSubject(const std::string& a, const std::string& b) {
  return a < b ? absl::StrCat("regions/", a, ":", b) : absl::StrCat("regions/", b, ":", a);
}

coop::v1::Party MakeParty(const std::string& id, const std::string& name, const char* region,
                          coop::v1::PartyKind kind) {
  coop::v1::Party party;
  party.set_party_id(id);
  party.set_name(name);
  party.set_kind(kind);
  party.mutable_region()->set_code(region);
  return party;
}

class Generator {
 public:
  explicit Generator(const ViewEventsOptions& options) : options_(options), rng_(options.seed) {}

  std::vector<Event> Run() {
    std::vector<Event> events;
    events.reserve(static_cast<size_t>(options_.count));
    for (int64_t i = 0; i < options_.count; ++i) {
      const absl::Time recorded = options_.first_recorded + absl::Milliseconds(10 * i);
      const int roll = Uniform(100);
      if (roll < options_.duplicate_percent && !events.empty()) {
        events.push_back(events[Uniform(static_cast<int>(events.size()))]);
        continue;
      }
      if (roll < options_.duplicate_percent + options_.correction_percent &&
          !correctable_.empty()) {
        events.push_back(Correction(
            events[correctable_[Uniform(static_cast<int>(correctable_.size()))]], i, recorded));
        continue;
      }
      Event event;
      const int kind = Uniform(100);
      if (kind < 55) {
        event = Trade(i, recorded);
        correctable_.push_back(events.size());
      } else if (kind < 80) {
        event = Milestone(i, recorded);
        correctable_.push_back(events.size());
      } else if (kind < 88) {
        event = Profile(i, recorded);
      } else if (kind < 93) {
        event = Tourism(i, recorded);
      } else if (kind < 97 || agreements_.empty()) {
        event = Agreement(i, recorded);
      } else {
        event = Amendment(i, recorded);
      }
      events.push_back(std::move(event));
    }
    return events;
  }

 private:
  int Uniform(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  Event Trade(int64_t i, absl::Time recorded) {
    const Side& side = kSides[Uniform(2)];
    std::string partner = kPartners[Uniform(8)];
    if (partner.substr(0, 2) == std::string(side.region).substr(0, 2)) partner = "CN";
    Event event;
    coop::v1::TradeUpdate* t = event.mutable_trade_update();
    t->mutable_reporting_region()->set_code(side.region);
    t->mutable_partner_region()->set_code(partner);
    const int year = 2018 + Uniform(8);
    t->mutable_period()->mutable_start()->set_year(year);
    if (Uniform(2) == 0) t->mutable_period()->mutable_start()->set_month(1 + Uniform(12));
    t->set_direction(static_cast<coop::v1::TradeDirection>(1 + Uniform(3)));
    const int category = Uniform(options_.trade_categories + 1);
    if (category > 0) {
      t->mutable_category()->set_name(absl::StrCat("категория товаров №", category));
      t->mutable_category()->set_hs_code(absl::StrFormat("%02d", 10 + category % 80));
    }
    coop::v1::Money* value = t->mutable_value();
    value->set_currency_code(kCurrencies[Uniform(4)]);
    value->set_units(1'000'000 + static_cast<int64_t>(rng_() % 1'000'000'000));
    if (Uniform(4) == 0) {
      t->mutable_volume()->set_value(static_cast<double>(1000 + Uniform(100000)));
      t->mutable_volume()->set_unit(coop::v1::UNIT_TONNE);
      t->mutable_volume()->set_qualifier(coop::v1::QUALIFIER_ABOUT);
    }
    Stamp(event, side.source, absl::StrCat("gen-", options_.seed, "-", i), "coop.v1.TradeUpdate",
          PairSubject(side.region, partner), recorded);
    return event;
  }

  Event Milestone(int64_t i, absl::Time recorded) {
    const int hub = Uniform(options_.hubs);
    const Side& side = kSides[hub % 2];
    Event event;
    coop::v1::HubMilestone* m = event.mutable_hub_milestone();
    m->set_hub_id(absl::StrCat("hub-", hub));
    m->set_hub_name(absl::StrCat("Логистический хаб №", hub));
    m->set_hub_kind(static_cast<coop::v1::HubKind>(1 + hub % 6));
    m->mutable_location()->set_locality(hub % 2 == 0 ? "Наро-Фоминский городской округ" : "Қонаев");
    m->mutable_location()->mutable_region()->set_code(side.region);
    m->set_phase(Uniform(3));
    switch (Uniform(4)) {
      case 0:
        m->set_milestone_kind(coop::v1::HUB_MILESTONE_KIND_PLAN_REVISED);
        m->mutable_planned_on()->set_year(2026 + Uniform(3));
        m->mutable_planned_on()->set_month(1 + Uniform(12));
        break;
      case 1:
        m->set_milestone_kind(coop::v1::HUB_MILESTONE_KIND_PLANNED);
        m->mutable_planned_on()->set_year(2026 + Uniform(2));
        m->mutable_investment()->set_currency_code(kCurrencies[hub % 2]);
        m->mutable_investment()->set_units(1'000'000'000LL * (1 + hub % 20));
        m->set_jobs(100 + hub);
        break;
      default:
        m->set_milestone_kind(coop::v1::HUB_MILESTONE_KIND_PROGRESS_REPORTED);
        m->set_percent_complete(Uniform(101));
        break;
    }
    Stamp(event, side.source, absl::StrCat("gen-", options_.seed, "-", i), "coop.v1.HubMilestone",
          absl::StrCat("hub/hub-", hub), recorded);
    return event;
  }

  Event Profile(int64_t i, absl::Time recorded) {
    const Side& side = kSides[Uniform(2)];
    Event event;
    coop::v1::RegionProfile* p = event.mutable_region_profile();
    p->mutable_region()->set_code(side.region);
    for (auto kind : {coop::v1::REGION_FACT_KIND_SPECIAL_ECONOMIC_ZONE_COUNT,
                      coop::v1::REGION_FACT_KIND_INDUSTRIAL_PARK_COUNT,
                      coop::v1::REGION_FACT_KIND_TECHNOPARK_COUNT}) {
      coop::v1::RegionFact* fact = p->add_facts();
      fact->set_kind(kind);
      fact->mutable_value()->set_value(static_cast<double>(1 + Uniform(100)));
      fact->mutable_value()->set_unit(coop::v1::UNIT_COUNT);
      fact->mutable_value()->set_qualifier(coop::v1::QUALIFIER_EXACT);
    }
    Stamp(event, side.source, absl::StrCat("gen-", options_.seed, "-", i), "coop.v1.RegionProfile",
          absl::StrCat("region/", side.region), recorded);
    return event;
  }

  Event Tourism(int64_t i, absl::Time recorded) {
    Event event;
    coop::v1::TourismFlow* t = event.mutable_tourism_flow();
    t->mutable_origin()->set_code("RU");
    t->mutable_destination()->set_code("KZ-19");
    t->mutable_period()->mutable_start()->set_year(2015 + Uniform(11));
    t->mutable_tourists()->set_value(static_cast<double>(10000 + Uniform(200000)));
    t->mutable_tourists()->set_unit(coop::v1::UNIT_PERSON);
    t->mutable_tourists()->set_qualifier(coop::v1::QUALIFIER_ABOUT);
    Stamp(event, kAkimat, absl::StrCat("gen-", options_.seed, "-", i), "coop.v1.TourismFlow",
          "regions/KZ-19:RU", recorded);
    return event;
  }

  Event Agreement(int64_t i, absl::Time recorded) {
    const std::string id = absl::StrCat("gen-agreement-", options_.seed, "-", i);
    Event event;
    coop::v1::AgreementSigned* a = event.mutable_agreement_signed();
    a->set_agreement_id(id);
    a->set_title(absl::StrCat("Соглашение о сотрудничестве №", i));
    coop::v1::InvolvedParty* first = a->add_parties();
    *first->mutable_party() = MakeParty("ru-mos-government", "Правительство Московской области",
                                        "RU-MOS", coop::v1::PARTY_KIND_GOVERNMENT);
    first->set_role(coop::v1::PARTY_ROLE_PRINCIPAL);
    coop::v1::InvolvedParty* second = a->add_parties();
    *second->mutable_party() =
        MakeParty("kz-19-akimat", "Әкімдік Алматы облысы", "KZ-19", coop::v1::PARTY_KIND_AKIMAT);
    second->set_role(coop::v1::PARTY_ROLE_PRINCIPAL);
    a->mutable_signed_on()->set_year(2024);
    a->mutable_signed_on()->set_month(1 + Uniform(12));
    a->add_areas(static_cast<coop::v1::CooperationArea>(1 + Uniform(18)));
    a->add_hub_ids(absl::StrCat("hub-", Uniform(options_.hubs)));
    Stamp(event, kMosreg, absl::StrCat("gen-", options_.seed, "-", i), "coop.v1.AgreementSigned",
          absl::StrCat("agreement/", id), recorded);
    agreements_.push_back(id);
    return event;
  }

  Event Amendment(int64_t i, absl::Time recorded) {
    const std::string& id = agreements_[Uniform(static_cast<int>(agreements_.size()))];
    Event event;
    coop::v1::AgreementAmended* a = event.mutable_agreement_amended();
    a->set_agreement_id(id);
    a->set_summary("Вступило в силу");
    a->mutable_effective_on()->set_year(2025);
    a->set_new_status(static_cast<coop::v1::AgreementStatus>(2 + Uniform(3)));
    Stamp(event, kMosreg, absl::StrCat("gen-", options_.seed, "-", i), "coop.v1.AgreementAmended",
          absl::StrCat("agreement/", id), recorded);
    return event;
  }

  Event Correction(const Event& original, int64_t i, absl::Time recorded) {
    Event event;
    coop::v1::EventCorrected* c = event.mutable_event_corrected();
    c->set_corrected_event_id(original.id());
    c->set_reason("исправление данных");
    if (original.has_trade_update()) {
      *c->mutable_trade_update() = original.trade_update();
      c->mutable_trade_update()->mutable_value()->set_units(
          original.trade_update().value().units() + 1);
    } else {
      *c->mutable_hub_milestone() = original.hub_milestone();
      c->mutable_hub_milestone()->set_description("уточнённые данные");
    }
    Stamp(event, original.source(), absl::StrCat("gen-", options_.seed, "-", i),
          "coop.v1.EventCorrected", original.subject(), recorded);
    return event;
  }

  ViewEventsOptions options_;
  std::mt19937_64 rng_;
  std::vector<size_t> correctable_;
  std::vector<std::string> agreements_;
};

}  // namespace

std::vector<coop::v1::Event> GenerateViewEvents(const ViewEventsOptions& options) {
  return Generator(options).Run();
}

}  // namespace coop::bench

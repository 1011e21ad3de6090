#include "tests/testing/sample_events.h"

#include "google/protobuf/util/time_util.h"

namespace coop::testing {

using coop::v1::Event;
using google::protobuf::util::TimeUtil;

namespace {

coop::v1::Party* AddParty(coop::v1::MemorandumSigned& memo, const char* id, const char* name,
                          coop::v1::PartyKind kind, const char* region) {
  coop::v1::InvolvedParty* involved = memo.add_parties();
  involved->set_role(coop::v1::PARTY_ROLE_PRINCIPAL);
  coop::v1::Party* party = involved->mutable_party();
  party->set_party_id(id);
  party->set_name(name);
  party->set_kind(kind);
  party->mutable_region()->set_code(region);
  return party;
}

void AddParticipant(coop::v1::MemorandumSigned& memo, const char* name, const char* title,
                    coop::v1::ParticipantRole role, const coop::v1::Party& party) {
  coop::v1::Participant* participant = memo.add_participants();
  participant->mutable_person()->set_name(name);
  participant->mutable_person()->set_title(title);
  participant->set_role(role);
  *participant->mutable_party() = party;
}

}  // namespace

Event MemorandumSignedEvent() {
  Event event;
  event.set_id("mosreg-2025-09-10-memorandum");
  event.set_source("publishers/mosreg-government");
  event.set_type("coop.v1.MemorandumSigned");
  event.set_subject("agreement/ru-mos-kz-19-memorandum-2025");
  *event.mutable_time() = TimeUtil::SecondsToTimestamp(1757494800);  // 2025-09-10T09:00:00Z
  *event.mutable_recorded_time() = TimeUtil::MillisecondsToTimestamp(1757498400123);
  event.set_schema_version(1);
  event.set_correlation_id("forum-2025-09-10");

  coop::v1::MemorandumSigned& memo = *event.mutable_memorandum_signed();
  memo.set_agreement_id("ru-mos-kz-19-memorandum-2025");
  memo.set_title(
      "Меморандум о развитии сотрудничества между Московской областью и Алматинской областью");
  const coop::v1::Party* mosreg =
      AddParty(memo, "mosreg-government", "Правительство Московской области",
               coop::v1::PARTY_KIND_GOVERNMENT, "RU-MOS");
  const coop::v1::Party* akimat =
      AddParty(memo, "almaty-region-akimat", "Алматы облысының әкімдігі",
               coop::v1::PARTY_KIND_AKIMAT, "KZ-19");
  AddParticipant(memo, "Андрей Воробьёв", "Губернатор Московской области",
                 coop::v1::PARTICIPANT_ROLE_SIGNATORY, *mosreg);
  AddParticipant(memo, "Марат Сұлтанғазиев", "Алматы облысының әкімі",
                 coop::v1::PARTICIPANT_ROLE_SIGNATORY, *akimat);
  memo.mutable_signed_on()->set_year(2025);
  memo.mutable_signed_on()->set_month(9);
  memo.mutable_signed_on()->set_day(10);
  memo.mutable_place()->set_name("Бизнес-форум «Казахстан — Подмосковье»");
  memo.mutable_place()->mutable_region()->set_code("RU-MOS");
  for (coop::v1::CooperationArea area :
       {coop::v1::COOPERATION_AREA_ECONOMY, coop::v1::COOPERATION_AREA_TRADE,
        coop::v1::COOPERATION_AREA_LOGISTICS, coop::v1::COOPERATION_AREA_EDUCATION,
        coop::v1::COOPERATION_AREA_CULTURE}) {
    memo.add_areas(area);
  }
  return event;
}

Event CulturalEventEvent() {
  Event event;
  event.set_id("embassy-kz-2025-alqissa-concert");
  event.set_source("publishers/kz-embassy-moscow");
  event.set_type("coop.v1.CulturalEvent");
  event.set_subject("culture/alqissa-helikon-2025");
  *event.mutable_recorded_time() = TimeUtil::MillisecondsToTimestamp(1757600000456);
  event.set_schema_version(1);
  coop::v1::CulturalEvent& concert = *event.mutable_cultural_event();
  concert.set_cultural_event_id("alqissa-helikon-2025");
  concert.set_title("Әлқисса");
  concert.set_kind(coop::v1::CULTURAL_EVENT_KIND_CONCERT);
  concert.mutable_held_on()->set_year(2025);
  concert.mutable_venue()->set_name("Геликон-опера");
  concert.mutable_venue()->set_locality("Москва");
  concert.mutable_venue()->mutable_region()->set_code("RU-MOW");
  return event;
}

}  // namespace coop::testing

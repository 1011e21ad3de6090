#include "tools/bench/bench_events.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "services/publisher/validation/event_validator.h"

namespace coop::bench {
namespace {

using coop::v1::Event;
using google::protobuf::util::TimeUtil;

// A recorded_time whose nanos take the most common varint size (5 bytes: 268..999 ms).
const absl::Time kTypicalRecordedTime = absl::FromUnixMillis(1757498400500);

void SetParty(coop::v1::Party& party, const char* name, coop::v1::PartyKind kind,
              const char* region) {
  party.set_name(name);
  party.set_kind(kind);
  party.mutable_region()->set_code(region);
}

// The memorandum of 2025-09-10 between Moscow Oblast and Almaty Region, cut to what the
// contract requires (two principal parties, one signatory with their party, the date) with
// short names, so that a 300-byte event has room for a summary. Parties carry no party_id: the
// signatory's party then matches its principal by name and region.
Event Prototype() {
  Event event;
  event.set_type("coop.v1.MemorandumSigned");
  event.set_schema_version(1);
  coop::v1::MemorandumSigned& memo = *event.mutable_memorandum_signed();
  memo.set_title("Меморандум");
  coop::v1::InvolvedParty* mosreg = memo.add_parties();
  mosreg->set_role(coop::v1::PARTY_ROLE_PRINCIPAL);
  SetParty(*mosreg->mutable_party(), "Правительство МО", coop::v1::PARTY_KIND_GOVERNMENT, "RU-MOS");
  coop::v1::InvolvedParty* akimat = memo.add_parties();
  akimat->set_role(coop::v1::PARTY_ROLE_PRINCIPAL);
  SetParty(*akimat->mutable_party(), "Әкімдік", coop::v1::PARTY_KIND_AKIMAT, "KZ-19");
  coop::v1::Participant* signatory = memo.add_participants();
  signatory->mutable_person()->set_name("Марат Сұлтанғазиев");
  signatory->set_role(coop::v1::PARTICIPANT_ROLE_SIGNATORY);
  *signatory->mutable_party() = akimat->party();
  memo.mutable_signed_on()->set_year(2025);
  memo.mutable_signed_on()->set_month(9);
  memo.mutable_signed_on()->set_day(10);
  return event;
}

// `chars` characters of plain text (Text rules: no control characters, no space at either end).
std::string Filler(size_t chars) {
  static constexpr absl::string_view kSentence =
      "Cooperation in trade, logistics, education and culture. ";
  std::string text;
  text.reserve(chars);
  while (text.size() < chars) {
    absl::StrAppend(&text, kSentence.substr(0, std::min(kSentence.size(), chars - text.size())));
  }
  if (!text.empty() && text.back() == ' ') text.back() = '.';
  return text;
}

}  // namespace

absl::StatusOr<EventFactory> EventFactory::Create(std::string source, std::string id_prefix,
                                                  size_t target_bytes) {
  if (id_prefix.empty() || id_prefix.size() > 100) {
    return absl::InvalidArgumentError("id_prefix: must be 1..100 characters");
  }
  EventFactory factory(std::move(source), std::move(id_prefix), Prototype(), 0);
  const size_t unpadded = factory.MakeStamped(0, kTypicalRecordedTime).ByteSizeLong();
  // Summary's tag and length (1..2 bytes) and the memorandum's longer length take 2..4 bytes.
  if (target_bytes < unpadded + 4) {
    return absl::InvalidArgumentError(absl::StrCat("event_bytes: ", target_bytes,
                                                   " is below the smallest benchmark event (",
                                                   unpadded + 4, " bytes)"));
  }
  // Varint lengths make the size jump by one now and then: settle on the closest from below.
  size_t chars = target_bytes - unpadded - 2;
  size_t size = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    factory.prototype_.mutable_memorandum_signed()->set_summary(Filler(chars));
    size = factory.MakeStamped(0, kTypicalRecordedTime).ByteSizeLong();
    if (size == target_bytes) break;
    if (size > target_bytes) {
      chars -= size - target_bytes;
    } else if (attempt == 7) {
      break;
    } else {
      chars += target_bytes - size;
    }
  }
  factory.stamped_bytes_ = size;

  publisher::ValidationLimits limits;
  limits.recorded_time = absl::Now();
  const std::vector<publisher::FieldViolation> violations =
      publisher::ValidateEvent(factory.Make(0), "event", limits);
  if (!violations.empty()) {
    std::vector<std::string> lines;
    for (const publisher::FieldViolation& v : violations) {
      lines.push_back(absl::StrCat(v.field, ": ", v.description));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("benchmark event is invalid: ", absl::StrJoin(lines, "; ")));
  }
  return factory;
}

Event EventFactory::Make(int64_t index) const {
  Event event = prototype_;
  event.set_id(absl::StrFormat("%s-%08d", id_prefix_, index));
  const std::string agreement_id = absl::StrFormat("a%03d", index % kSubjects);
  event.set_subject(absl::StrCat("agreement/", agreement_id));
  event.mutable_memorandum_signed()->set_agreement_id(agreement_id);
  return event;
}

Event EventFactory::MakeStamped(int64_t index, absl::Time recorded) const {
  Event event = Make(index);
  Stamp(event, recorded);
  return event;
}

void EventFactory::Stamp(Event& event, absl::Time recorded) const {
  event.set_source(source_);
  *event.mutable_recorded_time() = TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(recorded));
}

Event EventFactory::MakeProbe(int64_t attempt) const {
  Event event = Make(0);
  event.set_id(absl::StrFormat("%s-probe-%d", id_prefix_, attempt));
  return event;
}

}  // namespace coop::bench

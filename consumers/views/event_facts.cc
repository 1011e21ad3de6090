#include "consumers/views/event_facts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/scope.h"
#include "common/events/message_walk.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace coop::views {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

void SortUnique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

// Appends the party_id of every Party below `message`, in walk order; empty ids are skipped.
void CollectPartyIds(const Message& message, std::vector<std::string>& ids) {
  events::VisitMessages(message, [&ids](const Message& visited) {
    if (visited.GetDescriptor() != coop::v1::Party::descriptor()) return true;
    const auto& party = static_cast<const coop::v1::Party&>(visited);
    if (!party.party_id().empty()) ids.push_back(party.party_id());
    return false;
  });
}

const FieldDescriptor* CorrectedField(const coop::v1::EventCorrected& correction) {
  const google::protobuf::OneofDescriptor* oneof =
      coop::v1::EventCorrected::descriptor()->FindOneofByName("corrected");
  return correction.GetReflection()->GetOneofFieldDescriptor(correction, oneof);
}

}  // namespace

std::vector<std::string> RegionsAndCountriesIn(const coop::v1::Event& event) {
  std::vector<std::string> codes = auth::RegionCodesIn(event);
  const size_t named = codes.size();
  for (size_t i = 0; i < named; ++i) codes.emplace_back(CountryOf(codes[i]));
  SortUnique(codes);
  return codes;
}

std::vector<std::string> PartyIdsIn(const coop::v1::Event& event) {
  std::vector<std::string> ids;
  const google::protobuf::OneofDescriptor* oneof =
      coop::v1::Event::descriptor()->FindOneofByName("payload");
  if (const FieldDescriptor* field = event.GetReflection()->GetOneofFieldDescriptor(event, oneof)) {
    CollectPartyIds(event.GetReflection()->GetMessage(event, field), ids);
  }
  SortUnique(ids);
  return ids;
}

std::string DelimitedList(const std::vector<std::string>& values) {
  if (values.empty()) return "";
  return absl::StrCat(" ", absl::StrJoin(values, " "), " ");
}

bool ReplacePayload(const coop::v1::EventCorrected& correction, coop::v1::Event& original) {
  const FieldDescriptor* from = CorrectedField(correction);
  if (from == nullptr) return false;
  const FieldDescriptor* to = coop::v1::Event::descriptor()->FindFieldByNumber(from->number());
  if (to == nullptr || to->message_type() != from->message_type()) return false;
  original.GetReflection()
      ->MutableMessage(&original, to)
      ->CopyFrom(correction.GetReflection()->GetMessage(correction, from));
  return true;
}

std::string CorrectedPayloadType(const coop::v1::EventCorrected& correction) {
  const FieldDescriptor* field = CorrectedField(correction);
  return field == nullptr ? std::string() : field->message_type()->full_name();
}

}  // namespace coop::views

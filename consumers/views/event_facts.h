// Facts about an event that the views index: the regions and parties it names, and the
// payload a correction carries.
#ifndef COOP_CONSUMERS_VIEWS_EVENT_FACTS_H_
#define COOP_CONSUMERS_VIEWS_EVENT_FACTS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "coop/v1/envelope.pb.h"

namespace coop::views {

// The country of a region code: "KZ" for "KZ-19" and for "KZ".
inline absl::string_view CountryOf(absl::string_view code) { return code.substr(0, 2); }

// The region codes the payload names, with the country of each, sorted and unique.
std::vector<std::string> RegionsAndCountriesIn(const coop::v1::Event& event);

// The party_ids of every Party in the payload, sorted and unique.
std::vector<std::string> PartyIdsIn(const coop::v1::Event& event);

// " a b c ": a list as a space-delimited column that a LIKE '% b %' can search.
std::string DelimitedList(const std::vector<std::string>& values);

// `original` with its payload replaced by the payload that `correction` carries (the same
// field number in Event.payload). False when the correction carries no payload.
bool ReplacePayload(const coop::v1::EventCorrected& correction, coop::v1::Event& original);

// The full name of the payload type a correction carries ("coop.v1.HubMilestone"), or empty.
std::string CorrectedPayloadType(const coop::v1::EventCorrected& correction);

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_EVENT_FACTS_H_

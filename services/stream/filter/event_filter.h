// The EventFilter of coop.v1.Subscriptions (subscriptions.proto), validated once per call and
// then matched against every record the stream reads, and the read-scope check on the same
// per-record facts.
//
// The stream computes FactsOf once per record and hands the facts to every live subscriber, so
// that the reflection walk over the payload happens once per record, not once per subscriber;
// CompiledFilter::Matches and MaySee then only look values up. All functions are pure; a
// CompiledFilter is immutable after Compile and may be shared by threads.
#ifndef COOP_SERVICES_STREAM_FILTER_EVENT_FILTER_H_
#define COOP_SERVICES_STREAM_FILTER_EVENT_FILTER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/subscriptions.pb.h"

namespace coop::stream {

// What the filters and the scope check need of one event; computed once per record, shared by
// every subscriber that looks at it.
struct EventFacts {
  // Full name of the payload message set, e.g. "coop.v1.HubMilestone"; empty when none is. Read
  // from the payload, not from Event.type (the publisher checks that they agree).
  std::string type;
  // For an EventCorrected: the full name of the corrected payload, e.g. "coop.v1.TradeUpdate";
  // otherwise (or when the correction has none) empty.
  std::string corrected_type;
  // Event.subject.
  std::string subject;
  // The code of every RegionRef anywhere in the payload, the corrected payload of an
  // EventCorrected included; sorted, unique, no empty codes. Equal to auth::RegionCodesIn.
  std::vector<std::string> region_codes;
  // The party_id of every coop.v1.Party anywhere in the payload (same walk); sorted, unique, no
  // empty ids (a party without an id cannot be selected).
  std::vector<std::string> party_ids;
};

// The facts of `event`, from one reflection walk over its payload.
EventFacts FactsOf(const coop::v1::Event& event);

// A validated EventFilter, ready to match facts quickly: hash sets for types, subjects, regions
// and party ids, a short list of subject prefixes. Copyable and movable.
class CompiledFilter {
 public:
  // The filter when every rule of EventFilter's field comments holds; an unset or empty filter
  // compiles to one that matches everything. Otherwise INVALID_ARGUMENT with a
  // google.rpc.BadRequest listing, in field order, every broken rule, each violation's field
  // path starting with `field_prefix` ("filter" gives "filter.types[2]",
  // "filter.subject_prefixes[0]", "filter.regions[1].code"; empty gives "types[2]"):
  // - a list longer than its maximum (types 32, the others 100), at the list's path;
  // - a type that is empty, not the full name of a payload message of coop.v1.Event's oneof
  //   (coop.v1.EventCorrected included), or equal to an earlier type;
  // - a subject that does not follow the subject grammar of envelope.proto;
  // - a subject prefix that is empty, longer than 200 characters or has a character outside
  //   [A-Za-z0-9/:-];
  // - a region code that is neither an ISO 3166-2 nor an ISO 3166-1 alpha-2 code;
  // - a party id that is not a Slug.
  // Subjects, regions and party ids are judged exactly as the publisher judges them in events.
  // At most 100 violations are listed; a last one at `field_prefix` counts the rest, so that the
  // details fit in the gRPC trailers.
  static absl::StatusOr<CompiledFilter> Compile(const coop::v1::EventFilter& filter,
                                                absl::string_view field_prefix);

  // Whether an event with these facts meets every criterion the filter sets; within a criterion
  // any element may match:
  // - types: the event's payload type is listed. A correction is of type
  //   coop.v1.EventCorrected: "coop.v1.TradeUpdate" does not select corrections of trade
  //   updates, "coop.v1.EventCorrected" selects corrections of every type;
  // - subjects and subject_prefixes, one criterion: the subject equals a listed subject or
  //   starts with a listed prefix;
  // - regions: a region code of the event equals a listed code, or a listed country covers it
  //   ("KZ" matches "KZ-19", "KZ-19" does not match "KZ"), as auth::RegionCovers;
  // - party_ids: a party id of the event is listed.
  // Allocates nothing.
  bool Matches(const EventFacts& facts) const;

  // Whether the filter sets no criterion, so that Matches is true for every event.
  bool matches_everything() const;

 private:
  CompiledFilter() = default;

  absl::flat_hash_set<std::string> types_;
  absl::flat_hash_set<std::string> subjects_;
  // Sorted; no prefix that starts with another one (that one matches whatever it would).
  std::vector<std::string> subject_prefixes_;
  absl::flat_hash_set<std::string> regions_;
  absl::flat_hash_set<std::string> party_ids_;
};

// Whether `principal` may read an event with these facts: auth::MaySee's rule (the payload type,
// and for a correction the corrected type, in its subscribe scope; a region of the event covered
// by a scope region, or the region wildcard), applied to precomputed facts.
bool MaySee(const auth::Principal& principal, const EventFacts& facts);

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_FILTER_EVENT_FILTER_H_

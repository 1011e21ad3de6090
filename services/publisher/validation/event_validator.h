// Checks a published event against the contract in proto/coop/v1: the field comments there are
// the rules, in the vocabulary defined at the top of types.proto (Required, Text(a..b), Slug,
// EventId, region codes, Money, PartialDate, Period, ...). The publisher calls ValidateEvent for
// every event it receives and answers a non-empty result with INVALID_ARGUMENT carrying a
// google.rpc.BadRequest with one field violation per entry.
//
// Only the rules that need no history are checked. Left to the views, which keep the log:
// whether an agreement_id, hub_id or incentive_id was used before; whether the event that an
// EventCorrected names exists, is of the same source and type, and is not itself a correction;
// whether causation_id names an existing event.
#ifndef COOP_SERVICES_PUBLISHER_VALIDATION_EVENT_VALIDATOR_H_
#define COOP_SERVICES_PUBLISHER_VALIDATION_EVENT_VALIDATOR_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coop/v1/envelope.pb.h"

namespace coop::publisher {

// One broken rule, shaped like google.rpc.BadRequest.FieldViolation.
struct FieldViolation {
  // The path of the offending field relative to the request, with the .proto field names and
  // repeated elements as name[i]: "event.memorandum_signed.parties[1].party.region.code". A rule
  // about a whole message (unknown fields, size, "at least one of") names the message itself.
  std::string field;
  // Why, for a human, quoting the value sent (shortened to 64 characters, and always valid
  // UTF-8 even when the value is not): "must be an ISO 3166-2 code such as RU-MOS or an
  // ISO 3166-1 alpha-2 code such as KZ; got 'Moscow'".
  std::string description;

  friend bool operator==(const FieldViolation&, const FieldViolation&) = default;
};

struct ValidationLimits {
  // The largest event accepted, serialized, not counting the client's source and recorded_time
  // (the server overwrites both). The contract's limit is 1,000,000 bytes for the stored event:
  // a publisher that wants that bound exactly passes it minus the size of what it stamps.
  size_t max_event_bytes = 1'000'000;
  // At most this many violations are returned; when there are more, one last entry at `prefix`
  // says how many were left out. Violations travel back in gRPC trailing metadata, which has a
  // size limit, and a hostile event can break thousands of rules.
  size_t max_violations = 100;
  // The recorded_time the server stamps on this event. The rules that compare with it are
  // checked only when it is set: Event.time at most 5 minutes after it, and the dates that
  // "must not be in the future" (MemorandumSigned.signed_on, AgreementSigned.signed_on,
  // HubMilestone.actual_on) not after its UTC date. Passed in, not read from a clock, so that the
  // check stays pure; the client's Event.recorded_time is never used.
  std::optional<absl::Time> recorded_time;
};

// Every violated rule of `event`, in field order; empty when the event is valid. `prefix` is the
// path of the event in the request ("event" in Publish and PublishStream, "events[3]" in
// PublishBatch) and starts every FieldViolation.field. source and recorded_time are set by the
// server and not checked. Pure and thread-safe: no I/O, no clock, no shared state.
std::vector<FieldViolation> ValidateEvent(const coop::v1::Event& event, absl::string_view prefix,
                                          const ValidationLimits& limits = {});

// Single rules of the vocabulary above, for other servers that take the same values in requests
// (the stream's EventFilter) and must judge them exactly as the publisher does. Pure and
// thread-safe.

// A Slug (types.proto): 1..64 characters matching ^[a-z0-9]+(-[a-z0-9]+)*$.
bool IsValidSlug(absl::string_view value);
// A RegionRef.code: an ISO 3166-2 subdivision code (^[A-Z]{2}-[A-Z0-9]{1,3}$) or an ISO 3166-1
// alpha-2 country code (^[A-Z]{2}$).
bool IsValidRegionCode(absl::string_view code);
// An Event.subject following the subject grammar of envelope.proto, at most 200 characters.
bool IsValidSubject(absl::string_view subject);
// `value` as FieldViolation descriptions quote it: in single quotes, shortened to 64 characters,
// with control characters and bytes that are not UTF-8 escaped.
std::string QuoteValue(absl::string_view value);

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_VALIDATION_EVENT_VALIDATOR_H_

// What an authenticated principal may publish and read (publisher.proto and subscriptions.proto
// state the rules; policy.proto says how scopes are written).
//
// An event is in a scope when
// - its payload type is in the scope's event types, and, for an EventCorrected, the type of the
//   corrected payload is too (otherwise a publisher allowed to correct could slip any payload in
//   as a "correction"); and
// - at least one RegionRef anywhere in its payload (nested and repeated fields included, and the
//   corrected payload of an EventCorrected) is covered by a scope region. A country code covers
//   itself and its subdivisions ("KZ" covers "KZ-19"); "*" covers every region, and is the only
//   way to allow an event that names no region at all.
//
// The checks read the payload that is set, not Event.type: run them after the event has been
// validated (validation checks that type names the payload). All functions are pure and
// thread-safe.
#ifndef COOP_COMMON_AUTH_SCOPE_H_
#define COOP_COMMON_AUTH_SCOPE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/subscriptions.pb.h"

namespace coop::auth {

// Whether the scope code `scope_region` ("*", a country "KZ", or a subdivision "KZ-19") covers
// the region code `region` of an event or filter. A subdivision does not cover its country:
// "KZ-19" does not cover "KZ".
bool RegionCovers(absl::string_view scope_region, absl::string_view region);

// The codes of every RegionRef in the event's payload (found by walking the message with
// reflection), sorted and without duplicates; empty codes are skipped.
std::vector<std::string> RegionCodesIn(const coop::v1::Event& event);

// OK when `principal` may publish `event`. Errors:
// - PERMISSION_DENIED "principal 'x' is not a publisher" when it has no publish scope;
// - PERMISSION_DENIED "publisher 'x' may not publish coop.v1.TradeUpdate; its event types are
//   [...]" when the type is outside the scope;
// - PERMISSION_DENIED "publisher 'x' may not publish coop.v1.CulturalEvent about regions
//   [RU-MOW]; its regions are [RU-MOS]" when no region of the event is covered;
// - INVALID_ARGUMENT when the event has no payload (validation rejects that first).
absl::Status CheckPublish(const Principal& principal, const coop::v1::Event& event);

// OK when every event `filter` can select is readable by `principal`, judged on the filter's
// types and regions (subjects and party ids do not widen or narrow the check). An empty list
// means "every type" or "every region" and needs "*" in the principal's subscribe scope; a
// listed region must be covered by a scope region ("KZ-19" is covered by "KZ"; "KZ" is not
// covered by "KZ-19"). Errors: PERMISSION_DENIED naming the principal and what it may not read
// ("subscriber 'x' may not read regions [CN]; its regions are [RU-MOS, KZ]"), or
// "principal 'x' may not read events" when it has no subscribe scope.
//
// A passing filter still selects events outside the scope when the scope is narrower in a way a
// filter cannot express (a filter type coop.v1.EventCorrected selects corrections of any type),
// so the stream must also apply MaySee to every event it delivers.
absl::Status CheckSubscribe(const Principal& principal, const coop::v1::EventFilter& filter);

// Whether `principal` may read `event`: the event is in its subscribe scope (rules above). False
// when it has no subscribe scope or the event has no payload.
bool MaySee(const Principal& principal, const coop::v1::Event& event);

// MaySee on what the rules read of an event, for callers that check one event against many
// principals and compute these once: `type` is the full name of the payload message set (empty
// when none is), `corrected_type` that of the corrected payload of an EventCorrected (empty
// otherwise), `region_codes` what RegionCodesIn returns for the event. MaySee(principal, event)
// is InSubscribeScope with the event's values.
bool InSubscribeScope(const Principal& principal, absl::string_view type,
                      absl::string_view corrected_type,
                      const std::vector<std::string>& region_codes);

}  // namespace coop::auth

#endif  // COOP_COMMON_AUTH_SCOPE_H_

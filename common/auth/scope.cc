#include "common/auth/scope.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/events/message_walk.h"
#include "coop/v1/types.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace coop::auth {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The message set in `message`'s oneof `oneof_name`, or nullptr when none is.
const Message* SetOneofMessage(const Message& message, const char* oneof_name) {
  const google::protobuf::OneofDescriptor* oneof =
      message.GetDescriptor()->FindOneofByName(oneof_name);
  const FieldDescriptor* field = message.GetReflection()->GetOneofFieldDescriptor(message, oneof);
  if (field == nullptr) return nullptr;
  return &message.GetReflection()->GetMessage(message, field);
}

// The payload types a scope must allow for `event`: the payload's, then for an EventCorrected
// the corrected payload's. Empty when no payload is set.
std::vector<std::string> RequiredTypes(const coop::v1::Event& event) {
  std::vector<std::string> types;
  const Message* payload = SetOneofMessage(event, "payload");
  if (payload == nullptr) return types;
  types.push_back(payload->GetDescriptor()->full_name());
  if (event.has_event_corrected()) {
    if (const Message* corrected = SetOneofMessage(event.event_corrected(), "corrected")) {
      types.push_back(corrected->GetDescriptor()->full_name());
    }
  }
  return types;
}

// "coop.v1.TradeUpdate", or "coop.v1.EventCorrected (correcting coop.v1.TradeUpdate)".
std::string DescribeTypes(const std::vector<std::string>& types) {
  if (types.size() == 1) return types[0];
  return absl::StrCat(types[0], " (correcting ", types[1], ")");
}

bool Contains(const std::vector<std::string>& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool TypeAllowed(const Scope& scope, absl::string_view type) {
  return Contains(scope.event_types, kAnyInScope) || Contains(scope.event_types, type);
}

bool RegionAllowed(const Scope& scope, absl::string_view region) {
  return std::any_of(scope.regions.begin(), scope.regions.end(),
                     [region](const std::string& code) { return RegionCovers(code, region); });
}

bool TypesAllowed(const Scope& scope, const std::vector<std::string>& types) {
  return std::all_of(types.begin(), types.end(),
                     [&scope](const std::string& type) { return TypeAllowed(scope, type); });
}

bool AnyRegionAllowed(const Scope& scope, const std::vector<std::string>& regions) {
  return std::any_of(regions.begin(), regions.end(),
                     [&scope](const std::string& region) { return RegionAllowed(scope, region); });
}

std::string Bracketed(const std::vector<std::string>& list) {
  return absl::StrCat("[", absl::StrJoin(list, ", "), "]");
}

// Appends the code of every RegionRef below `message`, in walk order; empty codes are skipped.
void CollectRegionCodes(const Message& message, std::vector<std::string>& codes) {
  events::VisitMessages(message, [&codes](const Message& visited) {
    if (visited.GetDescriptor() != coop::v1::RegionRef::descriptor()) return true;
    const auto& region = static_cast<const coop::v1::RegionRef&>(visited);
    if (!region.code().empty()) codes.push_back(region.code());
    return false;
  });
}

// The read rule of MaySee and InSubscribeScope. `region_codes()` gives the event's region codes;
// it is called only when the verdict depends on them, because MaySee computes them with a
// reflection walk over the payload, for every event a stream reads.
template <typename RegionCodes>
bool ReadableBy(const Principal& principal, absl::string_view type,
                absl::string_view corrected_type, const RegionCodes& region_codes) {
  if (!principal.subscribe.has_value() || type.empty()) return false;
  const Scope& scope = *principal.subscribe;
  if (!TypeAllowed(scope, type)) return false;
  if (!corrected_type.empty() && !TypeAllowed(scope, corrected_type)) return false;
  return Contains(scope.regions, kAnyInScope) || AnyRegionAllowed(scope, region_codes());
}

}  // namespace

bool RegionCovers(absl::string_view scope_region, absl::string_view region) {
  if (scope_region == kAnyInScope || scope_region == region) return true;
  // A country code covers its subdivisions: "KZ" covers "KZ-19".
  return scope_region.size() == 2 && region.size() > 3 && region[2] == '-' &&
         region.substr(0, 2) == scope_region;
}

std::vector<std::string> RegionCodesIn(const coop::v1::Event& event) {
  std::vector<std::string> codes;
  if (const Message* payload = SetOneofMessage(event, "payload")) {
    CollectRegionCodes(*payload, codes);
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

absl::Status CheckPublish(const Principal& principal, const coop::v1::Event& event) {
  if (!principal.publish.has_value()) {
    return absl::PermissionDeniedError(
        absl::StrCat("principal '", principal.id, "' is not a publisher"));
  }
  const Scope& scope = *principal.publish;
  const std::vector<std::string> types = RequiredTypes(event);
  if (types.empty()) {
    return absl::InvalidArgumentError("the event has no payload, so its scope cannot be checked");
  }
  if (!TypesAllowed(scope, types)) {
    return absl::PermissionDeniedError(
        absl::StrCat("publisher '", principal.id, "' may not publish ", DescribeTypes(types),
                     "; its event types are ", Bracketed(scope.event_types)));
  }
  if (Contains(scope.regions, kAnyInScope)) return absl::OkStatus();
  const std::vector<std::string> regions = RegionCodesIn(event);
  if (!AnyRegionAllowed(scope, regions)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "publisher '", principal.id, "' may not publish ", DescribeTypes(types),
        regions.empty() ? " that names no region" : " about regions " + Bracketed(regions),
        "; its regions are ", Bracketed(scope.regions)));
  }
  return absl::OkStatus();
}

absl::Status CheckSubscribe(const Principal& principal, const coop::v1::EventFilter& filter) {
  if (!principal.subscribe.has_value()) {
    return absl::PermissionDeniedError(
        absl::StrCat("principal '", principal.id, "' may not read events"));
  }
  const Scope& scope = *principal.subscribe;
  if (filter.types().empty()) {
    if (!Contains(scope.event_types, kAnyInScope)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "subscriber '", principal.id,
          "' may not read every event type: name some of its event types in the filter ",
          Bracketed(scope.event_types)));
    }
  } else {
    std::vector<std::string> missing;
    for (const std::string& type : filter.types()) {
      if (!TypeAllowed(scope, type)) missing.push_back(type);
    }
    if (!missing.empty()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "subscriber '", principal.id, "' may not read ", absl::StrJoin(missing, ", "),
          "; its event types are ", Bracketed(scope.event_types)));
    }
  }
  if (filter.regions().empty()) {
    if (!Contains(scope.regions, kAnyInScope)) {
      return absl::PermissionDeniedError(
          absl::StrCat("subscriber '", principal.id,
                       "' may not read every region: name some of its regions in the filter ",
                       Bracketed(scope.regions)));
    }
  } else {
    std::vector<std::string> missing;
    for (const coop::v1::RegionRef& region : filter.regions()) {
      if (!RegionAllowed(scope, region.code())) missing.push_back(region.code());
    }
    if (!missing.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat("subscriber '", principal.id, "' may not read regions ", Bracketed(missing),
                       "; its regions are ", Bracketed(scope.regions)));
    }
  }
  return absl::OkStatus();
}

bool MaySee(const Principal& principal, const coop::v1::Event& event) {
  const std::vector<std::string> types = RequiredTypes(event);
  return ReadableBy(principal, types.empty() ? absl::string_view() : types[0],
                    types.size() > 1 ? types[1] : absl::string_view(),
                    [&event] { return RegionCodesIn(event); });
}

bool InSubscribeScope(const Principal& principal, absl::string_view type,
                      absl::string_view corrected_type,
                      const std::vector<std::string>& region_codes) {
  return ReadableBy(principal, type, corrected_type,
                    [&region_codes]() -> const std::vector<std::string>& { return region_codes; });
}

}  // namespace coop::auth

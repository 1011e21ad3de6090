// Who a caller is and what it may do: the identity the Authenticator returns and the scope checks
// (scope.h) read. Plain values, copied freely; built only by Policy (policy.h).
#ifndef COOP_COMMON_AUTH_PRINCIPAL_H_
#define COOP_COMMON_AUTH_PRINCIPAL_H_

#include <optional>
#include <string>
#include <vector>

namespace coop::auth {

// The wildcard of Scope::event_types and Scope::regions: every type, every region.
inline constexpr char kAnyInScope[] = "*";

// A set of events, by payload type and by region (policy.proto ScopeConfig has the rules).
struct Scope {
  // Unique, non-empty: full names of coop.v1.Event payload messages ("coop.v1.HubMilestone"),
  // or "*" for all.
  std::vector<std::string> event_types;
  // Unique, non-empty: ISO 3166-2 subdivision codes ("RU-MOS"), ISO 3166-1 alpha-2 country
  // codes ("KZ", covering all of "KZ-*"), or "*" for all.
  std::vector<std::string> regions;
};

// An authenticated identity from the policy file.
struct Principal {
  // Slug, unique in the policy, e.g. "mosreg-government".
  std::string id;
  // For operators, in its original script, e.g. "Правительство Московской области".
  std::string display_name;
  // What it may publish; unset: it is not a publisher.
  std::optional<Scope> publish;
  // What it may read; unset: it may not subscribe or replay.
  std::optional<Scope> subscribe;
  // May run administrative calls (Views.Rebuild).
  bool is_operator = false;
};

// The Event.source the publisher stamps on events of `principal`: "publishers/{id}".
std::string EventSource(const Principal& principal);

}  // namespace coop::auth

#endif  // COOP_COMMON_AUTH_PRINCIPAL_H_

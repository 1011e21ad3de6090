// Who is calling: maps a gRPC call's credentials to a principal of the policy.
//
// Credentials, in the order they are tried:
// 1. An API key as "authorization: Bearer <key>" metadata (scheme case-insensitive; what
//    grpc::AccessTokenCredentials sends). If present it must be a known key, whatever else the
//    call carries.
// 2. A client certificate, verified by the TLS layer, whose subject (RFC 2253, as gRPC reports it
//    in the "x509_subject" property) is listed in the policy. A certificate alongside a valid
//    API key must belong to the same principal, or to no principal at all (the key then decides:
//    a transport certificate shared by several services does not block their keys).
// 3. Anonymous mode, if configured: every call without credentials is the anonymous principal.
//    Meant for plain-text local use only; the server should say so loudly in its log when
//    anonymous_enabled() is true.
//
// Every failure is UNAUTHENTICATED; messages never contain the API key.
//
// Certificate verification is the TLS layer's job: the server must use
// grpc::SslServerCredentials with GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY (API-key-only
// clients can still connect) or ..._REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY. Under the
// DONT_VERIFY modes gRPC reports the subject of an unverified certificate, and this class cannot
// tell the difference.
//
// Immutable after Create(); Authenticate() may be called from any number of threads.
#ifndef COOP_COMMON_AUTH_AUTHENTICATOR_H_
#define COOP_COMMON_AUTH_AUTHENTICATOR_H_

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/auth/policy.h"
#include "common/auth/principal.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/string_ref.h"

namespace coop::auth {

struct AuthenticatorOptions {
  // Empty: anonymous mode is off and calls without credentials fail. Otherwise the id of the
  // policy principal that every call without credentials becomes (set only from an explicit
  // command-line flag for local, plain-text use).
  std::string anonymous_principal_id;
};

class Authenticator {
 public:
  // What grpc::ServerContextBase::client_metadata() returns; keys are lower case.
  using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

  // Fails with INVALID_ARGUMENT when options.anonymous_principal_id is not in the policy.
  static absl::StatusOr<Authenticator> Create(Policy policy, AuthenticatorOptions options = {});

  // The principal of a call, from its TLS peer properties and its client metadata. Errors
  // (all UNAUTHENTICATED):
  // - "invalid API key": a bearer token that is not a known key;
  // - "the 'authorization' metadata must be 'Bearer <api key>'": another scheme or no token;
  // - "the 'authorization' metadata was sent more than once";
  // - "the API key and the client certificate belong to different principals ('a', 'b')";
  // - "client certificate '<subject>' is not a known principal";
  // - "no credentials: send 'authorization: Bearer <api key>' or a client certificate" when
  //   there is nothing to go on and anonymous mode is off.
  absl::StatusOr<Principal> Authenticate(const grpc::AuthContext& auth_context,
                                         const Metadata& client_metadata) const;

  // The same for a server call (callback or synchronous API).
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;

  // Whether calls without credentials are accepted as the anonymous principal.
  bool anonymous_enabled() const { return anonymous_.has_value(); }

  const Policy& policy() const { return policy_; }

 private:
  Authenticator(Policy policy, std::optional<Principal> anonymous)
      : policy_(std::move(policy)), anonymous_(std::move(anonymous)) {}

  // `auth_context` is nullptr when the call has no security context at all.
  absl::StatusOr<Principal> AuthenticateImpl(const grpc::AuthContext* auth_context,
                                             const Metadata& client_metadata) const;

  Policy policy_;
  // A copy of the anonymous principal when anonymous mode is on.
  std::optional<Principal> anonymous_;
};

}  // namespace coop::auth

#endif  // COOP_COMMON_AUTH_AUTHENTICATOR_H_

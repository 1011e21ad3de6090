#include "common/auth/authenticator.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/api_key.h"
#include "grpc/grpc_security_constants.h"

namespace coop::auth {
namespace {

absl::string_view View(grpc::string_ref ref) { return absl::string_view(ref.data(), ref.size()); }

// The API key of an "authorization: Bearer <key>" header; nullopt without the header.
absl::StatusOr<std::optional<std::string>> BearerToken(const Authenticator::Metadata& metadata) {
  auto [begin, end] = metadata.equal_range("authorization");
  if (begin == end) return std::nullopt;
  if (std::next(begin) != end) {
    return absl::UnauthenticatedError("the 'authorization' metadata was sent more than once");
  }
  const absl::string_view value = absl::StripAsciiWhitespace(View(begin->second));
  constexpr absl::string_view kScheme = "bearer";
  const absl::string_view token =
      value.size() > kScheme.size()
          ? absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()))
          : absl::string_view();
  // The scheme must be followed by whitespace ("Bearerabc" is no bearer token), and the key is
  // one word: anything else is a client bug worth reporting rather than a key to look up.
  if (!absl::StartsWithIgnoreCase(value, kScheme) || token.empty() ||
      !absl::ascii_isspace(value[kScheme.size()]) ||
      std::any_of(token.begin(), token.end(), [](char c) { return absl::ascii_isspace(c); })) {
    return absl::UnauthenticatedError("the 'authorization' metadata must be 'Bearer <api key>'");
  }
  return std::string(token);
}

// The subject of the verified client certificate; nullopt when the peer sent none.
std::optional<std::string> CertSubject(const grpc::AuthContext* auth_context) {
  if (auth_context == nullptr) return std::nullopt;
  const std::vector<grpc::string_ref> subjects =
      auth_context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subjects.empty()) return std::nullopt;
  return std::string(View(subjects.front()));
}

}  // namespace

absl::StatusOr<Authenticator> Authenticator::Create(Policy policy, AuthenticatorOptions options) {
  std::optional<Principal> anonymous;
  if (!options.anonymous_principal_id.empty()) {
    const Principal* principal = policy.FindById(options.anonymous_principal_id);
    if (principal == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "anonymous principal '", options.anonymous_principal_id, "' is not in the policy"));
    }
    anonymous = *principal;
  }
  return Authenticator(std::move(policy), std::move(anonymous));
}

absl::StatusOr<Principal> Authenticator::Authenticate(const grpc::AuthContext& auth_context,
                                                      const Metadata& client_metadata) const {
  return AuthenticateImpl(&auth_context, client_metadata);
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  const std::shared_ptr<const grpc::AuthContext> auth_context = context.auth_context();
  return AuthenticateImpl(auth_context.get(), context.client_metadata());
}

absl::StatusOr<Principal> Authenticator::AuthenticateImpl(const grpc::AuthContext* auth_context,
                                                          const Metadata& client_metadata) const {
  absl::StatusOr<std::optional<std::string>> token = BearerToken(client_metadata);
  if (!token.ok()) return token.status();
  const std::optional<std::string> subject = CertSubject(auth_context);
  const Principal* by_cert = subject ? policy_.FindByCertSubject(*subject) : nullptr;

  if (token->has_value()) {
    const Principal* by_key = policy_.FindByApiKeySha256(Sha256Hex(**token));
    if (by_key == nullptr) return absl::UnauthenticatedError("invalid API key");
    if (by_cert != nullptr && by_cert != by_key) {
      return absl::UnauthenticatedError(
          absl::StrCat("the API key and the client certificate belong to different principals ('",
                       by_key->id, "', '", by_cert->id, "')"));
    }
    return *by_key;
  }
  if (subject.has_value()) {
    if (by_cert == nullptr) {
      return absl::UnauthenticatedError(
          absl::StrCat("client certificate '", *subject, "' is not a known principal"));
    }
    return *by_cert;
  }
  if (anonymous_.has_value()) return *anonymous_;
  return absl::UnauthenticatedError(
      "no credentials: send 'authorization: Bearer <api key>' or a client certificate");
}

}  // namespace coop::auth

#include "common/auth/server_security.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/auth/policy.h"
#include "common/status_macros.h"
#include "grpcpp/security/server_credentials.h"
#include "spdlog/spdlog.h"

namespace coop::auth {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view flag) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read '", path, "'"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerCredentialsOptions& options) {
  const bool tls = !options.cert_file.empty() || !options.key_file.empty();
  if (options.insecure_plaintext) {
    if (tls || !options.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--insecure_plaintext: cannot be combined with --tls_cert/--tls_key/--tls_client_ca");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key: both required (or --insecure_plaintext for local use)");
  }
  grpc::SslServerCredentialsOptions ssl(options.client_ca_file.empty()
                                            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                            : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::StatusOr<std::string> cert = ReadFile(options.cert_file, "--tls_cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(options.key_file, "--tls_key");
  if (!key.ok()) return key.status();
  pair.cert_chain = *std::move(cert);
  pair.private_key = *std::move(key);
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(options.client_ca_file, "--tls_client_ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<ServerSecurity> LoadServerSecurity(const ServerSecurityOptions& options) {
  if (options.policy_file.empty()) {
    return absl::InvalidArgumentError("--policy: required (see common/auth/README.md)");
  }
  COOP_ASSIGN_OR_RETURN(Policy policy, Policy::Load(options.policy_file));
  COOP_ASSIGN_OR_RETURN(
      Authenticator authenticator,
      Authenticator::Create(std::move(policy),
                            {.anonymous_principal_id = options.anonymous_principal}));
  COOP_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                        MakeServerCredentials(options.credentials));
  if (options.credentials.insecure_plaintext) {
    spdlog::warn("serving PLAIN TEXT without TLS: for local use only");
  }
  if (authenticator.anonymous_enabled()) {
    spdlog::warn("ANONYMOUS calls accepted as principal '{}': for local use only",
                 options.anonymous_principal);
  }
  return ServerSecurity{std::move(authenticator), std::move(credentials)};
}

}  // namespace coop::auth

// How a coopstream gRPC server authenticates: its credentials from files (TLS, mutual TLS, or
// explicitly plain text) and the authenticator of its policy file. Shared by every server.
#ifndef COOP_COMMON_AUTH_SERVER_SECURITY_H_
#define COOP_COMMON_AUTH_SERVER_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "grpcpp/security/server_credentials.h"

namespace coop::auth {

struct ServerCredentialsOptions {
  std::string cert_file;       // PEM certificate chain of the server.
  std::string key_file;        // PEM private key of the server.
  std::string client_ca_file;  // PEM CAs for client certificates: set = mutual TLS available.
  bool insecure_plaintext = false;
};

// With insecure_plaintext: plain text (cert/key must then be empty). Otherwise TLS with the
// server's cert and key; with client_ca_file, client certificates are requested and verified
// (clients may instead present an API key). INVALID_ARGUMENT naming the flag for a missing or
// unreadable file, or when neither TLS nor plain text was chosen.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerCredentialsOptions& options);

// What a server's command line says about security.
struct ServerSecurityOptions {
  std::string policy_file;          // Required: the policy (README.md in this folder).
  std::string anonymous_principal;  // Empty: calls without credentials fail.
  ServerCredentialsOptions credentials;
};

struct ServerSecurity {
  Authenticator authenticator;
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

// Loads the policy, builds the authenticator and the credentials, and logs a warning for plain
// text and for anonymous access. Errors name the flag (--policy, --tls_cert, ...).
absl::StatusOr<ServerSecurity> LoadServerSecurity(const ServerSecurityOptions& options);

}  // namespace coop::auth

#endif  // COOP_COMMON_AUTH_SERVER_SECURITY_H_

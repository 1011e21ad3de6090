// gRPC server credentials from files: TLS, mutual TLS, or (explicitly) plain text.
#ifndef COOP_SERVICES_PUBLISHER_SERVER_CREDENTIALS_H_
#define COOP_SERVICES_PUBLISHER_SERVER_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"

namespace coop::publisher {

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

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_SERVER_CREDENTIALS_H_

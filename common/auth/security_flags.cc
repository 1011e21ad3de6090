#include "common/auth/security_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, policy, "", "Policy file (JSON): principals, API key hashes, scopes");
ABSL_FLAG(std::string, tls_cert, "", "Server certificate chain (PEM); with --tls_key");
ABSL_FLAG(std::string, tls_key, "", "Server private key (PEM)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "CA bundle (PEM) that client certificates must chain to; enables mutual TLS");
ABSL_FLAG(bool, insecure_plaintext, false,
          "Serve without TLS (local use only); API keys then travel in clear text");
ABSL_FLAG(std::string, anonymous_principal, "",
          "Policy principal that calls without credentials become (local use only)");

namespace coop::auth {

ServerSecurityOptions ServerSecurityOptionsFromFlags() {
  return {
      .policy_file = absl::GetFlag(FLAGS_policy),
      .anonymous_principal = absl::GetFlag(FLAGS_anonymous_principal),
      .credentials = {.cert_file = absl::GetFlag(FLAGS_tls_cert),
                      .key_file = absl::GetFlag(FLAGS_tls_key),
                      .client_ca_file = absl::GetFlag(FLAGS_tls_client_ca),
                      .insecure_plaintext = absl::GetFlag(FLAGS_insecure_plaintext)},
  };
}

}  // namespace coop::auth

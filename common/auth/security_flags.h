// The security flags every coopstream server takes, defined once here: --policy, --tls_cert,
// --tls_key, --tls_client_ca, --insecure_plaintext and --anonymous_principal. A server binary
// links this library and hands ServerSecurityOptionsFromFlags() to LoadServerSecurity.
#ifndef COOP_COMMON_AUTH_SECURITY_FLAGS_H_
#define COOP_COMMON_AUTH_SECURITY_FLAGS_H_

#include "common/auth/server_security.h"

namespace coop::auth {

// What the security flags say, read after absl::ParseCommandLine; not validated here
// (LoadServerSecurity checks them and names the flag in its errors).
ServerSecurityOptions ServerSecurityOptionsFromFlags();

}  // namespace coop::auth

#endif  // COOP_COMMON_AUTH_SECURITY_FLAGS_H_

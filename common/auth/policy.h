// The access policy: every principal the servers accept, how each authenticates and what each
// may publish and read. The file format (JSON) is policy.proto's PolicyFile; README.md has an
// example.
//
// A Policy is immutable once loaded and safe to read from any number of threads. The servers load
// it once at startup; a changed file takes effect on restart.
#ifndef COOP_COMMON_AUTH_POLICY_H_
#define COOP_COMMON_AUTH_POLICY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"

namespace coop::auth {

class Policy {
 public:
  // Reads and parses the policy file at `path`. Errors: NOT_FOUND or another errno-derived code
  // when the file cannot be read; INVALID_ARGUMENT as for Parse, prefixed with the path.
  static absl::StatusOr<Policy> Load(const std::string& path);

  // Parses a policy from its JSON text (protobuf's JSON mapping of coop.auth.v1.PolicyFile;
  // unknown fields are rejected). Fails with INVALID_ARGUMENT listing every problem found, each
  // naming the principal and the field: malformed JSON, an id that is not a Slug of at most 64
  // characters, duplicate ids, a missing display name, a key hash that is not 64 lowercase hex
  // digits, an unknown event type, a malformed region code, empty or duplicate scope entries, and
  // a key hash or certificate subject given to two principals. Key hash values are never quoted
  // in errors: a hash field holding the key itself by mistake must not end up in a log.
  static absl::StatusOr<Policy> Parse(absl::string_view json);

  // Lookups. The pointers stay valid as long as this Policy does; nullptr when nothing matches.
  const Principal* FindById(absl::string_view id) const;
  // `sha256_hex` is Sha256Hex(api key). The lookup needs no constant-time comparison: the hash
  // table is keyed by the hash of the secret, so timing reveals at most how much of a hash of
  // the caller's own guess matches a stored hash, which does not help find a key's preimage.
  const Principal* FindByApiKeySha256(absl::string_view sha256_hex) const;
  // `subject` as gRPC reports the verified peer certificate (RFC 2253), compared byte for byte.
  const Principal* FindByCertSubject(absl::string_view subject) const;

  // Every principal, in file order.
  const std::vector<Principal>& principals() const { return principals_; }

 private:
  Policy() = default;

  std::vector<Principal> principals_;
  // Values index principals_.
  absl::flat_hash_map<std::string, size_t> by_id_;
  absl::flat_hash_map<std::string, size_t> by_api_key_sha256_;
  absl::flat_hash_map<std::string, size_t> by_cert_subject_;
};

}  // namespace coop::auth

#endif  // COOP_COMMON_AUTH_POLICY_H_

// API keys (bearer tokens) and their stored form.
//
// An API key is an opaque secret the operator hands to a caller (README.md says how to make one).
// The policy file keeps only Sha256Hex(key), so a leaked policy file does not leak keys. Keys are
// random and long (256 bits), so a plain unsalted SHA-256 cannot be reversed by guessing; a slow
// password hash would only cost time on every call.
#ifndef COOP_COMMON_AUTH_API_KEY_H_
#define COOP_COMMON_AUTH_API_KEY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace coop::auth {

// The SHA-256 digest of `data` as 64 lowercase hex digits; the form api_key_sha256_hashes holds.
// Sha256Hex("") is "e3b0c442...b855".
std::string Sha256Hex(absl::string_view data);

}  // namespace coop::auth

#endif  // COOP_COMMON_AUTH_API_KEY_H_

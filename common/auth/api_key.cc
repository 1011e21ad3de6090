#include "common/auth/api_key.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace coop::auth {

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  // EVP_Digest fails only when OpenSSL cannot allocate or the provider is missing: nothing a
  // caller could handle, and answering with a wrong hash would lock everyone out silently.
  if (EVP_Digest(data.data(), data.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "coop::auth::Sha256Hex: OpenSSL EVP_Digest(SHA-256) failed\n");
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest_size);
  for (unsigned int i = 0; i < digest_size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

}  // namespace coop::auth

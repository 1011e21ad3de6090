// The record digest of audit.proto (ComputeDigestResponse.sha256), computed by the tests in one
// go from what they wrote, independently of the replay's incremental digest.
#ifndef COOP_TESTS_SERVICES_STREAM_RECORD_DIGEST_H_
#define COOP_TESTS_SERVICES_STREAM_RECORD_DIGEST_H_

#include <openssl/sha.h>

#include <cstdint>
#include <string>

namespace coop::testing {

// `records`: any range of values with `partition`, `offset` and `value` (the exact record
// bytes), in digest order.
template <typename Records>
std::string RecordDigest(const Records& records) {
  std::string bytes;
  for (const auto& record : records) {
    const auto put = [&bytes](uint64_t number, int size) {
      for (int i = size - 1; i >= 0; --i) bytes.push_back(static_cast<char>(number >> (8 * i)));
    };
    put(static_cast<uint32_t>(record.partition), 4);
    put(static_cast<uint64_t>(record.offset), 8);
    put(record.value.size(), 8);
    bytes += record.value;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

}  // namespace coop::testing

#endif  // COOP_TESTS_SERVICES_STREAM_RECORD_DIGEST_H_

// A policy for the auth tests, with principals from the domain (../shared/domain.md).
#ifndef COOP_TESTS_COMMON_AUTH_TEST_POLICY_H_
#define COOP_TESTS_COMMON_AUTH_TEST_POLICY_H_

#include <string>

namespace coop::auth::testing {

// API keys of the test principals; the policy holds their hashes.
inline constexpr char kMosregKey[] = "mosreg-test-key-6b1f0c2e9a";
inline constexpr char kAkimatKey[] = "akimat-test-key-3d7e44a1c0";
inline constexpr char kEmbassyKey[] = "embassy-test-key-90ab12cd34";

// Client certificate subjects, as tests/common/auth/make-test-certs makes them.
inline constexpr char kMosregSubject[] = "CN=mosreg-government,O=Government of Moscow Oblast";
inline constexpr char kAkimatSubject[] = "CN=almaty-region-akimat,O=Akimat of Almaty Region";
inline constexpr char kStrangerSubject[] = "CN=stranger,O=Nobody in the policy";

// The policy JSON:
// - mosreg-government: kMosregKey and kMosregSubject; publishes MemorandumSigned,
//   AgreementSigned, HubMilestone about RU-MOS; reads every type about RU-MOS and KZ.
// - almaty-region-akimat: kAkimatKey and kAkimatSubject; publishes every type about KZ-19;
//   reads MemorandumSigned and HubMilestone about KZ-19.
// - kz-embassy-moscow: kEmbassyKey; publishes CulturalEvent and DelegationVisit about KZ; does
//   not read.
// - local-dev: no credentials (anonymous mode only); publishes and reads everything.
std::string TestPolicyJson();

}  // namespace coop::auth::testing

#endif  // COOP_TESTS_COMMON_AUTH_TEST_POLICY_H_

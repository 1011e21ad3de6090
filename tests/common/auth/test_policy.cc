#include "tests/common/auth/test_policy.h"

#include "absl/strings/str_cat.h"
#include "common/auth/api_key.h"

namespace coop::auth::testing {

std::string TestPolicyJson() {
  return absl::StrCat(R"json({"principals": [
    {"id": "mosreg-government",
     "display_name": "Правительство Московской области",
     "api_key_sha256_hashes": [")json",
                      Sha256Hex(kMosregKey), R"json("],
     "client_cert_subjects": [")json",
                      kMosregSubject, R"json("],
     "publish": {"event_types": ["coop.v1.MemorandumSigned", "coop.v1.AgreementSigned",
                                 "coop.v1.HubMilestone"],
                 "regions": ["RU-MOS"]},
     "subscribe": {"event_types": ["*"], "regions": ["RU-MOS", "KZ"]}},
    {"id": "almaty-region-akimat",
     "display_name": "Алматы облысының әкімдігі",
     "api_key_sha256_hashes": [")json",
                      Sha256Hex(kAkimatKey), R"json("],
     "client_cert_subjects": [")json",
                      kAkimatSubject, R"json("],
     "publish": {"event_types": ["*"], "regions": ["KZ-19"]},
     "subscribe": {"event_types": ["coop.v1.MemorandumSigned", "coop.v1.HubMilestone"],
                   "regions": ["KZ-19"]}},
    {"id": "kz-embassy-moscow",
     "display_name": "Посольство Республики Казахстан в Российской Федерации",
     "api_key_sha256_hashes": [")json",
                      Sha256Hex(kEmbassyKey), R"json("],
     "publish": {"event_types": ["coop.v1.CulturalEvent", "coop.v1.DelegationVisit"],
                 "regions": ["KZ"]}},
    {"id": "local-dev",
     "display_name": "Local development",
     "publish": {"event_types": ["*"], "regions": ["*"]},
     "subscribe": {"event_types": ["*"], "regions": ["*"]}}
  ]})json");
}

}  // namespace coop::auth::testing

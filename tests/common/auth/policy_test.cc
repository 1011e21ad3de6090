#include "common/auth/policy.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/api_key.h"
#include "common/auth/scope.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/sample_events.h"

namespace coop::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A one-principal policy whose principal is `fields` (a JSON object body).
std::string OnePrincipal(const std::string& fields) {
  return absl::StrCat(R"({"principals": [{)", fields, "}]}");
}

constexpr char kValidFields[] =
    R"("id": "mosreg-government", "display_name": "Правительство Московской области")";

absl::Status ParseStatus(const std::string& json) { return Policy::Parse(json).status(); }

TEST(PolicyTest, ParsesPrincipalsWithTheirScopes) {
  absl::StatusOr<Policy> policy = Policy::Parse(testing::TestPolicyJson());
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_EQ(policy->principals().size(), 4u);
  const Principal& mosreg = policy->principals()[0];
  EXPECT_EQ(mosreg.id, "mosreg-government");
  EXPECT_EQ(mosreg.display_name, "Правительство Московской области");
  ASSERT_TRUE(mosreg.publish.has_value());
  EXPECT_THAT(
      mosreg.publish->event_types,
      ElementsAre("coop.v1.MemorandumSigned", "coop.v1.AgreementSigned", "coop.v1.HubMilestone"));
  EXPECT_THAT(mosreg.publish->regions, ElementsAre("RU-MOS"));
  ASSERT_TRUE(mosreg.subscribe.has_value());
  EXPECT_THAT(mosreg.subscribe->event_types, ElementsAre("*"));
  EXPECT_THAT(mosreg.subscribe->regions, ElementsAre("RU-MOS", "KZ"));
}

TEST(PolicyTest, LeftOutScopeMeansNoScope) {
  absl::StatusOr<Policy> policy = Policy::Parse(testing::TestPolicyJson());
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Principal* embassy = policy->FindById("kz-embassy-moscow");
  ASSERT_NE(embassy, nullptr);
  EXPECT_TRUE(embassy->publish.has_value());
  EXPECT_FALSE(embassy->subscribe.has_value());
}

TEST(PolicyTest, FindsPrincipalsByIdKeyHashAndCertSubject) {
  absl::StatusOr<Policy> policy = Policy::Parse(testing::TestPolicyJson());
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_NE(policy->FindById("almaty-region-akimat"), nullptr);
  EXPECT_EQ(policy->FindById("almaty-region-akimat")->id, "almaty-region-akimat");
  ASSERT_NE(policy->FindByApiKeySha256(Sha256Hex(testing::kAkimatKey)), nullptr);
  EXPECT_EQ(policy->FindByApiKeySha256(Sha256Hex(testing::kAkimatKey))->id, "almaty-region-akimat");
  ASSERT_NE(policy->FindByCertSubject(testing::kMosregSubject), nullptr);
  EXPECT_EQ(policy->FindByCertSubject(testing::kMosregSubject)->id, "mosreg-government");
}

TEST(PolicyTest, LookupsOfUnknownValuesFindNothing) {
  absl::StatusOr<Policy> policy = Policy::Parse(testing::TestPolicyJson());
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->FindById("nobody"), nullptr);
  EXPECT_EQ(policy->FindByApiKeySha256(Sha256Hex("not a key")), nullptr);
  // The key itself is not a lookup key: only its hash is.
  EXPECT_EQ(policy->FindByApiKeySha256(testing::kAkimatKey), nullptr);
  EXPECT_EQ(policy->FindByCertSubject(testing::kStrangerSubject), nullptr);
  // Subjects compare byte for byte.
  EXPECT_EQ(policy->FindByCertSubject("CN=mosreg-government, O=Government of Moscow Oblast"),
            nullptr);
}

TEST(PolicyTest, MalformedJsonIsInvalidArgument) {
  absl::Status status = ParseStatus(R"({"principals": [)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("not a valid policy file"));
}

TEST(PolicyTest, UnknownFieldIsInvalidArgument) {
  absl::Status status =
      ParseStatus(OnePrincipal(absl::StrCat(kValidFields, R"(, "api_keys": ["secret"])")));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("api_keys"));
}

TEST(PolicyTest, EmptyPrincipalListIsInvalidArgument) {
  absl::Status status = ParseStatus(R"({"principals": []})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "principals: at least one principal is required");
}

TEST(PolicyTest, IdThatIsNotASlugIsInvalidArgument) {
  for (const char* id :
       {"", "Mosreg", "mosreg_government", "-mosreg", "mosreg-", "mos--reg", "мособл"}) {
    absl::Status status =
        ParseStatus(OnePrincipal(absl::StrCat(R"("id": ")", id, R"(", "display_name": "x")")));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("principals[0]: id: '", id, "' is not a Slug")))
        << id;
  }
}

TEST(PolicyTest, IdOf64CharactersIsAcceptedAnd65IsNot) {
  const std::string id64(64, 'a');
  EXPECT_TRUE(
      Policy::Parse(OnePrincipal(absl::StrCat(R"("id": ")", id64, R"(", "display_name": "x")")))
          .ok());
  absl::Status status =
      ParseStatus(OnePrincipal(absl::StrCat(R"("id": ")", id64, R"(a", "display_name": "x")")));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is not a Slug of at most 64 characters"));
}

TEST(PolicyTest, DuplicateIdIsInvalidArgumentNamingBothEntries) {
  absl::Status status = ParseStatus(R"({"principals": [
      {"id": "kz-embassy-moscow", "display_name": "a"},
      {"id": "kz-embassy-moscow", "display_name": "b"}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("principals[1] 'kz-embassy-moscow': id: 'kz-embassy-moscow' is also the "
                        "id of principals[0]"));
}

TEST(PolicyTest, MissingDisplayNameIsInvalidArgument) {
  absl::Status status = ParseStatus(OnePrincipal(R"("id": "ktz")"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("principals[0] 'ktz': display_name: must have 1..300"));
}

TEST(PolicyTest, DisplayNameCountsCharactersNotBytes) {
  std::string name;
  for (int i = 0; i < 300; ++i) name += "Қ";  // 600 bytes
  EXPECT_TRUE(
      Policy::Parse(OnePrincipal(absl::StrCat(R"("id": "ktz", "display_name": ")", name, "\"")))
          .ok());
}

TEST(PolicyTest, MalformedKeyHashIsInvalidArgumentAndNotQuoted) {
  // A key pasted where its hash belongs must not be repeated into a log.
  const std::string key = "mosreg-secret-key-that-was-pasted-by-mistake";
  const std::string upper_hash = absl::AsciiStrToUpper(Sha256Hex("k"));
  for (const std::string& value : {key, upper_hash, Sha256Hex("k").substr(1)}) {
    absl::Status status = ParseStatus(OnePrincipal(
        absl::StrCat(kValidFields, R"(, "api_key_sha256_hashes": [")", value, R"("])")));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("principals[0] 'mosreg-government': api_key_sha256_hashes[0]: must be "
                          "64 lowercase hex digits"));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(value)));
  }
}

TEST(PolicyTest, KeyHashOfTwoPrincipalsIsInvalidArgument) {
  const std::string hash = Sha256Hex("shared");
  absl::Status status = ParseStatus(absl::StrCat(R"({"principals": [
      {"id": "ktz", "display_name": "АО «Қазақстан темір жолы»", "api_key_sha256_hashes": [")",
                                                 hash, R"("]},
      {"id": "slavtrans-service", "display_name": "АО «Славтранс-Сервис»",
       "api_key_sha256_hashes": [")",
                                                 hash, R"("]}]})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("principals[1] 'slavtrans-service': api_key_sha256_hashes[0]: the same "
                        "hash is at principals[0] 'ktz' api_key_sha256_hashes[0]"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(hash)));
}

TEST(PolicyTest, CertSubjectOfTwoPrincipalsIsInvalidArgument) {
  absl::Status status = ParseStatus(R"({"principals": [
      {"id": "ktz", "display_name": "KTZ", "client_cert_subjects": ["CN=ktz"]},
      {"id": "ktz-express", "display_name": "KTZ Express", "client_cert_subjects": ["CN=ktz"]}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("principals[1] 'ktz-express': client_cert_subjects[0]: 'CN=ktz' is also "
                        "at principals[0] 'ktz' client_cert_subjects[0]"));
}

TEST(PolicyTest, EmptyCertSubjectIsInvalidArgument) {
  absl::Status status =
      ParseStatus(OnePrincipal(absl::StrCat(kValidFields, R"(, "client_cert_subjects": [""])")));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("client_cert_subjects[0]: must not be empty"));
}

TEST(PolicyTest, UnknownEventTypeIsInvalidArgument) {
  // RegionRef is a coop.v1 message but not an event payload.
  for (const char* type : {"coop.v1.Nonsense", "coop.v1.RegionRef", "MemorandumSigned", ""}) {
    absl::Status status =
        ParseStatus(OnePrincipal(absl::StrCat(kValidFields, R"(, "publish": {"event_types": [")",
                                              type, R"("], "regions": ["RU-MOS"]})")));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << type;
    EXPECT_THAT(
        status.message(),
        HasSubstr(absl::StrCat("principals[0] 'mosreg-government': publish.event_types[0]: '", type,
                               "' is not an event type")))
        << type;
  }
}

TEST(PolicyTest, EveryPayloadTypeAndTheWildcardAreEventTypes) {
  absl::Status status = ParseStatus(OnePrincipal(absl::StrCat(kValidFields, R"(,
      "subscribe": {"event_types": ["*", "coop.v1.MemorandumSigned", "coop.v1.AgreementSigned",
          "coop.v1.HubMilestone", "coop.v1.TradeUpdate", "coop.v1.InvestmentIncentive",
          "coop.v1.IndustrialSite", "coop.v1.RegionProfile", "coop.v1.DelegationVisit",
          "coop.v1.TourismFlow", "coop.v1.RoadMapItem", "coop.v1.CulturalEvent",
          "coop.v1.AgreementAmended", "coop.v1.EventCorrected"],
        "regions": ["*"]})")));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(PolicyTest, MalformedRegionCodeIsInvalidArgument) {
  for (const char* region : {"ru-mos", "RUS", "RU-", "RU-MOSC", "RU_MOS", "R", "", "**"}) {
    absl::Status status = ParseStatus(OnePrincipal(absl::StrCat(
        kValidFields, R"(, "subscribe": {"event_types": ["*"], "regions": [")", region, R"("]})")));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << region;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("principals[0] 'mosreg-government': subscribe.regions[0]: '",
                                       region, "' is not an ISO 3166-2 code")))
        << region;
  }
}

TEST(PolicyTest, CountrySubdivisionAndWildcardAreRegions) {
  absl::Status status = ParseStatus(OnePrincipal(absl::StrCat(
      kValidFields,
      R"(, "publish": {"event_types": ["*"], "regions": ["KZ", "KZ-19", "RU-MOS", "KZ-7", "*"]})")));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(PolicyTest, EmptyScopeListsAreInvalidArgument) {
  absl::Status status = ParseStatus(OnePrincipal(absl::StrCat(kValidFields, R"(, "publish": {})")));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("publish.event_types: must not be empty"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("publish.regions: must not be empty"));
}

TEST(PolicyTest, DuplicateScopeEntriesAreInvalidArgument) {
  absl::Status status = ParseStatus(OnePrincipal(absl::StrCat(kValidFields, R"(,
      "publish": {"event_types": ["coop.v1.HubMilestone", "coop.v1.HubMilestone"],
                  "regions": ["RU-MOS", "RU-MOS"]})")));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("publish.event_types[1]: 'coop.v1.HubMilestone' is listed twice"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("publish.regions[1]: 'RU-MOS' is listed twice"));
}

TEST(PolicyTest, ReportsEveryProblemInOneError) {
  absl::Status status = ParseStatus(R"({"principals": [
      {"id": "Bad Id", "display_name": "x"},
      {"id": "ok", "display_name": "",
       "subscribe": {"event_types": ["coop.v1.Nope"], "regions": ["moscow"]}}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("principals[0]: id: 'Bad Id'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("principals[1] 'ok': display_name"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("principals[1] 'ok': subscribe.event_types[0]"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("principals[1] 'ok': subscribe.regions[0]"));
}

class PolicyFileTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }

  const std::string path_ =
      absl::StrCat(::testing::TempDir(), "/coop-auth-policy-",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".json");
};

TEST_F(PolicyFileTest, LoadReadsThePolicyFile) {
  std::ofstream(path_) << testing::TestPolicyJson();
  absl::StatusOr<Policy> policy = Policy::Load(path_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->principals().size(), 4u);
}

TEST_F(PolicyFileTest, LoadOfMissingFileIsNotFoundNamingThePath) {
  absl::Status status = Policy::Load(path_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat("cannot open policy file '", path_, "'")));
}

TEST_F(PolicyFileTest, LoadPrefixesProblemsWithThePath) {
  std::ofstream(path_) << R"({"principals": []})";
  absl::Status status = Policy::Load(path_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), absl::StrCat("policy file '", path_,
                                           "': principals: at least one principal is required"));
}

TEST(ExamplePolicyTest, ReadmeExampleLoadsAndAdmitsTheSeedPublishers) {
  absl::StatusOr<Policy> policy =
      Policy::Load(absl::StrCat(COOP_SOURCE_DIR, "/common/auth/policy.example.json"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->principals().size(), 9u);
  // printf %s example-only-mosreg-key | sha256sum
  const Principal* mosreg = policy->FindByApiKeySha256(Sha256Hex("example-only-mosreg-key"));
  ASSERT_NE(mosreg, nullptr);
  EXPECT_TRUE(CheckPublish(*mosreg, coop::testing::MemorandumSignedEvent()).ok());
  const Principal* embassy = policy->FindById("kz-embassy-moscow");
  ASSERT_NE(embassy, nullptr);
  EXPECT_TRUE(CheckPublish(*embassy, coop::testing::CulturalEventEvent()).ok());
}

}  // namespace
}  // namespace coop::auth

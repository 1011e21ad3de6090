#include "common/auth/authenticator.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/api_key.h"
#include "gmock/gmock.h"
#include "grpc/grpc_security_constants.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"

namespace coop::auth {
namespace {

using ::testing::HasSubstr;

// gRPC hides the iterator's constructors; the Authenticator never iterates.
class EmptyAuthPropertyIterator : public grpc::AuthPropertyIterator {};

// The peer properties of a TLS connection as gRPC reports them, without a connection.
class FakeAuthContext : public grpc::AuthContext {
 public:
  FakeAuthContext() = default;
  // A peer that presented a verified certificate with this subject.
  explicit FakeAuthContext(std::string subject) {
    properties_.emplace(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME, "ssl");
    properties_.emplace(GRPC_X509_SUBJECT_PROPERTY_NAME, std::move(subject));
  }

  bool IsPeerAuthenticated() const override { return false; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override { return {}; }
  std::string GetPeerIdentityPropertyName() const override { return ""; }
  std::vector<grpc::string_ref> FindPropertyValues(const std::string& name) const override {
    std::vector<grpc::string_ref> values;
    auto [begin, end] = properties_.equal_range(name);
    for (auto it = begin; it != end; ++it) values.emplace_back(it->second);
    return values;
  }
  grpc::AuthPropertyIterator begin() const override { return EmptyAuthPropertyIterator(); }
  grpc::AuthPropertyIterator end() const override { return EmptyAuthPropertyIterator(); }
  void AddProperty(const std::string& key, const grpc::string_ref& value) override {
    properties_.emplace(key, std::string(value.data(), value.size()));
  }
  bool SetPeerIdentityPropertyName(const std::string&) override { return false; }

 private:
  std::multimap<std::string, std::string> properties_;
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  static Authenticator MakeAuthenticator(AuthenticatorOptions options = {}) {
    absl::StatusOr<Policy> policy = Policy::Parse(testing::TestPolicyJson());
    EXPECT_TRUE(policy.ok()) << policy.status();
    absl::StatusOr<Authenticator> authenticator =
        Authenticator::Create(*std::move(policy), std::move(options));
    EXPECT_TRUE(authenticator.ok()) << authenticator.status();
    return *std::move(authenticator);
  }

  // Client metadata holding these "authorization" values. The strings live in the fixture, as
  // grpc::string_ref does not own what it points to.
  const Authenticator::Metadata& Authorization(std::vector<std::string> values) {
    authorization_values_ = std::move(values);
    metadata_.clear();
    metadata_.emplace("user-agent", "grpc-c++/1.51.1");
    for (const std::string& value : authorization_values_) {
      metadata_.emplace("authorization", value);
    }
    return metadata_;
  }
  const Authenticator::Metadata& Bearer(const std::string& key) {
    return Authorization({absl::StrCat("Bearer ", key)});
  }
  const Authenticator::Metadata& NoMetadata() { return Authorization({}); }

  Authenticator authenticator_ = MakeAuthenticator();
  const FakeAuthContext no_certificate_;

 private:
  std::vector<std::string> authorization_values_;
  Authenticator::Metadata metadata_;
};

TEST_F(AuthenticatorTest, BearerTokenAuthenticatesItsPrincipal) {
  absl::StatusOr<Principal> principal =
      authenticator_.Authenticate(no_certificate_, Bearer(testing::kAkimatKey));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "almaty-region-akimat");
  EXPECT_EQ(principal->display_name, "Алматы облысының әкімдігі");
  ASSERT_TRUE(principal->publish.has_value());
  EXPECT_EQ(principal->publish->regions, std::vector<std::string>{"KZ-19"});
}

TEST_F(AuthenticatorTest, BearerSchemeIsCaseInsensitive) {
  for (const char* scheme : {"bearer", "BEARER", "BeArEr"}) {
    absl::StatusOr<Principal> principal = authenticator_.Authenticate(
        no_certificate_, Authorization({absl::StrCat(scheme, " ", testing::kEmbassyKey)}));
    ASSERT_TRUE(principal.ok()) << scheme << ": " << principal.status();
    EXPECT_EQ(principal->id, "kz-embassy-moscow");
  }
}

TEST_F(AuthenticatorTest, UnknownApiKeyIsUnauthenticatedWithoutEchoingIt) {
  absl::StatusOr<Principal> principal =
      authenticator_.Authenticate(no_certificate_, Bearer("guessed-key-123"));
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(principal.status().message(), "invalid API key");
}

TEST_F(AuthenticatorTest, HashOfAKeyIsNotAKey) {
  absl::StatusOr<Principal> principal =
      authenticator_.Authenticate(no_certificate_, Bearer(Sha256Hex(testing::kMosregKey)));
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, UnknownApiKeyIsUnauthenticatedEvenWithAKnownCertificate) {
  absl::StatusOr<Principal> principal =
      authenticator_.Authenticate(FakeAuthContext(testing::kMosregSubject), Bearer("wrong"));
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(principal.status().message(), "invalid API key");
}

TEST_F(AuthenticatorTest, AuthorizationWithAnotherSchemeIsUnauthenticated) {
  for (const char* value : {"Basic bW9zcmVnOnNlY3JldA==", "Bearer", "Bearer   ",
                            "Bearermosreg-test-key", "Bearer two words", "token-without-scheme"}) {
    absl::StatusOr<Principal> principal =
        authenticator_.Authenticate(no_certificate_, Authorization({value}));
    EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated) << value;
    EXPECT_EQ(principal.status().message(),
              "the 'authorization' metadata must be 'Bearer <api key>'")
        << value;
  }
}

TEST_F(AuthenticatorTest, RepeatedAuthorizationIsUnauthenticated) {
  const std::string valid = absl::StrCat("Bearer ", testing::kMosregKey);
  absl::StatusOr<Principal> principal =
      authenticator_.Authenticate(no_certificate_, Authorization({valid, valid}));
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(principal.status().message(), "the 'authorization' metadata was sent more than once");
}

TEST_F(AuthenticatorTest, ClientCertificateAuthenticatesItsPrincipal) {
  absl::StatusOr<Principal> principal =
      authenticator_.Authenticate(FakeAuthContext(testing::kMosregSubject), NoMetadata());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "mosreg-government");
}

TEST_F(AuthenticatorTest, UnknownClientCertificateIsUnauthenticatedNamingItsSubject) {
  absl::StatusOr<Principal> principal =
      authenticator_.Authenticate(FakeAuthContext(testing::kStrangerSubject), NoMetadata());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(principal.status().message(),
            "client certificate 'CN=stranger,O=Nobody in the policy' is not a known principal");
}

TEST_F(AuthenticatorTest, KeyAndCertificateOfTheSamePrincipalAuthenticate) {
  absl::StatusOr<Principal> principal = authenticator_.Authenticate(
      FakeAuthContext(testing::kMosregSubject), Bearer(testing::kMosregKey));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "mosreg-government");
}

TEST_F(AuthenticatorTest, KeyAndCertificateOfDifferentPrincipalsAreUnauthenticated) {
  absl::StatusOr<Principal> principal = authenticator_.Authenticate(
      FakeAuthContext(testing::kMosregSubject), Bearer(testing::kAkimatKey));
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(principal.status().message(),
            "the API key and the client certificate belong to different principals "
            "('almaty-region-akimat', 'mosreg-government')");
}

TEST_F(AuthenticatorTest, KeyDecidesWhenTheCertificateIsNoPrincipal) {
  absl::StatusOr<Principal> principal = authenticator_.Authenticate(
      FakeAuthContext(testing::kStrangerSubject), Bearer(testing::kEmbassyKey));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "kz-embassy-moscow");
}

TEST_F(AuthenticatorTest, NoCredentialsIsUnauthenticated) {
  absl::StatusOr<Principal> principal = authenticator_.Authenticate(no_certificate_, NoMetadata());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(principal.status().message(),
            "no credentials: send 'authorization: Bearer <api key>' or a client certificate");
}

TEST_F(AuthenticatorTest, AnonymousModeIsOffByDefault) {
  EXPECT_FALSE(authenticator_.anonymous_enabled());
}

TEST_F(AuthenticatorTest, AnonymousModeMakesCallsWithoutCredentialsTheAnonymousPrincipal) {
  Authenticator anonymous = MakeAuthenticator({.anonymous_principal_id = "local-dev"});
  EXPECT_TRUE(anonymous.anonymous_enabled());
  absl::StatusOr<Principal> principal = anonymous.Authenticate(no_certificate_, NoMetadata());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "local-dev");
}

TEST_F(AuthenticatorTest, AnonymousModeStillAuthenticatesKeys) {
  Authenticator anonymous = MakeAuthenticator({.anonymous_principal_id = "local-dev"});
  absl::StatusOr<Principal> principal =
      anonymous.Authenticate(no_certificate_, Bearer(testing::kMosregKey));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "mosreg-government");
}

TEST_F(AuthenticatorTest, AnonymousModeStillRejectsAnInvalidKey) {
  Authenticator anonymous = MakeAuthenticator({.anonymous_principal_id = "local-dev"});
  absl::StatusOr<Principal> principal = anonymous.Authenticate(no_certificate_, Bearer("wrong"));
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(principal.status().message(), "invalid API key");
}

TEST_F(AuthenticatorTest, AnonymousModeStillRejectsAnUnknownCertificate) {
  Authenticator anonymous = MakeAuthenticator({.anonymous_principal_id = "local-dev"});
  absl::StatusOr<Principal> principal =
      anonymous.Authenticate(FakeAuthContext(testing::kStrangerSubject), NoMetadata());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(principal.status().message()), HasSubstr("is not a known principal"));
}

TEST(AuthenticatorCreateTest, UnknownAnonymousPrincipalIsInvalidArgument) {
  absl::StatusOr<Policy> policy = Policy::Parse(testing::TestPolicyJson());
  ASSERT_TRUE(policy.ok()) << policy.status();
  absl::StatusOr<Authenticator> authenticator =
      Authenticator::Create(*std::move(policy), {.anonymous_principal_id = "nobody"});
  EXPECT_EQ(authenticator.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(authenticator.status().message(), "anonymous principal 'nobody' is not in the policy");
}

}  // namespace
}  // namespace coop::auth

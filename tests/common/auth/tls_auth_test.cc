// A real gRPC server over TLS (client certificates requested and verified) whose Publish handler
// only authenticates and checks the scope, and real clients with certificates and API keys: the
// credentials arrive through gRPC as the Authenticator expects them.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/auth/authenticator.h"
#include "common/auth/scope.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/sample_events.h"

namespace coop::auth {
namespace {

using ::testing::HasSubstr;

constexpr char kPrincipalKey[] = "coop-principal";

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Publish answers with the outcome of Authenticate + CheckPublish, and names the principal in the
// trailing metadata when it is known. Nothing is recorded.
class AuthCheckingPublisher final : public coop::v1::Publisher::CallbackService {
 public:
  explicit AuthCheckingPublisher(const Authenticator& authenticator)
      : authenticator_(authenticator) {}

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const coop::v1::PublishRequest* request,
                                    coop::v1::PublishResponse* /*response*/) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<Principal> principal = authenticator_.Authenticate(*context);
    if (!principal.ok()) {
      reactor->Finish(ToGrpcStatus(principal.status()));
      return reactor;
    }
    context->AddTrailingMetadata(kPrincipalKey, principal->id);
    reactor->Finish(ToGrpcStatus(CheckPublish(*principal, request->event())));
    return reactor;
  }

 private:
  const Authenticator& authenticator_;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// The outcome of one Publish call.
struct Outcome {
  grpc::Status status;
  // The principal the server authenticated; empty when it did not.
  std::string principal;
};

class TlsAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = absl::StrCat(::testing::TempDir(), "/coop-auth-certs-XXXXXX");
    if (mkdtemp(pattern.data()) != nullptr) cert_dir_ = new std::filesystem::path(pattern);
  }

  static void TearDownTestSuite() {
    if (cert_dir_ != nullptr) std::filesystem::remove_all(*cert_dir_);
    delete cert_dir_;
    cert_dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cert_dir_, nullptr) << "cannot make a temporary directory";
    const std::string command = absl::StrCat(
        "'", COOP_SOURCE_DIR, "/tests/common/auth/make-test-certs' '", cert_dir_->string(), "'");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;

    absl::StatusOr<Policy> policy = Policy::Parse(testing::TestPolicyJson());
    ASSERT_TRUE(policy.ok()) << policy.status();
    absl::StatusOr<Authenticator> authenticator = Authenticator::Create(*std::move(policy));
    ASSERT_TRUE(authenticator.ok()) << authenticator.status();
    authenticator_ = std::make_unique<Authenticator>(*std::move(authenticator));
    service_ = std::make_unique<AuthCheckingPublisher>(*authenticator_);

    // Certificates are optional (API-key clients have none) but verified when sent.
    grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = ReadFile(*cert_dir_ / "ca.pem");
    options.pem_key_cert_pairs.push_back(
        {ReadFile(*cert_dir_ / "server.key"), ReadFile(*cert_dir_ / "server.pem")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // A client presenting the certificate `certificate` (make-test-certs name; empty: none) and,
  // when `api_key` is not empty, the key through grpc::AccessTokenCredentials.
  std::unique_ptr<coop::v1::Publisher::Stub> Client(const std::string& certificate,
                                                    const std::string& api_key = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(*cert_dir_ / "ca.pem");
    if (!certificate.empty()) {
      options.pem_private_key = ReadFile(*cert_dir_ / (certificate + ".key"));
      options.pem_cert_chain = ReadFile(*cert_dir_ / (certificate + ".pem"));
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(options);
    if (!api_key.empty()) {
      credentials =
          grpc::CompositeChannelCredentials(credentials, grpc::AccessTokenCredentials(api_key));
    }
    return coop::v1::Publisher::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), credentials));
  }

  static Outcome Publish(coop::v1::Publisher::Stub& stub, const coop::v1::Event& event) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    coop::v1::PublishRequest request;
    *request.mutable_event() = event;
    coop::v1::PublishResponse response;
    Outcome outcome;
    outcome.status = stub.Publish(&context, request, &response);
    auto it = context.GetServerTrailingMetadata().find(kPrincipalKey);
    if (it != context.GetServerTrailingMetadata().end()) {
      outcome.principal.assign(it->second.data(), it->second.size());
    }
    return outcome;
  }

  static std::filesystem::path* cert_dir_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<AuthCheckingPublisher> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

std::filesystem::path* TlsAuthTest::cert_dir_ = nullptr;

TEST_F(TlsAuthTest, ClientCertificateAuthenticatesAsItsPrincipal) {
  Outcome outcome = Publish(*Client("mosreg-government"), coop::testing::MemorandumSignedEvent());
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.principal, "mosreg-government");
}

TEST_F(TlsAuthTest, EachClientCertificateAuthenticatesAsItsOwnPrincipal) {
  Outcome outcome =
      Publish(*Client("almaty-region-akimat"), coop::testing::MemorandumSignedEvent());
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.principal, "almaty-region-akimat");
}

TEST_F(TlsAuthTest, BearerTokenAuthenticatesOverTlsWithoutAClientCertificate) {
  Outcome outcome =
      Publish(*Client("", testing::kAkimatKey), coop::testing::MemorandumSignedEvent());
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.principal, "almaty-region-akimat");
}

TEST_F(TlsAuthTest, NoCredentialsIsUnauthenticated) {
  Outcome outcome = Publish(*Client(""), coop::testing::MemorandumSignedEvent());
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(outcome.status.error_message(),
            "no credentials: send 'authorization: Bearer <api key>' or a client certificate");
  EXPECT_EQ(outcome.principal, "");
}

TEST_F(TlsAuthTest, WrongTokenIsUnauthenticated) {
  Outcome outcome =
      Publish(*Client("", "not-a-key-of-anyone"), coop::testing::MemorandumSignedEvent());
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(outcome.status.error_message(), "invalid API key");
}

TEST_F(TlsAuthTest, CertificateOfNoPrincipalIsUnauthenticated) {
  Outcome outcome = Publish(*Client("stranger"), coop::testing::MemorandumSignedEvent());
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(outcome.status.error_message(),
            "client certificate 'CN=stranger,O=Nobody in the policy' is not a known principal");
}

TEST_F(TlsAuthTest, OutOfScopeEventIsPermissionDenied) {
  // Moscow Oblast may not publish the embassy's concert in the city of Moscow.
  Outcome outcome = Publish(*Client("mosreg-government"), coop::testing::CulturalEventEvent());
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(outcome.status.error_message(),
              HasSubstr("publisher 'mosreg-government' may not publish coop.v1.CulturalEvent"));
  EXPECT_EQ(outcome.principal, "mosreg-government");
}

}  // namespace
}  // namespace coop::auth

// The Views gRPC service (views_service.h) on a real gRPC server on 127.0.0.1:0, reading a
// SQLite generation database through a ViewSource that waits for min_position against the
// database's positions table, as the engine does.
#include "consumers/views/views_service.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/api_key.h"
#include "common/auth/authenticator.h"
#include "common/auth/policy.h"
#include "common/cursor/cursor_token.h"
#include "common/rpc/status_conversion.h"
#include "common/status_macros.h"
#include "consumers/views/projector.h"
#include "consumers/views/sql/connection.h"
#include "consumers/views/view_source.h"
#include "coop/v1/errors.pb.h"
#include "coop/v1/views.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/testing/seed_events.h"

namespace coop::views {
namespace {

using ::coop::testing::SeedEvents;
using ::testing::ElementsAre;
using namespace ::coop::views::testing;  // NOLINT(build/namespaces): the shared test helpers.

namespace v1 = ::coop::v1;

const cursor::LogId kLog = {.cluster_id = kClusterId, .topic = kTopic};

constexpr char kReaderKey[] = "views-reader-test-key-5c0ffee";
constexpr char kOperatorKey[] = "views-operator-test-key-b4dcafe";
constexpr char kPublisherKey[] = "views-publisher-test-key-0ddba11";
constexpr char kHubWatcherKey[] = "views-hub-watcher-test-key-7a11ce";

// A reader, an operator (who reads nothing) and a publisher that may not read.
std::string PolicyJson() {
  return absl::StrCat(R"json({"principals": [
    {"id": "views-reader", "display_name": "Аналитик",
     "api_key_sha256_hashes": [")json",
                      auth::Sha256Hex(kReaderKey), R"json("],
     "subscribe": {"event_types": ["*"], "regions": ["*"]}},
    {"id": "views-operator", "display_name": "Оператор",
     "api_key_sha256_hashes": [")json",
                      auth::Sha256Hex(kOperatorKey), R"json("],
     "operator": true},
    {"id": "mosreg-government", "display_name": "Правительство Московской области",
     "api_key_sha256_hashes": [")json",
                      auth::Sha256Hex(kPublisherKey), R"json("],
     "publish": {"event_types": ["*"], "regions": ["RU-MOS"]}},
    {"id": "hub-watcher", "display_name": "Наблюдатель за хабами",
     "api_key_sha256_hashes": [")json",
                      auth::Sha256Hex(kHubWatcherKey), R"json("],
     "subscribe": {"event_types": ["coop.v1.HubMilestone"], "regions": ["KZ-19"]}}
  ]})json");
}

// A ViewSource over one SQLite database file: each Read opens its own connection, waits until
// the positions table reaches min_position (polling every 10 ms until the deadline), and runs
// the read in a snapshot transaction. Rebuilds are recorded, not run.
class SqliteViewSource final : public ViewSource {
 public:
  explicit SqliteViewSource(std::string path) : path_(std::move(path)) {}

  const cursor::LogId& log() const override { return kLog; }

  absl::Status Read(absl::string_view min_position, absl::Time deadline,
                    std::optional<absl::Time> as_of, const ReadFn& read) override {
    if (as_of.has_value()) {
      return absl::UnimplementedError("the test source keeps no as-of stores");
    }
    COOP_ASSIGN_OR_RETURN(std::unique_ptr<sql::Connection> db, sql::OpenSqlite(path_));
    if (!min_position.empty()) {
      COOP_ASSIGN_OR_RETURN(const cursor::Cursor bound, cursor::DecodeCursor(min_position, kLog));
      while (true) {
        COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> rows,
                              db->Query("SELECT kafka_partition, next_offset FROM positions"));
        size_t reached = 0;
        for (const auto& [partition, next_offset] : bound.next_offsets) {
          for (const sql::Row& row : rows) {
            if (sql::AsInt(row[0]) == partition && sql::AsInt(row[1]) >= next_offset) ++reached;
          }
        }
        if (reached == bound.next_offsets.size()) break;
        if (absl::Now() >= deadline) {
          return absl::DeadlineExceededError("min_position not reached by the deadline");
        }
        absl::SleepFor(absl::Milliseconds(10));
      }
    }
    COOP_RETURN_IF_ERROR(db->Begin(sql::Connection::TxMode::kSnapshot));
    const absl::Status status = read(*db);
    db->Rollback();
    return status;
  }

  absl::StatusOr<v1::RebuildStatus> StartRebuild() override {
    absl::MutexLock lock(&mu_);
    v1::RebuildStatus status;
    status.set_generation(++rebuilds_);
    status.set_state(v1::REBUILD_STATE_RUNNING);
    return status;
  }

  absl::StatusOr<v1::RebuildStatus> GetRebuild(int64_t generation) override {
    absl::MutexLock lock(&mu_);
    if (generation > rebuilds_ || rebuilds_ == 0) {
      return absl::NotFoundError(absl::StrCat("generation ", generation, " not found"));
    }
    v1::RebuildStatus status;
    status.set_generation(generation == 0 ? rebuilds_ : generation);
    status.set_state(v1::REBUILD_STATE_RUNNING);
    return status;
  }

  int64_t rebuilds() {
    absl::MutexLock lock(&mu_);
    return rebuilds_;
  }

 private:
  const std::string path_;
  absl::Mutex mu_;
  int64_t rebuilds_ ABSL_GUARDED_BY(mu_) = 0;
};

class ViewsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(::testing::TempDir(), "views_service_test_", getpid(), "_", info->name(),
                         ".db");
    absl::StatusOr<std::unique_ptr<sql::Connection>> db = sql::OpenSqlite(path_);
    ASSERT_TRUE(db.ok()) << db.status();
    writer_ = std::move(*db);
    ASSERT_TRUE(SetUpViews(*writer_).ok());
    projector_ = std::make_unique<Projector>(*writer_);
    Apply(SeedEvents());

    absl::StatusOr<auth::Policy> policy = auth::Policy::Parse(PolicyJson());
    ASSERT_TRUE(policy.ok()) << policy.status();
    absl::StatusOr<auth::Authenticator> authenticator =
        auth::Authenticator::Create(*std::move(policy));
    ASSERT_TRUE(authenticator.ok()) << authenticator.status();
    authenticator_.emplace(*std::move(authenticator));
    source_ = std::make_unique<SqliteViewSource>(path_);
    service_ = std::make_unique<ViewsService>(*source_, *authenticator_);

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    stub_ = v1::Views::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    projector_.reset();
    writer_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }

  void Apply(const std::vector<v1::Event>& events) {
    absl::MutexLock lock(&writer_mu_);
    absl::StatusOr<BatchResult> result = ApplyAsOneBatch(*projector_, log_.Append(events));
    ASSERT_TRUE(result.ok()) << result.status();
  }

  // The log position a next event of `subject` will get, as a Position token.
  std::string NextPositionOf(const std::string& subject) {
    absl::MutexLock lock(&writer_mu_);
    TestLog copy = log_;
    v1::Event event;
    event.set_subject(subject);
    const LogEvent next = copy.Append(event);
    return cursor::EncodePosition(kLog, next.partition, next.offset);
  }

  std::unique_ptr<grpc::ClientContext> Context(const char* key,
                                               absl::Duration timeout = absl::Seconds(10)) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (key != nullptr) context->AddMetadata("authorization", absl::StrCat("Bearer ", key));
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return context;
  }

  std::string path_;
  absl::Mutex writer_mu_;
  std::unique_ptr<sql::Connection> writer_;
  std::unique_ptr<Projector> projector_;
  TestLog log_ ABSL_GUARDED_BY(writer_mu_);
  std::optional<auth::Authenticator> authenticator_;
  std::unique_ptr<SqliteViewSource> source_;
  std::unique_ptr<ViewsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Views::Stub> stub_;
};

v1::GetAgreementRequest GetMemorandum() {
  v1::GetAgreementRequest request;
  request.set_agreement_id("ru-mos-kz-19-memorandum-2025");
  return request;
}

TEST_F(ViewsServiceTest, CallWithoutCredentialsIsUnauthenticated) {
  v1::GetAgreementResponse response;
  const grpc::Status status =
      stub_->GetAgreement(Context(nullptr).get(), GetMemorandum(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::RebuildResponse rebuild;
  EXPECT_EQ(stub_->Rebuild(Context(nullptr).get(), v1::RebuildRequest(), &rebuild).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      stub_->GetAgreement(Context("not-a-key").get(), GetMemorandum(), &response).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ViewsServiceTest, PrincipalWithoutSubscribeScopeMayNotRead) {
  v1::ListHubsResponse response;
  const grpc::Status status =
      stub_->ListHubs(Context(kPublisherKey).get(), v1::ListHubsRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("mosreg-government"));
}

TEST_F(ViewsServiceTest, RebuildByANonOperatorIsPermissionDenied) {
  v1::RebuildResponse response;
  EXPECT_EQ(stub_->Rebuild(Context(kReaderKey).get(), v1::RebuildRequest(), &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetRebuildResponse progress;
  EXPECT_EQ(
      stub_->GetRebuild(Context(kReaderKey).get(), v1::GetRebuildRequest(), &progress).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(source_->rebuilds(), 0);
}

TEST_F(ViewsServiceTest, OperatorStartsAndFollowsARebuild) {
  v1::RebuildResponse response;
  const grpc::Status status =
      stub_->Rebuild(Context(kOperatorKey).get(), v1::RebuildRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status().generation(), 1);
  EXPECT_EQ(response.status().state(), v1::REBUILD_STATE_RUNNING);
  v1::GetRebuildRequest request;
  v1::GetRebuildResponse progress;
  ASSERT_TRUE(stub_->GetRebuild(Context(kOperatorKey).get(), request, &progress).ok());
  EXPECT_EQ(progress.status().generation(), 1);
  request.set_generation(7);
  EXPECT_EQ(stub_->GetRebuild(Context(kOperatorKey).get(), request, &progress).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_generation(-1);
  EXPECT_EQ(stub_->GetRebuild(Context(kOperatorKey).get(), request, &progress).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ViewsServiceTest, ResponsesCarryTheCursorOfTheAppliedState) {
  v1::GetAgreementResponse response;
  const grpc::Status status =
      stub_->GetAgreement(Context(kReaderKey).get(), GetMemorandum(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.agreement().title(),
            "Меморандум о развитии сотрудничества между Московской и Алматинской областями");
  absl::StatusOr<cursor::Cursor> cursor = cursor::DecodeCursor(response.cursor(), kLog);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  absl::StatusOr<std::map<int32_t, int64_t>> positions = projector_->LoadPositions();
  ASSERT_TRUE(positions.ok()) << positions.status();
  EXPECT_EQ(cursor->next_offsets, *positions);

  v1::ListTimelineResponse timeline;
  ASSERT_TRUE(
      stub_->ListTimeline(Context(kReaderKey).get(), v1::ListTimelineRequest(), &timeline).ok());
  EXPECT_EQ(timeline.cursor(), response.cursor());
  EXPECT_EQ(timeline.entries_size(), static_cast<int>(SeedEvents().size()));
}

TEST_F(ViewsServiceTest, MinPositionAlreadyReachedAnswersAtOnce) {
  v1::GetAgreementResponse first;
  ASSERT_TRUE(stub_->GetAgreement(Context(kReaderKey).get(), GetMemorandum(), &first).ok());
  v1::GetAgreementRequest request = GetMemorandum();
  request.set_min_position(first.cursor());
  const absl::Time start = absl::Now();
  v1::GetAgreementResponse response;
  const grpc::Status status =
      stub_->GetAgreement(Context(kReaderKey, absl::Seconds(5)).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(ViewsServiceTest, MinPositionBeyondTheViewEndsAtTheDeadline) {
  v1::GetAgreementRequest request = GetMemorandum();
  request.set_min_position(NextPositionOf("agreement/never-published"));
  const absl::Time start = absl::Now();
  v1::GetAgreementResponse response;
  const grpc::Status status =
      stub_->GetAgreement(Context(kReaderKey, absl::Milliseconds(300)).get(), request, &response);
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_GE(elapsed, absl::Milliseconds(290));
  EXPECT_LT(elapsed, absl::Seconds(3));
}

TEST_F(ViewsServiceTest, WaitingCallAnswersOnceTheEventIsApplied) {
  v1::Event agreement = SeedEvent(kSelyatinoAgreementId);
  agreement.set_id("mosreg-2025-kashira-agreement");
  agreement.set_subject("agreement/kashira-2025");
  agreement.mutable_agreement_signed()->set_agreement_id("kashira-2025");
  v1::GetAgreementRequest request;
  request.set_agreement_id("kashira-2025");
  request.set_min_position(NextPositionOf(agreement.subject()));

  grpc::Status status;
  v1::GetAgreementResponse response;
  std::atomic<bool> answered = false;
  std::thread call([&] {
    status = stub_->GetAgreement(Context(kReaderKey, absl::Seconds(10)).get(), request, &response);
    answered = true;
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(answered);
  Apply({RecordedAt(agreement, absl::Now())});
  call.join();
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.agreement().agreement_id(), "kashira-2025");
  absl::StatusOr<cursor::Cursor> cursor = cursor::DecodeCursor(response.cursor(), kLog);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  absl::StatusOr<cursor::Cursor> bound = cursor::DecodeCursor(request.min_position(), kLog);
  ASSERT_TRUE(bound.ok()) << bound.status();
  const auto& [partition, next_offset] = *bound->next_offsets.begin();
  EXPECT_GE(cursor->next_offsets.at(partition), next_offset);
}

TEST_F(ViewsServiceTest, TimelineShowsOnlyEventsInTheCallersSubscribeScope) {
  v1::ListTimelineRequest request;
  request.set_page_size(1000);
  v1::ListTimelineResponse all;
  ASSERT_TRUE(stub_->ListTimeline(Context(kReaderKey).get(), request, &all).ok());
  int kz_hub_milestones = 0;
  for (const v1::TimelineEntry& entry : all.entries()) {
    if (entry.type() != "coop.v1.HubMilestone") continue;
    for (const v1::RegionRef& region : entry.regions()) {
      if (region.code() == "KZ-19") {
        ++kz_hub_milestones;
        break;
      }
    }
  }
  ASSERT_GT(kz_hub_milestones, 0);
  ASSERT_GT(all.entries_size(), kz_hub_milestones);

  v1::ListTimelineResponse scoped;
  ASSERT_TRUE(stub_->ListTimeline(Context(kHubWatcherKey).get(), request, &scoped).ok());
  EXPECT_EQ(scoped.entries_size(), kz_hub_milestones);
  for (const v1::TimelineEntry& entry : scoped.entries()) {
    EXPECT_EQ(entry.type(), "coop.v1.HubMilestone") << entry.event().id();
  }
}

TEST_F(ViewsServiceTest, BadFiltersComeBackAsBadRequestDetails) {
  v1::ListTimelineRequest request;
  request.mutable_filter()->add_types("coop.v1.Nope");
  request.mutable_filter()->add_regions()->set_code("Moscow");
  v1::ListTimelineResponse response;
  const grpc::Status status = stub_->ListTimeline(Context(kReaderKey).get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ErrorStatus details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(), rpc::kBadRequestTypeUrl);
  v1::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(details.details(0).value()));
  std::vector<std::string> fields;
  for (const v1::FieldViolation& v : bad_request.field_violations()) fields.push_back(v.field());
  EXPECT_THAT(fields, ElementsAre("filter.types[0]", "filter.regions[0].code"));
}

TEST_F(ViewsServiceTest, BadRequestFailsWithoutWaitingForMinPosition) {
  v1::ListHubsRequest request;
  request.set_page_size(-1);
  request.set_min_position(NextPositionOf("hub/never-published"));
  const absl::Time start = absl::Now();
  v1::ListHubsResponse response;
  EXPECT_EQ(
      stub_->ListHubs(Context(kReaderKey, absl::Seconds(5)).get(), request, &response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(ViewsServiceTest, MalformedOrForeignMinPositionIsInvalidArgument) {
  v1::GetAgreementRequest request = GetMemorandum();
  request.set_min_position("garbage");
  v1::GetAgreementResponse response;
  grpc::Status status = stub_->GetAgreement(Context(kReaderKey).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  request.set_min_position(cursor::EncodePosition({.cluster_id = "other", .topic = kTopic}, 0, 1));
  status = stub_->GetAgreement(Context(kReaderKey).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("min_position"));
}

TEST_F(ViewsServiceTest, AsOfInTheFutureIsInvalidArgument) {
  v1::ListAgreementsRequest request;
  request.mutable_as_of()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  v1::ListAgreementsResponse response;
  const grpc::Status status = stub_->ListAgreements(Context(kReaderKey).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "as_of is in the future");
}

TEST_F(ViewsServiceTest, UnknownIdIsNotFound) {
  v1::GetHubRequest request;
  request.set_hub_id("kashira");
  v1::GetHubResponse response;
  const grpc::Status status = stub_->GetHub(Context(kReaderKey).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "hub 'kashira' not found");
}

TEST_F(ViewsServiceTest, ListsPageThroughTheService) {
  v1::ListTradeRowsRequest request;
  request.set_page_size(3);
  std::vector<int> page_sizes;
  for (int page = 0; page < 10; ++page) {
    v1::ListTradeRowsResponse response;
    const grpc::Status status = stub_->ListTradeRows(Context(kReaderKey).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(response.cursor().empty());
    page_sizes.push_back(response.rows_size());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_THAT(page_sizes, ElementsAre(3, 3, 1));
  v1::GetRegionRequest region;
  region.mutable_region()->set_code("RU-MOS");
  v1::GetRegionResponse summary;
  ASSERT_TRUE(stub_->GetRegion(Context(kReaderKey).get(), region, &summary).ok());
  EXPECT_THAT(summary.region().site_ids(), ElementsAre("esipovo"));
  v1::ListRegionsResponse regions;
  ASSERT_TRUE(
      stub_->ListRegions(Context(kReaderKey).get(), v1::ListRegionsRequest(), &regions).ok());
  EXPECT_EQ(regions.regions_size(), 4);
}

}  // namespace
}  // namespace coop::views

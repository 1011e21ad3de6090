#include "tests/services/stream/stream_test_env.h"

#include <atomic>
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/auth/policy.h"
#include "common/events/record_codec.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/topic_admin.h"
#include "common/rpc/status_conversion.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "tests/common/auth/test_policy.h"
#include "tests/testing/kafka_env.h"

namespace coop::stream::testing {

namespace {

using coop::v1::SubscribeRequest;
using coop::v1::SubscribeResponse;
using google::protobuf::util::TimeUtil;

constexpr absl::Duration kKafkaTimeout = absl::Seconds(30);

}  // namespace

// ---- TestLog ------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<TestLog>> TestLog::Create(const std::string& bootstrap_servers,
                                                         const std::string& topic) {
  auto log = std::unique_ptr<TestLog>(new TestLog());
  log->kafka_.bootstrap_servers = bootstrap_servers;
  log->kafka_.client_id = "coop-stream-test";
  log->topic_ = topic;
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin,
                        kafka::TopicAdmin::Create(log->kafka_));
  kafka::EventTopicsConfig config;
  config.events_topic = topic;
  config.dead_letter_topic = topic + ".dlq";
  config.partitions = kTestPartitions;
  COOP_RETURN_IF_ERROR(admin->EnsureTopics(kafka::EventTopicSpecs(config), absl::Seconds(60)));
  COOP_ASSIGN_OR_RETURN(log->log_id_.cluster_id, admin->ClusterId(kKafkaTimeout));
  log->log_id_.topic = topic;
  COOP_ASSIGN_OR_RETURN(log->producer_, kafka::Producer::Create(log->kafka_));
  COOP_ASSIGN_OR_RETURN(log->consumer_, kafka::Consumer::Create(log->kafka_, {}));
  // A new topic's partitions get their leaders a moment after creation; until then listing
  // offsets (as LogTail::Start does) fails with NOT_LEADER_FOR_PARTITION.
  const absl::Time deadline = absl::Now() + kKafkaTimeout;
  absl::StatusOr<std::vector<int64_t>> ends = log->EndOffsets();
  while (!ends.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    ends = log->EndOffsets();
  }
  COOP_RETURN_IF_ERROR(ends.status());
  return log;
}

absl::StatusOr<std::vector<kafka::RecordPosition>> TestLog::Produce(
    const std::vector<coop::v1::Event>& events) {
  std::vector<kafka::RecordPosition> positions(events.size());
  std::vector<absl::Status> results(events.size());
  std::atomic<size_t> done{0};
  size_t queued_count = 0;
  absl::Status failed;
  for (size_t i = 0; i < events.size() && failed.ok(); ++i) {
    absl::StatusOr<kafka::KafkaRecord> record = events::EncodeRecord(events[i]);
    if (!record.ok()) {
      failed = record.status();
      break;
    }
    absl::Status queued;
    do {
      queued = producer_->Produce(topic_, *record,
                                  [&, i](absl::StatusOr<kafka::RecordPosition> position) {
                                    if (position.ok()) {
                                      positions[i] = *std::move(position);
                                    } else {
                                      results[i] = position.status();
                                    }
                                    ++done;
                                  });
      if (absl::IsResourceExhausted(queued)) absl::SleepFor(absl::Milliseconds(5));
    } while (absl::IsResourceExhausted(queued));
    if (queued.ok()) {
      ++queued_count;
    } else {
      failed = queued;
    }
  }
  // The callbacks refer to this frame: wait for every one that will run.
  while (done.load() < queued_count) absl::SleepFor(absl::Milliseconds(2));
  COOP_RETURN_IF_ERROR(failed);
  for (const absl::Status& result : results) COOP_RETURN_IF_ERROR(result);
  return positions;
}

absl::StatusOr<std::vector<int64_t>> TestLog::EndOffsets() {
  using Offsets = std::map<int32_t, int64_t>;
  COOP_ASSIGN_OR_RETURN(Offsets ends,
                        consumer_->EndOffsets(topic_, kTestPartitions, kKafkaTimeout));
  std::vector<int64_t> result(kTestPartitions, 0);
  for (const auto& [p, end] : ends) result[static_cast<size_t>(p)] = end;
  return result;
}

// ---- BackgroundProducer -------------------------------------------------------------------------

BackgroundProducer::BackgroundProducer(TestLog& log, std::vector<coop::v1::Event> events,
                                       size_t chunk, absl::Duration pause) {
  thread_ = std::thread([this, &log, events = std::move(events), chunk, pause] {
    for (size_t begin = 0; begin < events.size(); begin += chunk) {
      const size_t end = std::min(events.size(), begin + chunk);
      absl::StatusOr<std::vector<kafka::RecordPosition>> written =
          log.Produce(std::vector<coop::v1::Event>(events.begin() + static_cast<ptrdiff_t>(begin),
                                                   events.begin() + static_cast<ptrdiff_t>(end)));
      {
        absl::MutexLock lock(&mu_);
        if (!written.ok()) {
          status_ = written.status();
          return;
        }
        positions_.insert(positions_.end(), written->begin(), written->end());
      }
      absl::SleepFor(pause);
    }
  });
}

BackgroundProducer::~BackgroundProducer() {
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::vector<kafka::RecordPosition>> BackgroundProducer::Join() {
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  COOP_RETURN_IF_ERROR(status_);
  return positions_;
}

size_t BackgroundProducer::written() const {
  absl::MutexLock lock(&mu_);
  return positions_.size();
}

// ---- TestServer ---------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(const TestLog& log,
                                                              const TestServerOptions& options) {
  auto server = std::unique_ptr<TestServer>(new TestServer());
  COOP_ASSIGN_OR_RETURN(
      auth::Policy policy,
      auth::Policy::Parse(options.policy_json.empty() ? auth::testing::TestPolicyJson()
                                                      : options.policy_json));
  COOP_ASSIGN_OR_RETURN(
      auth::Authenticator authenticator,
      auth::Authenticator::Create(std::move(policy),
                                  {.anonymous_principal_id = options.anonymous_principal}));
  server->authenticator_ = std::make_unique<auth::Authenticator>(std::move(authenticator));

  LogTailOptions tail_options;
  tail_options.kafka = log.kafka();
  tail_options.topic = log.topic();
  tail_options.max_bytes = options.ring_max_bytes;
  tail_options.max_entries = options.ring_max_entries;
  COOP_ASSIGN_OR_RETURN(server->tail_, LogTail::Start(tail_options));

  SubscriptionOptions hub_options;
  hub_options.kafka = log.kafka();
  hub_options.topic = log.topic();
  hub_options.log = log.log_id();
  hub_options.catchup_slots = options.catchup_slots;
  hub_options.catchup_wait = options.catchup_wait;
  hub_options.catchup_hold = options.catchup_hold;
  hub_options.max_streams_per_principal = options.max_streams_per_principal;
  server->hub_ = std::make_unique<SubscriptionHub>(hub_options, *server->tail_);

  ReplayServiceOptions replay;
  replay.kafka = log.kafka();
  replay.topic = log.topic();
  replay.log = log.log_id();
  replay.settle_delay = absl::Seconds(1);
  replay.max_replays = options.max_replays;
  server->service_ =
      std::make_unique<StreamService>(*server->hub_, *server->authenticator_, replay);

  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError("cannot start the gRPC server on 127.0.0.1:0");
  }
  return server;
}

TestServer::~TestServer() { Shutdown(); }

void TestServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // A Start that failed half-way leaves parts unset.
  if (hub_ != nullptr) hub_->Shutdown(absl::Now() + grace);
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  }
}

std::unique_ptr<coop::v1::Subscriptions::Stub> TestServer::NewStub(bool small_window) const {
  grpc::ChannelArguments args;
  // A channel of its own: tests that stall one client must not stall another.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (small_window) {
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 10);
  }
  return coop::v1::Subscriptions::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials(), args));
}

// ---- Subscriber ---------------------------------------------------------------------------------

Subscriber::Subscriber(coop::v1::Subscriptions::Stub& stub, const SubscribeRequest& request,
                       const std::string& api_key, bool paused)
    : paused_(paused) {
  if (!api_key.empty()) context_.AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
  reader_ = stub.Subscribe(&context_, request);
  thread_ = std::thread([this] { Run(); });
}

Subscriber::~Subscriber() {
  Cancel();
  thread_.join();
}

void Subscriber::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](bool* paused) { return !*paused; }, &paused_));
    }
    SubscribeResponse message;
    if (!reader_->Read(&message)) break;
    absl::MutexLock lock(&mu_);
    if (message.has_event()) ++events_;
    if (message.has_events()) events_ += static_cast<size_t>(message.events().events_size());
    messages_.push_back(std::move(message));
  }
  grpc::Status status = reader_->Finish();
  absl::MutexLock lock(&mu_);
  status_ = std::move(status);
}

void Subscriber::Pause() {
  absl::MutexLock lock(&mu_);
  paused_ = true;
}

void Subscriber::Resume() {
  absl::MutexLock lock(&mu_);
  paused_ = false;
}

void Subscriber::Cancel() {
  context_.TryCancel();
  Resume();
}

bool Subscriber::WaitUntil(const std::function<bool(const Messages&)>& done,
                           absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return status_.has_value() || done(messages_);
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return done(messages_);
}

bool Subscriber::WaitForEvents(size_t n, absl::Duration timeout) {
  return WaitUntil(
      [this, n](const Messages&) ABSL_NO_THREAD_SAFETY_ANALYSIS { return events_ >= n; }, timeout);
}

bool Subscriber::WaitForCaughtUp(absl::Duration timeout) {
  return WaitUntil(
      [](const Messages& messages) {
        for (const SubscribeResponse& message : messages) {
          if (message.has_caught_up()) return true;
        }
        return false;
      },
      timeout);
}

std::optional<grpc::Status> Subscriber::WaitForEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ended = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return status_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
  return status_;
}

Subscriber::Messages Subscriber::messages() const {
  absl::MutexLock lock(&mu_);
  return messages_;
}

size_t Subscriber::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

// ---- Helpers ------------------------------------------------------------------------------------

SubscribeRequest EdgeRequest(coop::v1::LogEdge edge, const coop::v1::EventFilter& filter) {
  SubscribeRequest request;
  request.set_edge(edge);
  *request.mutable_filter() = filter;
  return request;
}

SubscribeRequest CursorRequest(const std::string& cursor, const coop::v1::EventFilter& filter) {
  SubscribeRequest request;
  request.set_cursor(cursor);
  *request.mutable_filter() = filter;
  return request;
}

SubscribeRequest StartTimeRequest(absl::Time start, const coop::v1::EventFilter& filter) {
  SubscribeRequest request;
  *request.mutable_start_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(start));
  *request.mutable_filter() = filter;
  return request;
}

std::vector<const coop::v1::StreamedEvent*> StreamedEventsOf(const SubscribeResponse& message) {
  std::vector<const coop::v1::StreamedEvent*> events;
  if (message.has_event()) events.push_back(&message.event());
  for (const coop::v1::StreamedEvent& streamed : message.events().events()) {
    events.push_back(&streamed);
  }
  return events;
}

std::vector<RecordKey> EventKeys(const Subscriber::Messages& messages) {
  std::vector<RecordKey> keys;
  for (const SubscribeResponse& message : messages) {
    for (const coop::v1::StreamedEvent* streamed : StreamedEventsOf(message)) {
      keys.emplace_back(streamed->position().partition(), streamed->position().offset());
    }
  }
  return keys;
}

std::vector<RecordKey> KeysOf(const std::vector<kafka::RecordPosition>& positions) {
  std::vector<RecordKey> keys;
  keys.reserve(positions.size());
  for (const kafka::RecordPosition& position : positions) {
    keys.emplace_back(position.partition, position.offset);
  }
  return keys;
}

std::string CursorOf(const SubscribeResponse& message) {
  switch (message.message_case()) {
    case SubscribeResponse::kEvent:
      return message.event().cursor();
    case SubscribeResponse::kEvents:
      return message.events().events().empty() ? "" : message.events().events().rbegin()->cursor();
    case SubscribeResponse::kHeartbeat:
      return message.heartbeat().cursor();
    case SubscribeResponse::kCaughtUp:
      return message.caught_up().cursor();
    case SubscribeResponse::MESSAGE_NOT_SET:
      break;
  }
  return "";
}

absl::StatusOr<std::vector<int64_t>> CursorOffsets(const std::string& token,
                                                   const cursor::LogId& log) {
  COOP_ASSIGN_OR_RETURN(cursor::Cursor decoded, cursor::DecodeCursor(token, log));
  std::vector<int64_t> offsets(kTestPartitions, -1);
  for (const auto& [p, offset] : decoded.next_offsets) {
    if (p < 0 || p >= kTestPartitions) {
      return absl::InvalidArgumentError(absl::StrCat("the cursor names partition ", p));
    }
    offsets[static_cast<size_t>(p)] = offset;
  }
  return offsets;
}

std::optional<coop::v1::ErrorStatus> ErrorStatusOf(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  coop::v1::ErrorStatus error;
  if (!error.ParseFromString(status.error_details())) return std::nullopt;
  return error;
}

namespace {

template <typename Detail>
std::optional<Detail> DetailOf(const grpc::Status& status, absl::string_view type_url) {
  const std::optional<coop::v1::ErrorStatus> error = ErrorStatusOf(status);
  if (!error.has_value()) return std::nullopt;
  for (const coop::v1::ErrorDetail& detail : error->details()) {
    if (detail.type_url() != type_url) continue;
    Detail parsed;
    if (parsed.ParseFromString(detail.value())) return parsed;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ResumeCursorOf(const grpc::Status& status) {
  std::optional<coop::v1::ResumeInfo> resume =
      DetailOf<coop::v1::ResumeInfo>(status, rpc::kResumeInfoTypeUrl);
  if (!resume.has_value()) return std::nullopt;
  return resume->cursor();
}

std::optional<coop::v1::RetryInfo> RetryInfoOf(const grpc::Status& status) {
  return DetailOf<coop::v1::RetryInfo>(status, rpc::kRetryInfoTypeUrl);
}

std::optional<coop::v1::BadRequest> BadRequestOf(const grpc::Status& status) {
  return DetailOf<coop::v1::BadRequest>(status, rpc::kBadRequestTypeUrl);
}

void StreamServerTest::SetUp() {
  const std::string bootstrap =
      coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
  ASSERT_FALSE(bootstrap.empty());
  absl::StatusOr<std::unique_ptr<TestLog>> log =
      TestLog::Create(bootstrap, coop::testing::UniqueTopicName(topic_prefix_));
  ASSERT_TRUE(log.ok()) << log.status();
  log_ = *std::move(log);
}

void StreamServerTest::StartServer(const TestServerOptions& options) {
  absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(*log_, options);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  stub_ = server_->NewStub();
}

}  // namespace coop::stream::testing

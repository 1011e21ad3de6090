// What the stream service's integration tests share: an event topic on the single-node test
// broker with a producer writing events as the publisher does, the stream service (log tail,
// subscription hub, gRPC server on 127.0.0.1:0) over it, and a Subscribe client that reads on a
// thread of its own so that tests can wait with timeouts, pause reading and cancel.
#ifndef COOP_TESTS_SERVICES_STREAM_STREAM_TEST_ENV_H_
#define COOP_TESTS_SERVICES_STREAM_STREAM_TEST_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/cursor/cursor_token.h"
#include "common/kafka/consumer.h"
#include "common/kafka/kafka_config.h"
#include "common/kafka/producer.h"
#include "common/kafka/record.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/errors.pb.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/stream/log_tail.h"
#include "services/stream/stream_service.h"
#include "services/stream/subscriptions.h"

namespace coop::stream::testing {

inline constexpr int32_t kTestPartitions = 3;

// (partition, offset) of a record.
using RecordKey = std::pair<int32_t, int64_t>;

// An event topic of its own (kTestPartitions partitions, kept forever as in production: the
// generated events were recorded in 2025) on the test broker, and a producer for it.
class TestLog {
 public:
  static absl::StatusOr<std::unique_ptr<TestLog>> Create(const std::string& bootstrap_servers,
                                                         const std::string& topic);

  const kafka::KafkaConfig& kafka() const { return kafka_; }
  const std::string& topic() const { return topic_; }
  // The log's name in cursor tokens: the broker's cluster id and the topic.
  const cursor::LogId& log_id() const { return log_id_; }

  // Writes `events` as the publisher encodes them (timestamp = recorded_time) and waits for
  // every delivery; the positions, in the order of `events`. Thread-safe.
  absl::StatusOr<std::vector<kafka::RecordPosition>> Produce(
      const std::vector<coop::v1::Event>& events);

  // Per partition, the offset the next record will get. Not thread-safe.
  absl::StatusOr<std::vector<int64_t>> EndOffsets();

 private:
  TestLog() = default;

  kafka::KafkaConfig kafka_;
  std::string topic_;
  cursor::LogId log_id_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::Consumer> consumer_;  // For EndOffsets.
};

// Writes events in chunks on a thread of its own, pausing between chunks, so that the log grows
// while a test subscribes.
class BackgroundProducer {
 public:
  BackgroundProducer(TestLog& log, std::vector<coop::v1::Event> events, size_t chunk,
                     absl::Duration pause);
  ~BackgroundProducer();  // Joins.

  // Waits until every event is written; their positions in event order.
  absl::StatusOr<std::vector<kafka::RecordPosition>> Join();
  // Events written so far.
  size_t written() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<kafka::RecordPosition> positions_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

struct TestServerOptions {
  size_t ring_max_bytes = size_t{64} << 20;
  size_t ring_max_entries = 200'000;
  int catchup_slots = 2;
  absl::Duration catchup_wait = absl::Seconds(1);
  absl::Duration catchup_hold = absl::Seconds(1);
  int max_streams_per_principal = 2000;
  // Replays running at once, at most.
  int max_replays = 4;
  // The principal of calls without credentials; empty: such calls are refused.
  std::string anonymous_principal = "local-dev";
  // The policy JSON; empty: tests/common/auth/test_policy.h's.
  std::string policy_json;
};

// The stream service over a TestLog: its own LogTail (which starts at the end of the log, so
// records written before Start are history that subscriptions read through catch-up readers),
// SubscriptionHub and StreamService, with the policy of tests/common/auth/test_policy.h, in a
// plain-text gRPC server on 127.0.0.1:0.
class TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(const TestLog& log,
                                                           const TestServerOptions& options);
  // Shutdown(), then frees everything.
  ~TestServer();

  LogTail& tail() { return *tail_; }
  SubscriptionHub& hub() { return *hub_; }
  StreamService& service() { return *service_; }
  int port() const { return port_; }

  // A stub on a channel of its own. With `small_window`, the channel announces a 16 KiB HTTP/2
  // window and does not grow it (no BDP probing): a client that stops reading then stops the
  // server's writes after a few messages, as a slow client on a slow link does.
  std::unique_ptr<coop::v1::Subscriptions::Stub> NewStub(bool small_window = false) const;

  // SubscriptionHub::Shutdown (every open stream ends with UNAVAILABLE), then the gRPC server.
  // Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  TestServer() = default;

  // Destroyed in reverse: the server before the service, hub and tail it calls.
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<LogTail> tail_;
  std::unique_ptr<SubscriptionHub> hub_;
  std::unique_ptr<StreamService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

// One Subscribe call whose messages a thread of its own reads into a list.
class Subscriber {
 public:
  using Messages = std::vector<coop::v1::SubscribeResponse>;

  // Starts the call. `api_key` non-empty: sent as "authorization: Bearer <api_key>". With
  // `paused`, nothing is read until Resume().
  Subscriber(coop::v1::Subscriptions::Stub& stub, const coop::v1::SubscribeRequest& request,
             const std::string& api_key = "", bool paused = false);
  // Cancels the call and joins the thread.
  ~Subscriber();

  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Stops reading after the message being read now (if any); Resume() goes on.
  void Pause();
  void Resume();
  // Cancels the call (ClientContext::TryCancel).
  void Cancel();

  // Waits until `done(messages)` holds (true) or the call ended or `timeout` passed (false;
  // `done` is checked once more at the end).
  bool WaitUntil(const std::function<bool(const Messages&)>& done, absl::Duration timeout);
  // Waits until at least `n` events have arrived.
  bool WaitForEvents(size_t n, absl::Duration timeout);
  // Waits until the CaughtUp message has arrived.
  bool WaitForCaughtUp(absl::Duration timeout);
  // Waits until the call has ended; its status, or nullopt after `timeout`.
  std::optional<grpc::Status> WaitForEnd(absl::Duration timeout);

  Messages messages() const;
  size_t events() const;

 private:
  void Run();

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<coop::v1::SubscribeResponse>> reader_;
  mutable absl::Mutex mu_;
  Messages messages_ ABSL_GUARDED_BY(mu_);
  size_t events_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<grpc::Status> status_ ABSL_GUARDED_BY(mu_);
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Requests.
coop::v1::SubscribeRequest EdgeRequest(coop::v1::LogEdge edge,
                                       const coop::v1::EventFilter& filter = {});
coop::v1::SubscribeRequest CursorRequest(const std::string& cursor,
                                         const coop::v1::EventFilter& filter = {});
coop::v1::SubscribeRequest StartTimeRequest(absl::Time start,
                                            const coop::v1::EventFilter& filter = {});

// The events a message carries (SubscribeResponse.event, or each of .events), in order.
std::vector<const coop::v1::StreamedEvent*> StreamedEventsOf(
    const coop::v1::SubscribeResponse& message);
// The (partition, offset) of each event delivered, in order.
std::vector<RecordKey> EventKeys(const Subscriber::Messages& messages);
std::vector<RecordKey> KeysOf(const std::vector<kafka::RecordPosition>& positions);
// The cursor token of a message (event, heartbeat or caught-up; of a batch, its last event's).
std::string CursorOf(const coop::v1::SubscribeResponse& message);
// The per-partition next offsets of a cursor token of `log` (partitions it does not name: -1).
absl::StatusOr<std::vector<int64_t>> CursorOffsets(const std::string& token,
                                                   const cursor::LogId& log);

// The coop.v1.ErrorStatus in a failed call's details; nullopt when there is none.
std::optional<coop::v1::ErrorStatus> ErrorStatusOf(const grpc::Status& status);
// The ResumeInfo cursor, RetryInfo and BadRequest of a failed call, when it carries them.
std::optional<std::string> ResumeCursorOf(const grpc::Status& status);
std::optional<coop::v1::RetryInfo> RetryInfoOf(const grpc::Status& status);
std::optional<coop::v1::BadRequest> BadRequestOf(const grpc::Status& status);

// A fixture holding a fresh topic (named after `topic_prefix`) on the single-node broker of
// COOP_TEST_KAFKA_BOOTSTRAP, and the TestServer a test starts on it.
class StreamServerTest : public ::testing::Test {
 protected:
  explicit StreamServerTest(std::string topic_prefix) : topic_prefix_(std::move(topic_prefix)) {}

  void SetUp() override;
  // Starts server_ with `options` and a stub_ connected to it.
  void StartServer(const TestServerOptions& options = {});

  std::unique_ptr<TestLog> log_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<coop::v1::Subscriptions::Stub> stub_;

 private:
  const std::string topic_prefix_;
};

}  // namespace coop::stream::testing

#endif  // COOP_TESTS_SERVICES_STREAM_STREAM_TEST_ENV_H_

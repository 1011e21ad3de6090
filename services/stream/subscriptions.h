// Live subscriptions: Subscriptions.Subscribe served from one shared log tail (log_tail.h) and a
// bounded pool of catch-up readers.
//
// A subscription is in one of two modes.
// - Catch-up: it reads history from Kafka through one of `catchup_slots` readers, each a Kafka
//   consumer of its own, into a small queue of its own (at most kMaxQueued messages). As soon as
//   the tail's ring holds every record from its position on, it leaves the reader and goes live.
//   A reader serves one subscription at a time; one whose client does not take its queue within
//   `catchup_hold` gives the reader up and waits for another when the queue has drained.
// - Live: it reads the tail's ring at its own pace. One whose next record has left the ring (a
//   slow or stalled client) goes back to catch-up.
// A subscription that needs a reader waits at most `catchup_wait` for one; then it is ended with
// RESOURCE_EXHAUSTED, a RetryInfo, and a ResumeInfo carrying its cursor.
//
// Cursors: each subscription keeps, per partition, the offset of the next record to read. Every
// message carries the token of that position, so resuming from any cursor received delivers
// every later matching event once: no gap, no duplicate.
//
// Memory per subscription is bounded (its queue, one message being written, one slice of ring
// pointers), and the ring is shared; so is the whole process's memory whatever clients do.
#ifndef COOP_SERVICES_STREAM_SUBSCRIPTIONS_H_
#define COOP_SERVICES_STREAM_SUBSCRIPTIONS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/cursor/cursor_token.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "services/stream/filter/event_filter.h"
#include "services/stream/log_tail.h"

namespace coop::stream {

// The most events one Subscribe or Replay message may carry (max_events_per_message), and the
// size at which a batch closes (gRPC clients accept 4 MiB messages by default).
inline constexpr int kMaxEventsPerMessage = 1000;
inline constexpr size_t kMaxBatchBytes = size_t{1} << 20;

// Checks a request's max_events_per_message (0..kMaxEventsPerMessage) and returns the events
// per message it asks for (at least 1); INVALID_ARGUMENT naming the field otherwise.
absl::StatusOr<int> EventsPerMessage(int32_t requested);

struct SubscriptionOptions {
  kafka::KafkaConfig kafka;
  std::string topic = "coop.events";
  cursor::LogId log;
  // Kafka consumers reading history for subscriptions, at most.
  int catchup_slots = 8;
  // How long a subscription that needs a catch-up reader waits for one before it is ended with
  // RESOURCE_EXHAUSTED.
  absl::Duration catchup_wait = absl::Seconds(5);
  // How long a reader waits for a client that does not take its messages before it moves on.
  absl::Duration catchup_hold = absl::Seconds(1);
  // Live subscriptions per principal, at most (RESOURCE_EXHAUSTED beyond).
  int max_streams_per_principal = 2000;
  // Heartbeat interval when the request leaves it unset.
  absl::Duration default_heartbeat = absl::Seconds(30);
};

struct SubscriptionStats {
  std::atomic<int64_t> active{0};
  std::atomic<int64_t> live{0};
  std::atomic<int64_t> catching_up{0};
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> heartbeats{0};
  std::atomic<int64_t> fell_behind{0};
  std::atomic<int64_t> exhausted{0};
};

class Subscription;
class CatchUpPool;

// Owns the live subscriptions of one process. Thread-safe.
class SubscriptionHub {
 public:
  SubscriptionHub(SubscriptionOptions options, LogTail& tail);
  ~SubscriptionHub();  // Calls Shutdown().

  SubscriptionHub(const SubscriptionHub&) = delete;
  SubscriptionHub& operator=(const SubscriptionHub&) = delete;

  // Starts one Subscribe call; the returned reactor is owned by gRPC until OnDone. The request
  // is validated here: a bad request finishes the call at once with INVALID_ARGUMENT (with a
  // BadRequest), PERMISSION_DENIED or RESOURCE_EXHAUSTED.
  grpc::ServerWriteReactor<coop::v1::SubscribeResponse>* Subscribe(
      const coop::v1::SubscribeRequest& request, absl::StatusOr<auth::Principal> principal);

  // Ends every subscription with UNAVAILABLE (and its resume cursor), refuses new ones, and
  // waits until gRPC is done with all of them or `deadline` passes.
  void Shutdown(absl::Time deadline = absl::Now() + absl::Seconds(10));

  const SubscriptionStats& stats() const { return stats_; }
  const SubscriptionOptions& options() const { return options_; }
  LogTail& tail() { return tail_; }

 private:
  friend class Subscription;
  friend class CatchUpPool;

  // Called by a Subscription when gRPC is done with it.
  void Forget(Subscription* subscription);
  void Tick();

  const SubscriptionOptions options_;
  LogTail& tail_;
  SubscriptionStats stats_;
  std::unique_ptr<CatchUpPool> pool_;

  absl::Mutex mu_;
  absl::flat_hash_map<Subscription*, std::shared_ptr<Subscription>> all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_principal_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<bool> stop_ticker_{false};
  std::thread ticker_;
};

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_SUBSCRIPTIONS_H_

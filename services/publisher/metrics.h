// Prometheus metrics of the publisher service, and the HTTP server that exposes them at /metrics.
//
//   Metric                                    Type       Labels            Meaning
//   coop_publisher_calls_total                counter    method, code      Finished calls; a
//       PublishStream counts once, when it ends, with the status it ended with.
//   coop_publisher_events_total               counter    event_type, code  Events answered, by
//       the status their sender got for them (an acknowledged duplicate is OK; every event of
//       a refused batch has the batch's code). event_type is the payload's Protobuf name
//       ("coop.v1.MemorandumSigned"), or "unknown" when no payload is set.
//   coop_publisher_duplicates_total           counter    -                 Events acknowledged
//       as duplicates: nothing new was written.
//   coop_publisher_validation_failures_total  counter    -                 Events refused
//       INVALID_ARGUMENT through their own fault: invalid fields, a repeated id in a batch, an
//       out-of-order stream sequence. The valid events of a batch refused for another event
//       count in events_total only.
//   coop_publisher_ack_latency_seconds        histogram  method            Publish and
//       PublishBatch: call start to answer; PublishStream: event read to its answer. Buckets
//       0.5 ms .. 10 s (1-2.5-5 steps).
//   coop_publisher_in_flight_events           gauge      -                 Events handed to
//       EventPublisher and not yet answered.
//   coop_publisher_producer_queue_depth       gauge      -                 Records queued or in
//       flight in the Kafka producer (EventPublisher::QueueDepth), sampled at each scrape.
//
// method is Publish, PublishBatch or PublishStream; code is the gRPC status code name ("OK",
// "INVALID_ARGUMENT", ...). Label values are bounded: 3 methods, 17 codes, the payload types of
// coop.v1.Event plus "unknown".
#ifndef COOP_SERVICES_PUBLISHER_METRICS_H_
#define COOP_SERVICES_PUBLISHER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/publisher.pb.h"

namespace prometheus {
class Collectable;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace coop::publisher {

enum class PublishMethod { kPublish = 0, kPublishBatch = 1, kPublishStream = 2 };

// What is counted about an answered event besides its status code.
enum class EventFlag {
  kNone,
  kDuplicate,  // Acknowledged as a duplicate (the code is OK).
  kInvalid,    // Refused for its own invalid content (the code is INVALID_ARGUMENT).
};

// kDuplicate for a duplicate's ack, kInvalid for INVALID_ARGUMENT, else kNone.
EventFlag EventFlagOf(const absl::StatusOr<coop::v1::PublishAck>& answer);

// Thread-safe; recording is a few atomic operations. Must outlive the PublisherService that
// records into it; the MetricsServer may outlive it (scrapes then return nothing).
class PublisherMetrics {
 public:
  // Values read at each scrape, on the HTTP server's threads. They must stay callable until
  // every MetricsServer serving these metrics is destroyed. An unset source is not exported.
  struct Sources {
    std::function<int64_t()> producer_queue_depth;
  };

  // An event's event_type label. Taken before the event is handed on (moved).
  enum class EventType : int {};

  explicit PublisherMetrics(Sources sources = {});
  ~PublisherMetrics();
  PublisherMetrics(const PublisherMetrics&) = delete;
  PublisherMetrics& operator=(const PublisherMetrics&) = delete;

  EventType TypeOf(const coop::v1::Event& event) const;

  // A Publish or PublishBatch call answered `code`, `latency` after it started.
  void RecordUnaryCall(PublishMethod method, absl::StatusCode code, absl::Duration latency);
  // A PublishStream call ended with `code`.
  void RecordStreamCall(absl::StatusCode code);
  // An event of a Publish or PublishBatch call answered `code`.
  void RecordEvent(EventType type, absl::StatusCode code, EventFlag flag);
  // An event of a PublishStream answered `code`, `latency` after it was read.
  void RecordStreamEvent(EventType type, absl::StatusCode code, EventFlag flag,
                         absl::Duration latency);
  // `count` events handed to EventPublisher (positive) or answered by it (negative).
  void AddInFlight(int64_t count);

  // What a scrape returns; the MetricsServer holds it weakly.
  std::shared_ptr<prometheus::Collectable> collectable() const;

 private:
  class Exported;
  static constexpr int kMethods = 3;
  static constexpr int kCodes = 17;

  // The counter with these labels, added to its family on first use and cached.
  prometheus::Counter& CallCounter(PublishMethod method, absl::StatusCode code);
  prometheus::Counter& EventCounter(EventType type, absl::StatusCode code);

  // Owns the registry and every metric below; the raw pointers point into it.
  std::shared_ptr<Exported> exported_;
  std::vector<std::string> event_type_names_;  // By EventType; [0] is "unknown".
  std::array<std::atomic<prometheus::Counter*>, kMethods * kCodes> calls_{};
  std::vector<std::atomic<prometheus::Counter*>> events_;  // event type * kCodes + code.
  std::array<prometheus::Histogram*, kMethods> latency_{};
  prometheus::Counter* duplicates_ = nullptr;
  prometheus::Counter* validation_failures_ = nullptr;
  prometheus::Gauge* in_flight_ = nullptr;
};

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_METRICS_H_

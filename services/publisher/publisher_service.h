// coop.v1.Publisher over gRPC (callback API): authenticates the caller, validates each event,
// checks the caller's scope, stamps the source from the identity and hands the event to
// EventPublisher. Counts calls and events in PublisherMetrics. Thread-safe; one instance serves
// all calls.
#ifndef COOP_SERVICES_PUBLISHER_PUBLISHER_SERVICE_H_
#define COOP_SERVICES_PUBLISHER_PUBLISHER_SERVICE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "services/publisher/event_publisher.h"
#include "services/publisher/metrics.h"
#include "services/publisher/validation/event_validator.h"

namespace coop::publisher {

struct PublisherServiceOptions {
  ValidationLimits limits;
  // Events in one PublishBatch (publisher.proto: 1..500).
  int32_t max_batch_events = 500;
  // Batches being written at once; more are refused with RESOURCE_EXHAUSTED.
  int32_t max_concurrent_batches = 8;
  // Unanswered events per PublishStream before the server stops reading (flow control).
  int32_t stream_max_in_flight = 1000;
  // Deadline for a unary call that has none. (Stream events have the stream's deadline, if
  // any; Kafka's delivery timeout bounds them in any case.)
  absl::Duration default_deadline = absl::Seconds(30);
};

class PublisherService final : public coop::v1::Publisher::CallbackService {
 public:
  // `publisher`, `authenticator` and `metrics` must outlive the service. Without `metrics` the
  // service records into metrics of its own that nothing serves.
  PublisherService(EventPublisher* publisher, const auth::Authenticator* authenticator,
                   PublisherServiceOptions options, PublisherMetrics* metrics = nullptr);
  // Waits for running batches, and for streams whose events are still being written (a stream
  // reactor outlives its call until every event it handed to EventPublisher is answered).
  ~PublisherService() override;

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const coop::v1::PublishRequest* request,
                                    coop::v1::PublishResponse* response) override;
  grpc::ServerUnaryReactor* PublishBatch(grpc::CallbackServerContext* context,
                                         const coop::v1::PublishBatchRequest* request,
                                         coop::v1::PublishBatchResponse* response) override;
  grpc::ServerBidiReactor<coop::v1::PublishStreamRequest, coop::v1::PublishStreamResponse>*
  PublishStream(grpc::CallbackServerContext* context) override;

  // Validates `event` (path `prefix`), checks `principal`'s scope and sets the source. The
  // checks every call makes before anything is written; used by the stream reactor too.
  absl::Status Admit(const auth::Principal& principal, absl::string_view prefix,
                     coop::v1::Event& event) const;

  EventPublisher& publisher() const { return *publisher_; }
  const auth::Authenticator& authenticator() const { return *authenticator_; }
  const PublisherServiceOptions& options() const { return options_; }
  PublisherMetrics& metrics() const { return *metrics_; }

 private:
  friend class PublishStreamReactor;

  // A stream reactor is gone; it no longer touches this service.
  void StreamReactorDeleted();

  // Answers a PublishBatch call with `status` and counts it, its latency since `start` and
  // each of its events (`types`, `flags`: one per event of the request).
  void FinishBatch(grpc::ServerUnaryReactor* reactor, absl::Time start,
                   const std::vector<PublisherMetrics::EventType>& types,
                   const std::vector<EventFlag>& flags, const absl::Status& status);

  EventPublisher* const publisher_;
  const auth::Authenticator* const authenticator_;
  const PublisherServiceOptions options_;
  const std::unique_ptr<PublisherMetrics> own_metrics_;  // Only when none was given.
  PublisherMetrics* const metrics_;

  absl::Mutex mu_;
  int32_t running_batches_ ABSL_GUARDED_BY(mu_) = 0;
  int32_t stream_reactors_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_PUBLISHER_SERVICE_H_

// coop.v1.Subscriptions over gRPC: Subscribe through the SubscriptionHub (callback API, no thread
// per stream), Replay on a server thread (a finite read with blocking Kafka polls).
#ifndef COOP_SERVICES_STREAM_STREAM_SERVICE_H_
#define COOP_SERVICES_STREAM_STREAM_SERVICE_H_

#include <atomic>

#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/cursor/cursor_token.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "services/stream/subscriptions.h"

namespace coop::stream {

struct ReplayServiceOptions {
  kafka::KafkaConfig kafka;
  std::string topic = "coop.events";
  cursor::LogId log;
  // ReplayRequest.end_time must be at least this far in the past.
  absl::Duration settle_delay = absl::Seconds(60);
  // Replays running at once, at most (RESOURCE_EXHAUSTED beyond).
  int max_replays = 4;
};

class StreamService final : public coop::v1::Subscriptions::WithCallbackMethod_Subscribe<
                                coop::v1::Subscriptions::Service> {
 public:
  // `hub` and `authenticator` must outlive the service.
  StreamService(SubscriptionHub& hub, const auth::Authenticator& authenticator,
                ReplayServiceOptions replay);

  grpc::ServerWriteReactor<coop::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const coop::v1::SubscribeRequest* request) override;

  grpc::Status Replay(grpc::ServerContext* context, const coop::v1::ReplayRequest* request,
                      grpc::ServerWriter<coop::v1::ReplayResponse>* writer) override;

  // Replay calls running now.
  int replays_running() const { return replays_.load(); }

 private:
  SubscriptionHub& hub_;
  const auth::Authenticator& authenticator_;
  const ReplayServiceOptions replay_;
  std::atomic<int> replays_{0};
};

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_STREAM_SERVICE_H_

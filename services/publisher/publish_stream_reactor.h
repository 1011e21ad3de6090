// One PublishStream call: reads events, publishes each, writes one response per event.
//
// Flow control: at most options().stream_max_in_flight events are unanswered; beyond that the
// reactor stops reading, so gRPC's flow control slows the client. One write in flight; answers
// queue behind it (bounded by the in-flight limit). After the client half-closes, every event
// still in flight is answered, then the stream finishes OK. The reactor deletes itself when
// gRPC is done with it (OnDone) and no publish callback can reach it any more.
//
// Metrics: each event is counted when answered, with its latency since it was read; the call
// when it finishes.
#ifndef COOP_SERVICES_PUBLISHER_PUBLISH_STREAM_REACTOR_H_
#define COOP_SERVICES_PUBLISHER_PUBLISH_STREAM_REACTOR_H_

#include <cstdint>
#include <deque>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "common/auth/principal.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "services/publisher/publisher_service.h"

namespace coop::publisher {

class PublishStreamReactor final : public grpc::ServerBidiReactor<coop::v1::PublishStreamRequest,
                                                                  coop::v1::PublishStreamResponse> {
 public:
  // Created by `service`, which waits in its destructor until this is deleted.
  PublishStreamReactor(grpc::CallbackServerContext* context, PublisherService* service);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Queues a response and starts writing if no write is in flight. Requires mu_.
  void Send(coop::v1::PublishStreamResponse response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Finishes once reading is over and every answer is written. Requires mu_.
  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishOnce(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deletes this when gRPC is done and no publish callback is pending. Called without mu_.
  void MaybeDelete();
  void Answered(coop::v1::PublishStreamResponse response);

  PublisherService* const service_;
  const absl::Time event_deadline_;
  std::optional<auth::Principal> principal_;

  // Only the reader (OnReadDone, and the one StartRead it issues) touches request_.
  coop::v1::PublishStreamRequest request_;
  uint64_t last_sequence_ = 0;

  absl::Mutex mu_;
  int32_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;      // A StartRead is outstanding.
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;  // Waiting for in-flight answers to resume.
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;   // Client half-closed or the stream broke.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // OnDone ran.
  std::deque<coop::v1::PublishStreamResponse> outbox_ ABSL_GUARDED_BY(mu_);
  coop::v1::PublishStreamResponse writing_response_ ABSL_GUARDED_BY(mu_);
};

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_PUBLISH_STREAM_REACTOR_H_

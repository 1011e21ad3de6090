#include "services/publisher/publish_stream_reactor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/rpc/status_conversion.h"

namespace coop::publisher {

PublishStreamReactor::PublishStreamReactor(grpc::CallbackServerContext* context,
                                           PublisherService* service)
    : service_(service),
      // Events of a stream have no deadline of their own: the stream's, if it has one; else
      // Kafka's delivery timeout bounds each event.
      event_deadline_(context->deadline() == std::chrono::system_clock::time_point::max()
                          ? absl::InfiniteFuture()
                          : absl::FromChrono(context->deadline())) {
  absl::StatusOr<auth::Principal> principal = service_->authenticator().Authenticate(*context);
  absl::MutexLock lock(&mu_);
  if (!principal.ok()) {
    reads_done_ = true;
    FinishOnce(rpc::ToGrpcStatus(principal.status()));
    return;
  }
  principal_ = *std::move(principal);
  reading_ = true;
  StartRead(&request_);
}

void PublishStreamReactor::OnReadDone(bool ok) {
  const absl::Time read_time = absl::Now();
  if (!ok) {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    reads_done_ = true;
    MaybeFinish();
    return;
  }
  PublisherMetrics& metrics = service_->metrics();
  const PublisherMetrics::EventType type = metrics.TypeOf(request_.event());
  if (request_.sequence() <= last_sequence_) {
    metrics.RecordStreamEvent(type, absl::StatusCode::kInvalidArgument, EventFlag::kInvalid,
                              absl::Now() - read_time);
    absl::MutexLock lock(&mu_);
    reading_ = false;
    reads_done_ = true;
    FinishOnce(rpc::ToGrpcStatus(rpc::InvalidArgumentWithViolations(
        absl::StrCat("sequence: ", request_.sequence(), " is not greater than the previous ",
                     last_sequence_),
        {{"sequence", absl::StrCat("must be >= 1 and strictly increasing; got ",
                                   request_.sequence(), " after ", last_sequence_)}})));
    return;
  }
  last_sequence_ = request_.sequence();
  const uint64_t sequence = request_.sequence();
  coop::v1::Event event = std::move(*request_.mutable_event());
  const std::string event_id = event.id();

  absl::Status admitted = service_->Admit(*principal_, "event", event);
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  if (!admitted.ok()) {
    metrics.RecordStreamEvent(type, admitted.code(), EventFlagOf(admitted),
                              absl::Now() - read_time);
    coop::v1::PublishStreamResponse response;
    response.set_sequence(sequence);
    response.set_event_id(event_id);
    *response.mutable_error() = rpc::ToErrorStatus(admitted);
    Answered(std::move(response));
  } else {
    metrics.AddInFlight(1);
    service_->publisher().Publish(
        std::move(event), event_deadline_,
        [this, sequence, event_id, type, read_time](absl::StatusOr<coop::v1::PublishAck> ack) {
          service_->metrics().AddInFlight(-1);
          service_->metrics().RecordStreamEvent(type, ack.status().code(), EventFlagOf(ack),
                                                absl::Now() - read_time);
          coop::v1::PublishStreamResponse response;
          response.set_sequence(sequence);
          response.set_event_id(event_id);
          if (ack.ok()) {
            *response.mutable_ack() = *std::move(ack);
          } else {
            *response.mutable_error() = rpc::ToErrorStatus(ack.status());
          }
          Answered(std::move(response));
        });
  }
  absl::MutexLock lock(&mu_);
  if (finished_) {
    reading_ = false;
    return;
  }
  if (in_flight_ >= service_->options().stream_max_in_flight) {
    reading_ = false;
    read_paused_ = true;
    return;
  }
  StartRead(&request_);
}

void PublishStreamReactor::Answered(coop::v1::PublishStreamResponse response) {
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (!finished_) {
      Send(std::move(response));
      if (read_paused_ && in_flight_ < service_->options().stream_max_in_flight) {
        read_paused_ = false;
        reading_ = true;
        StartRead(&request_);
      }
      MaybeFinish();
    }
  }
  MaybeDelete();
}

void PublishStreamReactor::Send(coop::v1::PublishStreamResponse response) {
  if (writing_) {
    outbox_.push_back(std::move(response));
    return;
  }
  writing_ = true;
  writing_response_ = std::move(response);
  // More answers queued behind this one: let gRPC hold it and send them in one go.
  StartWrite(&writing_response_,
             outbox_.empty() ? grpc::WriteOptions() : grpc::WriteOptions().set_buffer_hint());
}

void PublishStreamReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) {
    // The client is gone; answers still in flight have nowhere to go.
    outbox_.clear();
    reads_done_ = true;
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream broken while writing"));
    return;
  }
  if (!outbox_.empty()) {
    coop::v1::PublishStreamResponse next = std::move(outbox_.front());
    outbox_.pop_front();
    Send(std::move(next));
  }
  MaybeFinish();
}

void PublishStreamReactor::MaybeFinish() {
  if (reads_done_ && !reading_ && in_flight_ == 0 && !writing_ && outbox_.empty()) {
    FinishOnce(grpc::Status::OK);
  }
}

void PublishStreamReactor::FinishOnce(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  service_->metrics().RecordStreamCall(static_cast<absl::StatusCode>(status.error_code()));
  Finish(status);
}

void PublishStreamReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  reads_done_ = true;
  FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
}

void PublishStreamReactor::OnDone() {
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  MaybeDelete();
}

void PublishStreamReactor::MaybeDelete() {
  bool last = false;
  {
    absl::MutexLock lock(&mu_);
    last = done_ && in_flight_ == 0;
    // Mark so a concurrent caller cannot also see `last`.
    if (last) in_flight_ = -1;
  }
  if (!last) return;
  PublisherService* service = service_;
  delete this;
  service->StreamReactorDeleted();
}

}  // namespace coop::publisher

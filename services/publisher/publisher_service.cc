#include "services/publisher/publisher_service.h"

#include <chrono>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/auth/scope.h"
#include "common/rpc/status_conversion.h"
#include "services/publisher/publish_stream_reactor.h"

namespace coop::publisher {
namespace {

absl::Time DeadlineOf(const grpc::CallbackServerContext& context, absl::Duration fallback) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::Now() + fallback;
  return absl::FromChrono(deadline);
}

}  // namespace

PublisherService::PublisherService(EventPublisher* publisher,
                                   const auth::Authenticator* authenticator,
                                   PublisherServiceOptions options)
    : publisher_(publisher), authenticator_(authenticator), options_(std::move(options)) {}

PublisherService::~PublisherService() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int32_t* running) { return *running == 0; }, &running_batches_));
}

absl::Status PublisherService::Admit(const auth::Principal& principal, absl::string_view prefix,
                                     coop::v1::Event& event) const {
  ValidationLimits limits = options_.limits;
  // Rules such as "time at most 5 minutes after recorded_time" compare with the time the
  // publisher is about to stamp.
  limits.recorded_time = absl::Now();
  const std::vector<FieldViolation> violations = ValidateEvent(event, prefix, limits);
  if (!violations.empty()) {
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(violations.size());
    for (const FieldViolation& v : violations) pairs.emplace_back(v.field, v.description);
    return rpc::InvalidArgumentWithViolations(
        absl::StrCat(prefix, ": ", violations.size(), " invalid field(s), first ",
                     violations.front().field, ": ", violations.front().description),
        pairs);
  }
  if (absl::Status scope = auth::CheckPublish(principal, event); !scope.ok()) {
    return absl::Status(scope.code(), absl::StrCat(prefix, ": ", scope.message()));
  }
  event.set_source(auth::EventSource(principal));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PublisherService::Publish(grpc::CallbackServerContext* context,
                                                    const coop::v1::PublishRequest* request,
                                                    coop::v1::PublishResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> principal = authenticator_->Authenticate(*context);
  if (!principal.ok()) {
    reactor->Finish(rpc::ToGrpcStatus(principal.status()));
    return reactor;
  }
  coop::v1::Event event = request->event();
  if (absl::Status admitted = Admit(*principal, "event", event); !admitted.ok()) {
    reactor->Finish(rpc::ToGrpcStatus(admitted));
    return reactor;
  }
  publisher_->Publish(std::move(event), DeadlineOf(*context, options_.default_deadline),
                      [reactor, response](absl::StatusOr<coop::v1::PublishAck> ack) {
                        if (ack.ok()) *response->mutable_ack() = *std::move(ack);
                        reactor->Finish(rpc::ToGrpcStatus(ack.status()));
                      });
  return reactor;
}

grpc::ServerUnaryReactor* PublisherService::PublishBatch(
    grpc::CallbackServerContext* context, const coop::v1::PublishBatchRequest* request,
    coop::v1::PublishBatchResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> principal = authenticator_->Authenticate(*context);
  if (!principal.ok()) {
    reactor->Finish(rpc::ToGrpcStatus(principal.status()));
    return reactor;
  }
  const int count = request->events_size();
  if (count < 1 || count > options_.max_batch_events) {
    reactor->Finish(rpc::ToGrpcStatus(rpc::InvalidArgumentWithViolations(
        absl::StrCat("events: ", count, " events, must be 1..", options_.max_batch_events),
        {{"events",
          absl::StrCat("must hold 1..", options_.max_batch_events, " events; got ", count)}})));
    return reactor;
  }
  std::vector<coop::v1::Event> events(request->events().begin(), request->events().end());
  std::vector<std::pair<std::string, std::string>> violations;
  absl::flat_hash_set<std::string> ids;
  absl::Status first_refusal;
  for (int i = 0; i < count; ++i) {
    const std::string prefix = absl::StrCat("events[", i, "]");
    if (!events[i].id().empty() && !ids.insert(events[i].id()).second) {
      violations.emplace_back(absl::StrCat(prefix, ".id"),
                              absl::StrCat("'", events[i].id(), "' repeats an earlier event's id"));
    }
    absl::Status admitted = Admit(*principal, prefix, events[i]);
    if (admitted.code() == absl::StatusCode::kInvalidArgument) {
      coop::v1::BadRequest bad_request;
      bad_request.ParseFromString(std::string(*admitted.GetPayload(rpc::kBadRequestTypeUrl)));
      for (const auto& v : bad_request.field_violations()) {
        violations.emplace_back(v.field(), v.description());
      }
    } else if (!admitted.ok() && first_refusal.ok()) {
      first_refusal = admitted;
    }
  }
  if (!violations.empty()) {
    reactor->Finish(rpc::ToGrpcStatus(rpc::InvalidArgumentWithViolations(
        absl::StrCat("batch refused: ", violations.size(), " invalid field(s), first ",
                     violations.front().first, ": ", violations.front().second),
        violations)));
    return reactor;
  }
  if (!first_refusal.ok()) {
    reactor->Finish(rpc::ToGrpcStatus(first_refusal));
    return reactor;
  }
  {
    absl::MutexLock lock(&mu_);
    if (running_batches_ >= options_.max_concurrent_batches) {
      reactor->Finish(rpc::ToGrpcStatus(rpc::WithRetryDelay(
          absl::ResourceExhaustedError(absl::StrCat(options_.max_concurrent_batches,
                                                    " batches are being written; retry later")),
          absl::Milliseconds(200))));
      return reactor;
    }
    ++running_batches_;
  }
  // A Kafka transaction blocks; it must not run on a gRPC callback thread.
  std::thread([this, reactor, response, events = std::move(events),
               deadline = DeadlineOf(*context, options_.default_deadline)]() mutable {
    absl::StatusOr<std::vector<coop::v1::PublishAck>> acks =
        publisher_->PublishBatch(std::move(events), deadline);
    if (acks.ok()) {
      for (coop::v1::PublishAck& ack : *acks) *response->add_acks() = std::move(ack);
    }
    reactor->Finish(rpc::ToGrpcStatus(acks.status()));
    absl::MutexLock lock(&mu_);
    --running_batches_;
  }).detach();
  return reactor;
}

grpc::ServerBidiReactor<coop::v1::PublishStreamRequest, coop::v1::PublishStreamResponse>*
PublisherService::PublishStream(grpc::CallbackServerContext* context) {
  return new PublishStreamReactor(context, this);
}

}  // namespace coop::publisher

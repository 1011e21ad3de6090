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
                                   PublisherServiceOptions options, PublisherMetrics* metrics)
    : publisher_(publisher),
      authenticator_(authenticator),
      options_(std::move(options)),
      own_metrics_(metrics == nullptr ? std::make_unique<PublisherMetrics>() : nullptr),
      metrics_(metrics == nullptr ? own_metrics_.get() : metrics) {}

PublisherService::~PublisherService() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return running_batches_ == 0 && stream_reactors_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
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
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Answers the call and counts it, its latency and its one event.
  auto finish = [this, reactor, start, type = metrics_->TypeOf(request->event())](
                    const absl::Status& status, EventFlag flag) {
    metrics_->RecordEvent(type, status.code(), flag);
    metrics_->RecordUnaryCall(PublishMethod::kPublish, status.code(), absl::Now() - start);
    reactor->Finish(rpc::ToGrpcStatus(status));
  };
  absl::StatusOr<auth::Principal> principal = authenticator_->Authenticate(*context);
  if (!principal.ok()) {
    finish(principal.status(), EventFlag::kNone);
    return reactor;
  }
  coop::v1::Event event = request->event();
  if (absl::Status admitted = Admit(*principal, "event", event); !admitted.ok()) {
    finish(admitted, EventFlagOf(admitted));
    return reactor;
  }
  metrics_->AddInFlight(1);
  publisher_->Publish(std::move(event), DeadlineOf(*context, options_.default_deadline),
                      [this, response, finish](absl::StatusOr<coop::v1::PublishAck> ack) {
                        metrics_->AddInFlight(-1);
                        const EventFlag flag = EventFlagOf(ack);
                        if (ack.ok()) *response->mutable_ack() = *std::move(ack);
                        finish(ack.status(), flag);
                      });
  return reactor;
}

grpc::ServerUnaryReactor* PublisherService::PublishBatch(
    grpc::CallbackServerContext* context, const coop::v1::PublishBatchRequest* request,
    coop::v1::PublishBatchResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const int count = request->events_size();
  std::vector<PublisherMetrics::EventType> types;
  types.reserve(count);
  for (const coop::v1::Event& event : request->events()) types.push_back(metrics_->TypeOf(event));
  std::vector<EventFlag> flags(count, EventFlag::kNone);

  absl::StatusOr<auth::Principal> principal = authenticator_->Authenticate(*context);
  if (!principal.ok()) {
    FinishBatch(reactor, start, types, flags, principal.status());
    return reactor;
  }
  if (count < 1 || count > options_.max_batch_events) {
    FinishBatch(
        reactor, start, types, flags,
        rpc::InvalidArgumentWithViolations(
            absl::StrCat("events: ", count, " events, must be 1..", options_.max_batch_events),
            {{"events",
              absl::StrCat("must hold 1..", options_.max_batch_events, " events; got ", count)}}));
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
      flags[i] = EventFlag::kInvalid;
    }
    absl::Status admitted = Admit(*principal, prefix, events[i]);
    if (admitted.code() == absl::StatusCode::kInvalidArgument) {
      flags[i] = EventFlag::kInvalid;
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
    FinishBatch(reactor, start, types, flags,
                rpc::InvalidArgumentWithViolations(
                    absl::StrCat("batch refused: ", violations.size(), " invalid field(s), first ",
                                 violations.front().first, ": ", violations.front().second),
                    violations));
    return reactor;
  }
  if (!first_refusal.ok()) {
    FinishBatch(reactor, start, types, flags, first_refusal);
    return reactor;
  }
  {
    absl::MutexLock lock(&mu_);
    if (running_batches_ >= options_.max_concurrent_batches) {
      FinishBatch(reactor, start, types, flags,
                  rpc::WithRetryDelay(absl::ResourceExhaustedError(
                                          absl::StrCat(options_.max_concurrent_batches,
                                                       " batches are being written; retry later")),
                                      absl::Milliseconds(200)));
      return reactor;
    }
    ++running_batches_;
  }
  metrics_->AddInFlight(count);
  // A Kafka transaction blocks; it must not run on a gRPC callback thread.
  std::thread([this, reactor, response, start, count, types = std::move(types),
               flags = std::move(flags), events = std::move(events),
               deadline = DeadlineOf(*context, options_.default_deadline)]() mutable {
    absl::StatusOr<std::vector<coop::v1::PublishAck>> acks =
        publisher_->PublishBatch(std::move(events), deadline);
    metrics_->AddInFlight(-count);
    if (acks.ok()) {
      for (size_t i = 0; i < acks->size(); ++i) {
        if ((*acks)[i].duplicate()) flags.at(i) = EventFlag::kDuplicate;
        *response->add_acks() = std::move((*acks)[i]);
      }
    }
    FinishBatch(reactor, start, types, flags, acks.status());
    absl::MutexLock lock(&mu_);
    --running_batches_;
  }).detach();
  return reactor;
}

void PublisherService::FinishBatch(grpc::ServerUnaryReactor* reactor, absl::Time start,
                                   const std::vector<PublisherMetrics::EventType>& types,
                                   const std::vector<EventFlag>& flags,
                                   const absl::Status& status) {
  for (size_t i = 0; i < types.size(); ++i)
    metrics_->RecordEvent(types[i], status.code(), flags[i]);
  metrics_->RecordUnaryCall(PublishMethod::kPublishBatch, status.code(), absl::Now() - start);
  reactor->Finish(rpc::ToGrpcStatus(status));
}

grpc::ServerBidiReactor<coop::v1::PublishStreamRequest, coop::v1::PublishStreamResponse>*
PublisherService::PublishStream(grpc::CallbackServerContext* context) {
  {
    absl::MutexLock lock(&mu_);
    ++stream_reactors_;
  }
  return new PublishStreamReactor(context, this);
}

void PublisherService::StreamReactorDeleted() {
  absl::MutexLock lock(&mu_);
  --stream_reactors_;
}

}  // namespace coop::publisher

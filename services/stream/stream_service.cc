#include "services/stream/stream_service.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/scope.h"
#include "common/rpc/status_conversion.h"
#include "google/protobuf/util/time_util.h"
#include "services/stream/filter/event_filter.h"
#include "services/stream/replay/replay.h"

namespace coop::stream {

namespace {

using google::protobuf::util::TimeUtil;

absl::Status MissingField(absl::string_view field) {
  return rpc::InvalidArgumentWithViolations(absl::StrCat(field, ": required"),
                                            {{std::string(field), "required"}});
}

// Replay messages read ahead of the writer, at most.
constexpr size_t kReplayQueue = 4096;

absl::Time FromProto(const google::protobuf::Timestamp& time) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(time));
}

}  // namespace

StreamService::StreamService(SubscriptionHub& hub, const auth::Authenticator& authenticator,
                             ReplayServiceOptions replay)
    : hub_(hub), authenticator_(authenticator), replay_(std::move(replay)) {}

grpc::ServerWriteReactor<coop::v1::SubscribeResponse>* StreamService::Subscribe(
    grpc::CallbackServerContext* context, const coop::v1::SubscribeRequest* request) {
  return hub_.Subscribe(*request, authenticator_.Authenticate(*context));
}

grpc::Status StreamService::Replay(grpc::ServerContext* context,
                                   const coop::v1::ReplayRequest* request,
                                   grpc::ServerWriter<coop::v1::ReplayResponse>* writer) {
  absl::StatusOr<auth::Principal> principal = authenticator_.Authenticate(*context);
  if (!principal.ok()) return rpc::ToGrpcStatus(principal.status());
  if (absl::Status allowed = auth::CheckSubscribe(*principal, request->filter()); !allowed.ok()) {
    return rpc::ToGrpcStatus(allowed);
  }
  absl::StatusOr<CompiledFilter> filter = CompiledFilter::Compile(request->filter(), "filter");
  if (!filter.ok()) return rpc::ToGrpcStatus(filter.status());
  if (!request->has_start_time()) return rpc::ToGrpcStatus(MissingField("start_time"));
  if (!request->has_end_time()) return rpc::ToGrpcStatus(MissingField("end_time"));
  absl::StatusOr<int> batch_events = EventsPerMessage(request->max_events_per_message());
  if (!batch_events.ok()) return rpc::ToGrpcStatus(batch_events.status());

  if (replays_.fetch_add(1) >= replay_.max_replays) {
    --replays_;
    return rpc::ToGrpcStatus(
        rpc::WithRetryDelay(absl::ResourceExhaustedError(absl::StrCat(
                                replay_.max_replays, " replays are running, the most allowed")),
                            absl::Seconds(5)));
  }
  struct Done {
    std::atomic<int>& running;
    ~Done() { --running; }
  } done{replays_};

  ReplayOptions options;
  options.kafka = replay_.kafka;
  options.topic = replay_.topic;
  options.log = replay_.log;
  options.settle_delay = replay_.settle_delay;
  const ReplayRange range{.start = FromProto(request->start_time()),
                          .end = FromProto(request->end_time())};
  const auth::Principal& caller = *principal;
  // A caller that may read everything needs no per-record scope check (and, with no filter, no
  // per-record facts at all).
  const auto is_wildcard = [](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), "*") != list.end();
  };
  const bool sees_all = caller.subscribe.has_value() &&
                        is_wildcard(caller.subscribe->event_types) &&
                        is_wildcard(caller.subscribe->regions);
  std::function<bool(const EventFacts&)> may_see;
  if (!sees_all) {
    may_see = [&caller](const EventFacts& facts) { return MaySee(caller, facts); };
  }
  // The replay reads and decodes on a thread of its own while this one writes, so that the two
  // halves overlap; a bounded queue between them bounds memory.
  struct Pipe {
    absl::Mutex mu;
    std::deque<coop::v1::ReplayResponse> queue ABSL_GUARDED_BY(mu);
    bool done ABSL_GUARDED_BY(mu) = false;    // The replay has returned.
    bool broken ABSL_GUARDED_BY(mu) = false;  // The client is gone.
    absl::Status status ABSL_GUARDED_BY(mu);
  } pipe;
  std::atomic<bool> cancel{false};
  std::thread reader([&] {
    absl::Status status = stream::Replay(
        options, range, *filter, may_see,
        [&pipe](coop::v1::ReplayResponse&& response) {
          absl::MutexLock lock(&pipe.mu);
          auto room = [&pipe]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return pipe.broken || pipe.queue.size() < kReplayQueue;
          };
          pipe.mu.Await(absl::Condition(&room));
          if (pipe.broken) return false;
          pipe.queue.push_back(std::move(response));
          return true;
        },
        cancel);
    absl::MutexLock lock(&pipe.mu);
    pipe.done = true;
    pipe.status = std::move(status);
  });
  std::deque<coop::v1::ReplayResponse> batch;
  bool broken = false;
  while (!broken) {
    {
      absl::MutexLock lock(&pipe.mu);
      auto ready = [&pipe]()
                       ABSL_NO_THREAD_SAFETY_ANALYSIS { return pipe.done || !pipe.queue.empty(); };
      pipe.mu.Await(absl::Condition(&ready));
      if (pipe.queue.empty()) break;  // Done, and everything written.
      batch.swap(pipe.queue);
    }
    // No buffer_hint: on a synchronous writer a hinted write can sit unsent for many seconds
    // (the call blocks until the transport flushes it). Events go out batch_events at a time.
    coop::v1::ReplayResponse events;
    size_t events_bytes = 0;
    const auto flush = [&]() {
      if (events.events().events_size() == 0) return true;
      const bool written = writer->Write(events);
      events.Clear();
      events_bytes = 0;
      return written;
    };
    for (coop::v1::ReplayResponse& response : batch) {
      bool written = true;
      if (*batch_events > 1 && response.has_event()) {
        events_bytes += response.event().ByteSizeLong();
        *events.mutable_events()->add_events() = std::move(*response.mutable_event());
        if (events.events().events_size() >= *batch_events || events_bytes >= kMaxBatchBytes) {
          written = flush();
        }
      } else {
        written = flush() && writer->Write(response);
      }
      if (!written) {
        broken = true;
        break;
      }
    }
    if (!broken && !flush()) broken = true;
    batch.clear();
  }
  if (broken) {
    cancel = true;
    absl::MutexLock lock(&pipe.mu);
    pipe.broken = true;
  }
  reader.join();
  absl::Status status;
  {
    absl::MutexLock lock(&pipe.mu);
    status = pipe.status;
  }
  if (broken && status.ok()) status = absl::CancelledError("the client went away");
  return rpc::ToGrpcStatus(status);
}

}  // namespace coop::stream

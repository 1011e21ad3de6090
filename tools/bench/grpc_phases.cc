#include "tools/bench/grpc_phases.h"

#include <atomic>
#include <memory>
#include <semaphore>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "grpcpp/grpcpp.h"

namespace coop::bench {
namespace {

using coop::v1::PublishRequest;
using coop::v1::PublishResponse;
using coop::v1::PublishStreamRequest;
using coop::v1::PublishStreamResponse;

constexpr absl::Duration kCallDeadline = absl::Seconds(30);
constexpr absl::Duration kStreamDeadline = absl::Hours(1);
constexpr absl::Duration kProbeDeadline = absl::Seconds(5);

std::unique_ptr<grpc::ClientContext> NewContext(const std::string& api_key,
                                                absl::Duration deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat("gRPC status ", status.error_code(), ": ", status.error_message());
}

// Events [first, end) over one PublishStream. Every event of the range is answered in `log`
// by the time this returns.
void RunOneStream(const GrpcClient& client, const EventFactory& events, int64_t first, int64_t end,
                  int32_t window_size, AckLog& log) {
  const int64_t count = end - first;
  std::unique_ptr<grpc::ClientContext> context = NewContext(client.api_key, kStreamDeadline);
  std::unique_ptr<grpc::ClientReaderWriter<PublishStreamRequest, PublishStreamResponse>> stream =
      client.stub->PublishStream(context.get());
  std::counting_semaphore<> window(window_size);
  std::vector<bool> answered(count, false);  // Written by the reader only, until joined.

  std::thread reader([&] {
    PublishStreamResponse response;
    while (stream->Read(&response)) {
      const uint64_t sequence = response.sequence();
      // An answer to an unknown or already answered sequence leaves its event unanswered,
      // which fails it below.
      if (sequence < 1 || sequence > static_cast<uint64_t>(count) || answered[sequence - 1]) {
        continue;
      }
      answered[sequence - 1] = true;
      const int64_t index = first + static_cast<int64_t>(sequence) - 1;
      if (response.has_ack()) {
        log.Acked(index);
      } else {
        log.Failed(index, absl::StrCat("error ", response.error().code(), ": ",
                                       response.error().message()));
      }
      window.release();
    }
    window.release(window_size);  // A broken stream must not leave the writer waiting.
  });

  PublishStreamRequest request;
  for (int64_t i = first; i < end; ++i) {
    window.acquire();
    request.set_sequence(static_cast<uint64_t>(i - first + 1));
    *request.mutable_event() = events.Make(i);
    log.Sent(i, NowNanos());
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  reader.join();
  const grpc::Status status = stream->Finish();
  for (int64_t k = 0; k < count; ++k) {
    if (!answered[k]) log.Failed(first + k, absl::StrCat("unanswered; stream ", Describe(status)));
  }
}

// Shared by the phase and the completion callbacks, which keep it alive until the last one
// has returned.
class UnaryRun : public std::enable_shared_from_this<UnaryRun> {
 public:
  UnaryRun(const GrpcClient& client, const EventFactory& events, const UnaryPhaseOptions& options)
      : client_(client),
        events_(events),
        options_(options),
        log_(options.events),
        window_(options.max_outstanding),
        callers_running_(options.rate > 0 ? 0 : options.callers) {}

  AckLog& log() { return log_; }

  // Closed loop: starts every caller; WaitForCallers() returns when all have stopped.
  void StartCallers() {
    for (int32_t c = 0; c < options_.callers; ++c) {
      callers_.push_back(std::make_unique<Call>());
      CallNext(callers_.back().get());
    }
  }
  void WaitForCallers() { callers_running_.Wait(); }

  // Open loop: sends every event at its due time; returns when the last is sent.
  void SendPaced(int64_t start_ns) {
    const double interval_ns = 1e9 / options_.rate;
    for (int64_t i = 0; i < options_.events; ++i) {
      const int64_t due_ns = start_ns + static_cast<int64_t>(static_cast<double>(i) * interval_ns);
      SleepUntilNanos(due_ns);
      window_.acquire();
      auto* call = new Call;  // Deleted by its completion callback.
      Send(call, i, due_ns, [self = shared_from_this(), call](grpc::Status status) {
        self->Record(call->index, status);
        self->window_.release();
        delete call;
      });
    }
  }

 private:
  struct Call {
    int64_t index = -1;
    std::unique_ptr<grpc::ClientContext> context;
    PublishRequest request;
    PublishResponse response;
  };

  void CallNext(Call* call) {
    const int64_t index = next_.fetch_add(1, std::memory_order_relaxed);
    if (index >= options_.events) {
      callers_running_.DecrementCount();
      return;
    }
    Send(call, index, NowNanos(), [self = shared_from_this(), call](grpc::Status status) {
      self->Record(call->index, status);
      self->CallNext(call);
    });
  }

  void Send(Call* call, int64_t index, int64_t sent_ns, std::function<void(grpc::Status)> done) {
    call->index = index;
    call->context = NewContext(client_.api_key, kCallDeadline);
    *call->request.mutable_event() = events_.Make(index);
    call->response.Clear();
    log_.Sent(index, sent_ns);
    client_.stub->async()->Publish(call->context.get(), &call->request, &call->response,
                                   std::move(done));
  }

  void Record(int64_t index, const grpc::Status& status) {
    if (status.ok()) {
      log_.Acked(index);
    } else {
      log_.Failed(index, Describe(status));
    }
  }

  const GrpcClient client_;
  const EventFactory& events_;
  const UnaryPhaseOptions options_;
  AckLog log_;
  std::counting_semaphore<> window_;       // Open loop only.
  absl::BlockingCounter callers_running_;  // Closed loop only.
  std::atomic<int64_t> next_{0};
  std::vector<std::unique_ptr<Call>> callers_;
};

}  // namespace

absl::Status WaitUntilServing(const GrpcClient& client, const EventFactory& events,
                              PublisherProcess& server, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last_error = "no probe sent";
  for (int64_t attempt = 0; absl::Now() < deadline; ++attempt) {
    if (absl::Status running = server.CheckRunning(); !running.ok()) return running;
    std::unique_ptr<grpc::ClientContext> context = NewContext(client.api_key, kProbeDeadline);
    PublishRequest request;
    *request.mutable_event() = events.MakeProbe(attempt);
    PublishResponse response;
    const grpc::Status status = client.stub->Publish(context.get(), request, &response);
    if (status.ok()) return absl::OkStatus();
    last_error = Describe(status);
    switch (status.error_code()) {
      case grpc::StatusCode::INVALID_ARGUMENT:
      case grpc::StatusCode::PERMISSION_DENIED:
      case grpc::StatusCode::UNAUTHENTICATED:
        return absl::FailedPreconditionError(
            absl::StrCat("the publisher refused the probe event: ", last_error));
      default:
        break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat("coop-publisher at ", server.address(),
                                                  " did not acknowledge a probe within ",
                                                  absl::FormatDuration(timeout), ": ", last_error));
}

PhaseResult RunStreamPhase(const GrpcClient& client, const EventFactory& events,
                           const StreamPhaseOptions& options, CpuMeter& cpu) {
  AckLog log(options.events);
  cpu.Start();
  const int64_t start_ns = NowNanos();
  std::vector<std::thread> streams;
  for (int32_t s = 0; s < options.streams; ++s) {
    const int64_t first = options.events * s / options.streams;
    const int64_t end = options.events * (s + 1) / options.streams;
    streams.emplace_back(RunOneStream, std::cref(client), std::cref(events), first, end,
                         options.window, std::ref(log));
  }
  log.Wait();
  const int64_t end_ns = NowNanos();
  cpu.Stop();
  for (std::thread& stream : streams) stream.join();
  PhaseResult result;
  Summarize(log, cpu, start_ns, end_ns, result);
  return result;
}

PhaseResult RunUnaryPhase(const GrpcClient& client, const EventFactory& events,
                          const UnaryPhaseOptions& options, CpuMeter& cpu) {
  auto run = std::make_shared<UnaryRun>(client, events, options);
  cpu.Start();
  const int64_t start_ns = NowNanos();
  if (options.rate > 0) {
    run->SendPaced(start_ns);
  } else {
    run->StartCallers();
  }
  run->log().Wait();
  const int64_t end_ns = NowNanos();
  cpu.Stop();
  if (options.rate <= 0) run->WaitForCallers();
  PhaseResult result;
  result.target_rate = options.rate;
  Summarize(run->log(), cpu, start_ns, end_ns, result);
  return result;
}

}  // namespace coop::bench

#include "tools/bench/stream_bench_replay.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/bench/measurement.h"

namespace coop::bench {
namespace {

void SetTimestamp(absl::Time time, google::protobuf::Timestamp& timestamp) {
  const int64_t nanos = absl::ToUnixNanos(time);
  timestamp.set_seconds(nanos / 1'000'000'000);
  timestamp.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

}  // namespace

absl::StatusOr<ReplayCall> ReplayOnce(const std::shared_ptr<grpc::Channel>& channel,
                                      absl::Time start, absl::Time end,
                                      int32_t events_per_message) {
  std::unique_ptr<coop::v1::Subscriptions::Stub> stub = coop::v1::Subscriptions::NewStub(channel);
  coop::v1::ReplayRequest request;
  SetTimestamp(start, *request.mutable_start_time());
  SetTimestamp(end, *request.mutable_end_time());
  request.set_max_events_per_message(events_per_message);

  ReplayCall call;
  grpc::ClientContext context;
  coop::v1::ReplayResponse response;
  bool first = true;
  bool summary = false;
  int64_t summary_count = -1;
  const int64_t start_ns = NowNanos();
  std::unique_ptr<grpc::ClientReader<coop::v1::ReplayResponse>> reader =
      stub->Replay(&context, request);
  while (reader->Read(&response)) {
    ++call.messages;
    if (first && (response.has_event() || response.has_events() || response.has_summary())) {
      call.first_event_seconds = static_cast<double>(NowNanos() - start_ns) / 1e9;
      first = false;
    }
    if (response.has_event()) {
      ++call.events;
    } else if (response.has_events()) {
      call.events += response.events().events_size();
    } else if (response.has_summary()) {
      summary = true;
      summary_count = response.summary().count();
    }
  }
  const grpc::Status status = reader->Finish();
  call.total_seconds = static_cast<double>(NowNanos() - start_ns) / 1e9;
  if (!status.ok()) {
    return absl::Status(
        static_cast<absl::StatusCode>(status.error_code()),
        absl::StrCat("Replay after ", call.events, " events: ", status.error_message()));
  }
  if (!summary || summary_count != call.events) {
    return absl::InternalError(absl::StrCat(
        "Replay delivered ", call.events, " events and ",
        summary ? absl::StrCat("a summary counting ", summary_count) : std::string("no summary")));
  }
  return call;
}

}  // namespace coop::bench

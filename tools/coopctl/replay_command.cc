#include "tools/coopctl/replay_command.h"

#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"

namespace coop::ctl {
namespace {

using Json = nlohmann::ordered_json;
using google::protobuf::util::TimeUtil;

Json PositionJson(const coop::v1::Position& position) {
  return {{"partition", position.partition()}, {"offset", position.offset()}};
}

void WriteEvent(const coop::v1::ReplayedEvent& replayed, std::ostream& out) {
  std::string event_json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(replayed.event(), &event_json, options);
  const Json line = {{"event", Json::parse(event_json)},
                     {"partition", replayed.position().partition()},
                     {"offset", replayed.position().offset()},
                     {"record_value", absl::Base64Escape(replayed.record_value())}};
  out << line.dump(-1, ' ', /*ensure_ascii=*/false) << "\n";
}

}  // namespace

std::string ProgressBar(const coop::v1::ReplayRequest& request,
                        const coop::v1::ReplayProgress& progress) {
  constexpr int kWidth = 30;
  const double span = static_cast<double>(TimeUtil::TimestampToMilliseconds(request.end_time()) -
                                          TimeUtil::TimestampToMilliseconds(request.start_time()));
  const double done =
      static_cast<double>(TimeUtil::TimestampToMilliseconds(progress.reached_time()) -
                          TimeUtil::TimestampToMilliseconds(request.start_time()));
  const double fraction = span <= 0 ? 1.0 : std::clamp(done / span, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  return absl::StrCat("[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "] ",
                      static_cast<int>(fraction * 100), "%  ", progress.delivered_count(),
                      " events of ", progress.scanned_count(), " read, up to ",
                      TimeUtil::ToString(progress.reached_time()));
}

absl::Status Replay(const ReplayOptions& options, const std::atomic<bool>& stop, std::ostream& out,
                    std::ostream& notes) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options.connection);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<coop::v1::Subscriptions::Stub> stub = coop::v1::Subscriptions::NewStub(*channel);
  grpc::ClientContext context;
  // A long replay may take longer than one call's timeout: no deadline.
  Authorize(options.connection, context);
  coop::v1::ReplayRequest request = options.request;
  request.set_max_events_per_message(1000);
  std::unique_ptr<grpc::ClientReader<coop::v1::ReplayResponse>> reader =
      stub->Replay(&context, request);
  // Destroyed before `context`, which it may cancel.
  const CancelOnStop cancel_on_stop(context, stop);
  int64_t written = 0;
  bool summarised = false;
  bool bar_shown = false;
  coop::v1::ReplayResponse response;
  while (reader->Read(&response)) {
    if (response.has_event()) {
      WriteEvent(response.event(), out);
      ++written;
    }
    for (const coop::v1::ReplayedEvent& replayed : response.events().events()) {
      WriteEvent(replayed, out);
      ++written;
    }
    if (response.has_progress()) {
      const coop::v1::ReplayProgress& progress = response.progress();
      if (options.progress_bar) {
        notes << "\r" << ProgressBar(request, progress) << std::flush;
        bar_shown = true;
      } else {
        notes << "replay: " << progress.delivered_count() << " events delivered of "
              << progress.scanned_count() << " read, up to "
              << TimeUtil::ToString(progress.reached_time()) << "\n";
      }
    }
    if (response.has_summary()) {
      if (bar_shown) notes << "\n";
      bar_shown = false;
      const coop::v1::ReplaySummary& summary = response.summary();
      Json line = {{"count", summary.count()},
                   {"sha256", absl::BytesToHexString(summary.sha256())}};
      if (summary.count() > 0) {
        line["first"] = PositionJson(summary.first_position());
        line["last"] = PositionJson(summary.last_position());
      }
      out << Json{{"summary", line}}.dump() << "\n";
      notes << "replay: " << summary.count() << " events, record digest sha256 "
            << absl::BytesToHexString(summary.sha256()) << "\n";
      summarised = true;
    }
  }
  out.flush();
  if (bar_shown) notes << "\n";
  const grpc::Status status = reader->Finish();
  if (stop.load()) {
    return absl::CancelledError(absl::StrCat("replay interrupted after ", written, " events"));
  }
  if (!status.ok()) {
    return FromRpcError(status, absl::StrCat("replay (", written, " events written before)"));
  }
  if (!summarised) return absl::DataLossError("the replay ended without its summary");
  return absl::OkStatus();
}

}  // namespace coop::ctl

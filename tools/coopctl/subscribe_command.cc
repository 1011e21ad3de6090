#include "tools/coopctl/subscribe_command.h"

#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"

namespace coop::ctl {
namespace {

using google::protobuf::util::TimeUtil;

std::string Base64(const std::string& bytes) { return absl::Base64Escape(bytes); }

void PrintEvent(const coop::v1::StreamedEvent& streamed, bool json, std::ostream& out) {
  const coop::v1::Event& event = streamed.event();
  if (json) {
    std::string event_json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(event, &event_json, options);
    nlohmann::ordered_json line = {{"event", nlohmann::ordered_json::parse(event_json)},
                                   {"partition", streamed.position().partition()},
                                   {"offset", streamed.position().offset()},
                                   {"cursor", Base64(streamed.cursor())}};
    out << line.dump(-1, ' ', /*ensure_ascii=*/false) << "\n";
  } else {
    out << TimeUtil::ToString(event.recorded_time()) << " "
        << absl::StripPrefix(event.type(), "coop.v1.") << " " << event.subject() << " "
        << event.id() << " from " << event.source() << " at partition "
        << streamed.position().partition() << " offset " << streamed.position().offset() << "\n";
  }
  out.flush();
}

}  // namespace

absl::Status SetStart(const std::string& start, coop::v1::SubscribeRequest& request) {
  if (start == "latest") {
    request.set_edge(coop::v1::LOG_EDGE_LATEST);
  } else if (start == "earliest") {
    request.set_edge(coop::v1::LOG_EDGE_EARLIEST);
  } else if (absl::StartsWith(start, "cursor:")) {
    std::string token;
    if (!absl::Base64Unescape(absl::StripPrefix(start, "cursor:"), &token) || token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--start: '", start, "' is not cursor:<base64 token>"));
    }
    request.set_cursor(token);
  } else if (absl::StartsWith(start, "time:")) {
    absl::StatusOr<google::protobuf::Timestamp> time =
        ParseRfc3339(absl::StripPrefix(start, "time:"));
    if (!time.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--start: '", start, "' is not time:<RFC 3339>: ", time.status().message()));
    }
    *request.mutable_start_time() = *time;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--start: '", start,
        "' is not latest, earliest, cursor:<token> or time:<RFC 3339, e.g. 2025-09-10T00:00:00Z>"));
  }
  return absl::OkStatus();
}

absl::Status Subscribe(const SubscribeOptions& options, const std::atomic<bool>& stop,
                       std::ostream& out, std::ostream& notes) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options.connection);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<coop::v1::Subscriptions::Stub> stub = coop::v1::Subscriptions::NewStub(*channel);
  grpc::ClientContext context;
  // A subscription runs until stopped: no deadline.
  Authorize(options.connection, context);
  coop::v1::SubscribeRequest request = options.request;
  if (request.max_events_per_message() == 0) request.set_max_events_per_message(100);
  std::unique_ptr<grpc::ClientReader<coop::v1::SubscribeResponse>> reader =
      stub->Subscribe(&context, request);
  // Destroyed before `context`, which it may cancel.
  const CancelOnStop cancel_on_stop(context, stop);
  int64_t events = 0;
  std::string cursor;
  bool enough = false;
  coop::v1::SubscribeResponse response;
  while (!enough && reader->Read(&response)) {
    std::vector<const coop::v1::StreamedEvent*> batch;
    if (response.has_event()) batch.push_back(&response.event());
    for (const coop::v1::StreamedEvent& streamed : response.events().events()) {
      batch.push_back(&streamed);
    }
    for (const coop::v1::StreamedEvent* streamed : batch) {
      PrintEvent(*streamed, options.json, out);
      cursor = streamed->cursor();
      if (options.count > 0 && ++events >= options.count) {
        enough = true;
        break;
      }
    }
    if (response.has_caught_up()) {
      cursor = response.caught_up().cursor();
      if (options.json) {
        out << nlohmann::ordered_json{{"caught_up", true}, {"cursor", Base64(cursor)}}.dump()
            << "\n";
      } else {
        notes << "-- caught up; live from here\n";
      }
    } else if (response.has_heartbeat()) {
      cursor = response.heartbeat().cursor();
    }
  }
  if (enough) context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (!cursor.empty()) notes << "resume with --start=cursor:" << Base64(cursor) << "\n";
  if (enough || stop.load() || status.ok()) return absl::OkStatus();
  return FromRpcError(status, "subscribe");
}

}  // namespace coop::ctl

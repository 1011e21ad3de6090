#include "tools/coopctl/publish_command.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/cursor/cursor_token.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "tools/coopctl/event_files.h"

namespace coop::ctl {

absl::Status Publish(const PublishOptions& options, std::istream& standard_input,
                     std::ostream& out) {
  if (options.files.empty()) return absl::InvalidArgumentError("no file to publish");
  std::vector<FileEvent> events;
  for (const std::string& file : options.files) {
    absl::StatusOr<std::vector<FileEvent>> read = ReadEventFile(file, standard_input);
    if (!read.ok()) return read.status();
    for (FileEvent& event : *read) events.push_back(std::move(event));
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options.connection);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<coop::v1::Publisher::Stub> stub = coop::v1::Publisher::NewStub(*channel);
  int64_t recorded = 0;
  int64_t duplicates = 0;
  std::vector<std::string> tokens;
  for (const FileEvent& event : events) {
    grpc::ClientContext context;
    PrepareContext(options.connection, context);
    coop::v1::PublishRequest request;
    *request.mutable_event() = event.event;
    coop::v1::PublishResponse response;
    const grpc::Status status = stub->Publish(&context, request, &response);
    if (!status.ok()) {
      return FromRpcError(status, absl::StrCat(event.origin, ": not published (", recorded,
                                               " recorded before it)"));
    }
    const coop::v1::PublishAck& ack = response.ack();
    const std::string token = absl::Base64Escape(ack.position().token());
    tokens.push_back(ack.position().token());
    if (ack.duplicate()) {
      ++duplicates;
    } else {
      ++recorded;
    }
    if (options.json) {
      nlohmann::ordered_json line = {
          {"origin", event.origin},
          {"id", ack.event_id()},
          {"partition", ack.position().partition()},
          {"offset", ack.position().offset()},
          {"token", token},
          {"recorded_time", google::protobuf::util::TimeUtil::ToString(ack.recorded_time())},
          {"duplicate", ack.duplicate()}};
      out << line.dump() << "\n";
    } else {
      out << event.origin << ": " << (ack.duplicate() ? "duplicate of the event at" : "recorded at")
          << " partition " << ack.position().partition() << " offset " << ack.position().offset()
          << ", token " << token << "\n";
    }
  }
  if (!options.json) {
    out << "published " << events.size() << " events: " << recorded << " recorded, " << duplicates
        << " duplicates\n";
    // One cursor past all of them: views queries given it as --min_position see every one.
    if (absl::StatusOr<std::string> merged = cursor::MergeCursors(tokens); merged.ok()) {
      out << "min_position: " << absl::Base64Escape(*merged) << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace coop::ctl

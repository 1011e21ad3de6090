// coopctl subscribe: a live subscription (Subscriptions.Subscribe) printed as text or JSON lines.
#ifndef COOP_TOOLS_COOPCTL_SUBSCRIBE_COMMAND_H_
#define COOP_TOOLS_COOPCTL_SUBSCRIBE_COMMAND_H_

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coop/v1/subscriptions.pb.h"
#include "tools/coopctl/connection.h"

namespace coop::ctl {

struct SubscribeOptions {
  ConnectionOptions connection;
  coop::v1::SubscribeRequest request;
  // Stop after this many events (0: until `stop` or the server ends the stream).
  int64_t count = 0;
  bool json = false;
};

// The start of a subscription from the --start flag: "latest", "earliest", "cursor:<token>"
// (base64, as printed by publish and subscribe) or "time:<RFC 3339>" ("time:2025-09-10T00:00:00Z").
// INVALID_ARGUMENT saying what is accepted otherwise.
absl::Status SetStart(const std::string& start, coop::v1::SubscribeRequest& request);

// Subscribes and writes each event to `out` as it arrives: a line of text ("<recorded_time>
// <type> <subject> <id> from <source> at partition P offset O") or, with `json`, an object
// {"event": ..., "partition": P, "offset": O, "cursor": "..."} (and {"caught_up": ...}).
// `notes` gets the caught-up marker (text mode) and, at the end, the cursor to resume from.
// Ends OK after `count` events or when `stop` turns true; otherwise with the stream's error.
absl::Status Subscribe(const SubscribeOptions& options, const std::atomic<bool>& stop,
                       std::ostream& out, std::ostream& notes);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_SUBSCRIBE_COMMAND_H_

// coopctl replay: the events of a closed time range (Subscriptions.Replay) as JSON lines, with
// progress and the closing record digest.
#ifndef COOP_TOOLS_COOPCTL_REPLAY_COMMAND_H_
#define COOP_TOOLS_COOPCTL_REPLAY_COMMAND_H_

#include <atomic>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "coop/v1/subscriptions.pb.h"
#include "tools/coopctl/connection.h"

namespace coop::ctl {

struct ReplayOptions {
  ConnectionOptions connection;
  // start_time, end_time and the filter; max_events_per_message is set here.
  coop::v1::ReplayRequest request;
  // Progress as one bar redrawn in place (for a terminal) instead of a line per message.
  bool progress_bar = false;
};

// The progress bar line: how much of [start_time, end_time) the replay has reached, and its
// counts ("[#########.....] 62%  1200 events of 5000 read, up to 2025-...").
std::string ProgressBar(const coop::v1::ReplayRequest& request,
                        const coop::v1::ReplayProgress& progress);

// Writes each replayed event to `out` as a JSON line {"event": ..., "partition": P, "offset": O,
// "record_value": "<base64 of the stored record>"}, in the replay's order, then a last line
// {"summary": {"count": N, "sha256": "<hex>", "first": {...}, "last": {...}}}. `notes` gets the
// progress (a line per progress message of the service) and the summary in words. Ends with the
// service's error when the replay fails (the summary line is then missing), CANCELLED when
// `stop` turns true.
absl::Status Replay(const ReplayOptions& options, const std::atomic<bool>& stop, std::ostream& out,
                    std::ostream& notes);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_REPLAY_COMMAND_H_

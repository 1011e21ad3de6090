// coopctl publish: events from files (event_files.h) to the publisher service, one Publish call
// each, in file order.
#ifndef COOP_TOOLS_COOPCTL_PUBLISH_COMMAND_H_
#define COOP_TOOLS_COOPCTL_PUBLISH_COMMAND_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/coopctl/connection.h"

namespace coop::ctl {

struct PublishOptions {
  ConnectionOptions connection;
  // Files to read in order; "-" is standard input.
  std::vector<std::string> files;
  // One JSON object per event on `out` instead of a line of text.
  bool json = false;
};

// Reads every file first (a bad file publishes nothing), then publishes the events in order and
// writes one line per acknowledged event: where it lies, its token, and whether it was a
// duplicate of one recorded before. Stops at the first event the service refuses. Errors name
// the file and the event: INVALID_ARGUMENT for a bad file or an event the service finds
// invalid (with its field violations), the service's code otherwise (UNAVAILABLE, DEADLINE_
// EXCEEDED, PERMISSION_DENIED, ALREADY_EXISTS, ...). Events acknowledged before a failure stay
// recorded; publishing the same files again is safe (duplicates are acknowledged as such).
absl::Status Publish(const PublishOptions& options, std::istream& standard_input,
                     std::ostream& out);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_PUBLISH_COMMAND_H_

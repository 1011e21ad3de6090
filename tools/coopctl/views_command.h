// coopctl views: the materialised views (coop.v1.Views) as tables or JSON lines, and their
// rebuild.
//
//   views agreements | hubs | trade | regions | timeline     list (every page, or --limit rows)
//   views agreement ID | hub ID | region CODE                one row with its details
//   views rebuild [--wait]                                   start a new generation
//   views rebuild-status [GENERATION]                        progress of a generation
#ifndef COOP_TOOLS_COOPCTL_VIEWS_COMMAND_H_
#define COOP_TOOLS_COOPCTL_VIEWS_COMMAND_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "coop/v1/subscriptions.pb.h"
#include "tools/coopctl/connection.h"

namespace coop::ctl {

struct ViewsOptions {
  ConnectionOptions connection;
  // The words after "views": the view and, for a single row, its id.
  std::vector<std::string> args;
  // One JSON object per row (the Protobuf JSON mapping of the row message) instead of a table.
  bool json = false;
  // Rows at most; 0: every row. Lists are read page by page; JSON lines are written as they
  // come, a table once all rows are in.
  int64_t limit = 0;
  // The filter flags that were given, by flag name without dashes ("region", "status", "as_of",
  // "min_position", "from", ...), with their text as given; CheckViewsOptions refuses those a
  // view does not take.
  std::map<std::string, std::string> flags;
  // timeline: the event filter (--types, --subjects, --subject_prefixes, --regions,
  // --party_ids).
  coop::v1::EventFilter filter;
  // rebuild: wait until the new generation serves (or fails), printing its progress.
  bool wait = false;
};

// Checks the command line: the view exists, has its id if it needs one, and every flag in
// options.flags is one it takes, with a value it accepts (enum names, RFC 3339 times, base64
// cursors). INVALID_ARGUMENT naming the flag otherwise.
absl::Status CheckViewsOptions(const ViewsOptions& options);

// Runs the command: writes the rows to `out` as a table with a closing count line (or as JSON
// lines), and notes (the view cursor, rebuild progress) to `notes`. The service's status when a
// call fails (NOT_FOUND for an unknown id, PERMISSION_DENIED for a rebuild without the operator
// role, ...); CANCELLED when `stop` turns true while waiting for a rebuild.
absl::Status RunViews(const ViewsOptions& options, const std::atomic<bool>& stop, std::ostream& out,
                      std::ostream& notes);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_VIEWS_COMMAND_H_

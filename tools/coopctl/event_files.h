// Reading events from files for `coopctl publish`: the Protobuf JSON mapping of coop.v1.Event
// (envelope.proto; field names as in the .proto or in lowerCamelCase), written as JSON or YAML.
//
//   .json            one event object, or an array of them
//   .jsonl, .ndjson  one event object per line (blank lines are skipped)
//   .yaml, .yml      one event per YAML document (documents separated by ---), or documents
//                    that each hold a sequence of events
//   -                standard input; JSON (an object, an array or lines) when it starts with
//                    '{' or '[', YAML otherwise
// Any other extension is read as JSON when its content starts with '{' or '[', else as YAML.
//
// YAML scalars are typed as YAML 1.2's core schema does: true/false, null/~, integers and
// floats; anything else, and every quoted scalar, is a string (so quote ids such as "2025").
#ifndef COOP_TOOLS_COOPCTL_EVENT_FILES_H_
#define COOP_TOOLS_COOPCTL_EVENT_FILES_H_

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coop/v1/envelope.pb.h"

namespace coop::ctl {

struct FileEvent {
  // Where the event came from, for messages: "seed/mosreg.json: event 2 (id mosreg-...)".
  std::string origin;
  coop::v1::Event event;
};

// The events of `text`, read from `name` (a path, or "-" for standard input) in the format its
// name or content says (above), in order. INVALID_ARGUMENT naming the file, the line or the
// event, and the field when the mapping rejects one: "events.json: event 3 (id x): invalid
// value \"soon\" for field signed_on ...".
absl::StatusOr<std::vector<FileEvent>> ParseEvents(absl::string_view name, absl::string_view text);

// Reads `path` ("-": `standard_input`) and parses it with ParseEvents. NOT_FOUND or
// PERMISSION_DENIED naming the file when it cannot be read.
absl::StatusOr<std::vector<FileEvent>> ReadEventFile(const std::string& path,
                                                     std::istream& standard_input);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_EVENT_FILES_H_

// A reflection walk over the messages inside a Protobuf message, for code that looks for one
// message type wherever the contract nests it (RegionRef and Party in event payloads).
#ifndef COOP_COMMON_EVENTS_MESSAGE_WALK_H_
#define COOP_COMMON_EVENTS_MESSAGE_WALK_H_

#include "absl/functional/function_ref.h"
#include "google/protobuf/message.h"

namespace coop::events {

// Calls `visit` on every message below `root` (not on `root` itself) that is set: singular
// message fields that are present and every element of repeated message fields, depth first, in
// field number order, a repeated field's elements in order. `visit` returns whether to walk on
// into the message it was given. Map fields count as repeated messages (their entries).
void VisitMessages(const google::protobuf::Message& root,
                   absl::FunctionRef<bool(const google::protobuf::Message&)> visit);

}  // namespace coop::events

#endif  // COOP_COMMON_EVENTS_MESSAGE_WALK_H_

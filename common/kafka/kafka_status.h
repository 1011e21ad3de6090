// The one place where librdkafka errors become absl::Status.
//
// Mapping (by error, not by call site):
//   broker unreachable, leader moving, not enough replicas, timeouts  -> UNAVAILABLE
//   local queue full                                                   -> RESOURCE_EXHAUSTED
//   topic already exists                                               -> ALREADY_EXISTS
//   unknown topic or partition                                         -> NOT_FOUND
//   bad config, partitions, replication factor, record too large       -> INVALID_ARGUMENT
//   authentication failed                                              -> UNAUTHENTICATED
//   authorization failed                                               -> PERMISSION_DENIED
//   producer fenced or fatal idempotence error                         -> ABORTED / INTERNAL
//   anything else                                                      -> UNKNOWN
// The librdkafka error name is kept in the message, and whether the error is retriable is kept as
// a payload that IsRetriable() reads.
#ifndef COOP_COMMON_KAFKA_KAFKA_STATUS_H_
#define COOP_COMMON_KAFKA_KAFKA_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace coop::kafka {

// `error` is an rd_kafka_resp_err_t; `context` says what was being done ("create topic x").
absl::Status KafkaErrorToStatus(int error, absl::string_view context);

// True when the status came from a Kafka error that the client may retry as is.
bool IsRetriable(const absl::Status& status);

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_KAFKA_STATUS_H_

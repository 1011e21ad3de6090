// Opaque, versioned cursor tokens: where a reader stands in one event log.
//
// Wire form: the byte 'c', a version byte (1), then a serialized coop.internal.v1.CursorToken.
// Tokens name their log (Kafka cluster id and topic) so that a token from another deployment
// is rejected rather than silently misread. A topic deleted and recreated under the same name
// in the same cluster is not detected (librdkafka 2.0 exposes no topic ids).
#ifndef COOP_COMMON_CURSOR_CURSOR_TOKEN_H_
#define COOP_COMMON_CURSOR_CURSOR_TOKEN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace coop::cursor {

// Which event log a cursor belongs to.
struct LogId {
  std::string cluster_id;
  std::string topic;

  friend bool operator==(const LogId&, const LogId&) = default;
};

struct Cursor {
  LogId log;
  // Partition -> offset of the next record past the bound.
  std::map<int32_t, int64_t> next_offsets;

  friend bool operator==(const Cursor&, const Cursor&) = default;
};

// Tokens are at most this long (the public API's limit).
inline constexpr size_t kMaxTokenBytes = 8192;

// The token of `cursor`. Deterministic: equal cursors give equal bytes.
std::string EncodeCursor(const Cursor& cursor);

// The token of the position just past the record at (`partition`, `offset`).
std::string EncodePosition(const LogId& log, int32_t partition, int64_t offset);

// Parses a token produced by EncodeCursor. INVALID_ARGUMENT when it is malformed, of an unknown
// version, too long, or names a log other than `expected`.
absl::StatusOr<Cursor> DecodeCursor(absl::string_view token, const LogId& expected);

// As DecodeCursor, for whichever log the token names (a client that does not know the
// deployment's cluster id).
absl::StatusOr<Cursor> DecodeCursorOfAnyLog(absl::string_view token);

// One token at or past each of `tokens` (all of one log): for each partition any of them names,
// the furthest next offset. Waiting for it as a view's min_position reads every write the
// tokens stand for. INVALID_ARGUMENT when `tokens` is empty, one is malformed, or they name
// different logs.
absl::StatusOr<std::string> MergeCursors(const std::vector<std::string>& tokens);

}  // namespace coop::cursor

#endif  // COOP_COMMON_CURSOR_CURSOR_TOKEN_H_

// What the Views gRPC service reads from: the serving generation (or an as-of store), after
// waiting for a read-your-writes bound. Implemented by ViewsEngine (views_engine.h); tests may
// implement it over a single database.
#ifndef COOP_CONSUMERS_VIEWS_VIEW_SOURCE_H_
#define COOP_CONSUMERS_VIEWS_VIEW_SOURCE_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/cursor/cursor_token.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/views.pb.h"

namespace coop::views {

// Runs read queries inside one snapshot transaction of a generation database.
using ReadFn = std::function<absl::Status(sql::Connection& connection)>;

class ViewSource {
 public:
  virtual ~ViewSource() = default;

  // The log the views are built from (for cursor tokens).
  virtual const cursor::LogId& log() const = 0;

  // Waits until the serving generation has applied every record before `min_position` (a
  // cursor token; empty: no wait), then calls `read` with a connection of that generation
  // inside a snapshot transaction (Begin(kSnapshot) is done and ended by the source). With
  // `as_of`, reads a store built from the records recorded at or before it instead.
  // Errors: INVALID_ARGUMENT (malformed token, token of another log, as_of in the future),
  // DEADLINE_EXCEEDED (not reached by `deadline`), UNAVAILABLE (the store cannot be reached), or
  // whatever `read` returns.
  virtual absl::Status Read(absl::string_view min_position, absl::Time deadline,
                            std::optional<absl::Time> as_of, const ReadFn& read) = 0;

  // Starts a new generation (FAILED_PRECONDITION when one is running).
  virtual absl::StatusOr<coop::v1::RebuildStatus> StartRebuild() = 0;
  // The status of `generation` (0: the most recently started one); NOT_FOUND if unknown.
  virtual absl::StatusOr<coop::v1::RebuildStatus> GetRebuild(int64_t generation) = 0;
};

// The cursor token of what the database on `connection` has applied (its positions table);
// call inside the read's snapshot transaction so that it matches the rows read.
absl::StatusOr<std::string> AppliedCursor(sql::Connection& connection, const cursor::LogId& log);

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_VIEW_SOURCE_H_

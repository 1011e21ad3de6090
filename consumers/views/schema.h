// The SQL schema of one view generation, as versioned migrations. The tables and their columns
// are documented for analysts in docs/views.md.
#ifndef COOP_CONSUMERS_VIEWS_SCHEMA_H_
#define COOP_CONSUMERS_VIEWS_SCHEMA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "consumers/views/sql/connection.h"

namespace coop::views {

// The newest schema version this build knows.
int64_t LatestSchemaVersion();

// Brings the generation database on `connection` to LatestSchemaVersion(), applying each
// missing migration in its own transaction and recording it in schema_migrations. A database
// written by a newer build (a version this build does not know) is FAILED_PRECONDITION.
absl::Status MigrateGeneration(sql::Connection& connection);

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_SCHEMA_H_

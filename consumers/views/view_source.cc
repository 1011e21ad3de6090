#include "consumers/views/view_source.h"

#include <string>
#include <vector>

#include "common/status_macros.h"

namespace coop::views {

absl::StatusOr<std::string> AppliedCursor(sql::Connection& connection, const cursor::LogId& log) {
  COOP_ASSIGN_OR_RETURN(
      std::vector<sql::Row> rows,
      connection.Query(
          "SELECT kafka_partition, next_offset FROM positions ORDER BY kafka_partition"));
  cursor::Cursor applied{.log = log};
  for (const sql::Row& row : rows) {
    applied.next_offsets[static_cast<int32_t>(sql::AsInt(row[0]))] = sql::AsInt(row[1]);
  }
  return cursor::EncodeCursor(applied);
}

}  // namespace coop::views

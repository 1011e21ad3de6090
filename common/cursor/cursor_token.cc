#include "common/cursor/cursor_token.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/cursor/cursor.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace coop::cursor {
namespace {

constexpr char kMagic = 'c';
constexpr char kVersion = 1;

}  // namespace

std::string EncodeCursor(const Cursor& cursor) {
  coop::internal::v1::CursorToken token;
  token.set_cluster_id(cursor.log.cluster_id);
  token.set_topic(cursor.log.topic);
  for (const auto& [partition, next_offset] : cursor.next_offsets) {
    coop::internal::v1::PartitionOffset* entry = token.add_partitions();
    entry->set_partition(partition);
    entry->set_next_offset(next_offset);
  }
  std::string out = {kMagic, kVersion};
  // Deterministic so that equal cursors compare equal as bytes, as the API promises clients.
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    token.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string EncodePosition(const LogId& log, int32_t partition, int64_t offset) {
  return EncodeCursor(Cursor{.log = log, .next_offsets = {{partition, offset + 1}}});
}

absl::StatusOr<Cursor> DecodeCursorOfAnyLog(absl::string_view token) {
  if (token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("cursor token: ", token.size(), " bytes, at most ", kMaxTokenBytes));
  }
  if (token.size() < 2 || token[0] != kMagic) {
    return absl::InvalidArgumentError("cursor token: not a coopstream cursor");
  }
  if (token[1] != kVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("cursor token: unknown version ", static_cast<int>(token[1])));
  }
  coop::internal::v1::CursorToken parsed;
  if (!parsed.ParseFromArray(token.data() + 2, static_cast<int>(token.size() - 2))) {
    return absl::InvalidArgumentError("cursor token: malformed");
  }
  Cursor cursor{.log = {.cluster_id = parsed.cluster_id(), .topic = parsed.topic()}};
  for (const coop::internal::v1::PartitionOffset& entry : parsed.partitions()) {
    if (entry.partition() < 0 || entry.next_offset() < 0 ||
        !cursor.next_offsets.emplace(entry.partition(), entry.next_offset()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("cursor token: bad or repeated partition ", entry.partition()));
    }
  }
  return cursor;
}

absl::StatusOr<Cursor> DecodeCursor(absl::string_view token, const LogId& expected) {
  absl::StatusOr<Cursor> cursor = DecodeCursorOfAnyLog(token);
  if (!cursor.ok()) return cursor.status();
  if (cursor->log != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cursor token: belongs to log ", cursor->log.topic, " of cluster ", cursor->log.cluster_id,
        ", not to this deployment's ", expected.topic, " of cluster ", expected.cluster_id));
  }
  return cursor;
}

absl::StatusOr<std::string> MergeCursors(const std::vector<std::string>& tokens) {
  if (tokens.empty()) return absl::InvalidArgumentError("cursor tokens: none to merge");
  absl::StatusOr<Cursor> merged = DecodeCursorOfAnyLog(tokens.front());
  if (!merged.ok()) return merged.status();
  for (size_t i = 1; i < tokens.size(); ++i) {
    absl::StatusOr<Cursor> cursor = DecodeCursor(tokens[i], merged->log);
    if (!cursor.ok()) return cursor.status();
    for (const auto& [partition, next_offset] : cursor->next_offsets) {
      int64_t& furthest = merged->next_offsets.try_emplace(partition, next_offset).first->second;
      furthest = std::max(furthest, next_offset);
    }
  }
  return EncodeCursor(*merged);
}

}  // namespace coop::cursor

// How an event envelope lies in a Kafka record (the contract in docs/kafka-records.md):
//   key      = the envelope's subject (UTF-8), so one subject's events share a partition and
//              keep their order;
//   value    = the serialized coop.v1.Event envelope (binary Protobuf);
//   headers  = CloudEvents Kafka binding, binary mode: ce_specversion, ce_id, ce_source,
//              ce_type, ce_subject, ce_time, and the extensions ce_recordedtime,
//              ce_schemaversion, ce_correlationid, ce_causationid, ce_causationsource; plus
//              content-type;
//   timestamp = the envelope's recorded_time (CreateTime), which replay by time seeks on.
// Any Kafka tool can route and filter on the headers without our code or schemas.
#ifndef COOP_COMMON_EVENTS_RECORD_CODEC_H_
#define COOP_COMMON_EVENTS_RECORD_CODEC_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/kafka/record.h"
#include "coop/v1/envelope.pb.h"
#include "google/protobuf/message.h"

namespace coop::events {

// The content-type header of every event record.
inline constexpr absl::string_view kEventContentType = "application/protobuf; proto=coop.v1.Event";
inline constexpr absl::string_view kCloudEventsSpecVersion = "1.0";

// The full Protobuf name of the payload set in `event` ("coop.v1.MemorandumSigned"), or an
// empty view when no payload is set.
absl::string_view PayloadTypeName(const coop::v1::Event& event);

// INVALID_ARGUMENT naming the attribute when id, source, type or subject is empty or when type
// does not name the payload that is set. Does not validate the payload (the publisher does).
absl::StatusOr<kafka::KafkaRecord> EncodeRecord(const coop::v1::Event& event);

// Parses and checks a record written by EncodeRecord. INVALID_ARGUMENT naming the problem when
// the content-type is not ours, the value is not a valid envelope (malformed, or invalid UTF-8
// in a string field), or the key or a ce_* header disagrees with the envelope.
absl::StatusOr<coop::v1::Event> DecodeRecord(const kafka::KafkaRecord& record);

// Sets field `field_number` of `message`, a field of type coop.v1.Event, to `record_value` (an
// Event serialized as stored) without parsing it: the bytes go out verbatim as that field,
// which parses exactly as the parsed Event would (field order does not matter on the wire), and
// fields of a newer schema pass through. One copy of the bytes instead of a deep copy of a
// parsed Event and its serialization; for the stream's deliveries and replays.
void SetEventField(google::protobuf::Message& message, int field_number,
                   absl::string_view record_value);

// The value of the first header called `name`, if any.
std::optional<absl::string_view> FindHeader(const kafka::KafkaRecord& record,
                                            absl::string_view name);

}  // namespace coop::events

#endif  // COOP_COMMON_EVENTS_RECORD_CODEC_H_

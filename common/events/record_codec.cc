#include "common/events/record_codec.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/time_util.h"

namespace coop::events {
namespace {

using coop::v1::Event;
using google::protobuf::Timestamp;

// RFC 3339 in UTC with a "Z" and 0, 3, 6 or 9 fractional digits, as CloudEvents writes times.
std::string Rfc3339(const Timestamp& timestamp) {
  return google::protobuf::util::TimeUtil::ToString(timestamp);
}

absl::Status CheckHeader(const kafka::KafkaRecord& record, absl::string_view header,
                         absl::string_view envelope_value, absl::string_view field) {
  const std::optional<absl::string_view> value = FindHeader(record, header);
  if (!value.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("header ", header, ": missing"));
  }
  if (*value != envelope_value) {
    return absl::InvalidArgumentError(absl::StrCat("header ", header, ": '", *value,
                                                   "' disagrees with the envelope's ", field, " '",
                                                   envelope_value, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view PayloadTypeName(const Event& event) {
  const google::protobuf::OneofDescriptor* oneof = Event::descriptor()->FindOneofByName("payload");
  const google::protobuf::FieldDescriptor* field =
      event.GetReflection()->GetOneofFieldDescriptor(event, oneof);
  if (field == nullptr) return {};
  return field->message_type()->full_name();
}

std::optional<absl::string_view> FindHeader(const kafka::KafkaRecord& record,
                                            absl::string_view name) {
  for (const kafka::RecordHeader& header : record.headers) {
    if (header.name == name) return header.value;
  }
  return std::nullopt;
}

absl::StatusOr<kafka::KafkaRecord> EncodeRecord(const Event& event) {
  for (const auto& [field, value] :
       {std::pair<absl::string_view, absl::string_view>{"id", event.id()},
        {"source", event.source()},
        {"type", event.type()},
        {"subject", event.subject()}}) {
    if (value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
    }
  }
  const absl::string_view payload_type = PayloadTypeName(event);
  if (payload_type.empty()) {
    return absl::InvalidArgumentError("payload: required");
  }
  if (payload_type != event.type()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "type: '", event.type(), "' does not match the payload, which is a ", payload_type));
  }

  kafka::KafkaRecord record;
  record.key = event.subject();
  if (!event.SerializeToString(&record.value)) {
    return absl::InvalidArgumentError("event could not be serialized");
  }
  auto add = [&record](absl::string_view name, std::string value) {
    record.headers.push_back({std::string(name), std::move(value)});
  };
  add("ce_specversion", std::string(kCloudEventsSpecVersion));
  add("ce_id", event.id());
  add("ce_source", event.source());
  add("ce_type", event.type());
  add("ce_subject", event.subject());
  if (event.has_time()) add("ce_time", Rfc3339(event.time()));
  if (event.has_recorded_time()) {
    add("ce_recordedtime", Rfc3339(event.recorded_time()));
    record.timestamp = absl::FromUnixMillis(
        google::protobuf::util::TimeUtil::TimestampToMilliseconds(event.recorded_time()));
  }
  add("ce_schemaversion", absl::StrCat(event.schema_version()));
  if (!event.correlation_id().empty()) add("ce_correlationid", event.correlation_id());
  if (!event.causation_id().empty()) add("ce_causationid", event.causation_id());
  if (!event.causation_source().empty()) add("ce_causationsource", event.causation_source());
  add("content-type", std::string(kEventContentType));
  return record;
}

void SetEventField(google::protobuf::Message& message, int field_number,
                   absl::string_view record_value) {
  message.GetReflection()
      ->MutableUnknownFields(&message)
      ->AddLengthDelimited(field_number)
      ->assign(record_value.data(), record_value.size());
}

absl::StatusOr<Event> DecodeRecord(const kafka::KafkaRecord& record) {
  const std::optional<absl::string_view> content_type = FindHeader(record, "content-type");
  if (content_type != kEventContentType) {
    return absl::InvalidArgumentError(absl::StrCat("header content-type: '",
                                                   content_type.value_or("<missing>"),
                                                   "', expected '", kEventContentType, "'"));
  }
  Event event;
  if (!event.ParseFromString(record.value)) {
    return absl::InvalidArgumentError(
        "value: not a valid coop.v1.Event (malformed Protobuf, or invalid UTF-8 in a string "
        "field)");
  }
  if (record.key != event.subject()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key: '", record.key, "' disagrees with the envelope's subject '", event.subject(), "'"));
  }
  for (const auto& [header, value, field] :
       {std::tuple<absl::string_view, absl::string_view, absl::string_view>{"ce_id", event.id(),
                                                                            "id"},
        {"ce_source", event.source(), "source"},
        {"ce_type", event.type(), "type"},
        {"ce_subject", event.subject(), "subject"}}) {
    if (absl::Status status = CheckHeader(record, header, value, field); !status.ok()) {
      return status;
    }
  }
  return event;
}

}  // namespace coop::events

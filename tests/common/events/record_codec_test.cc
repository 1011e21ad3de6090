#include "common/events/record_codec.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/sample_events.h"

namespace coop::events {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::Contains;
using ::testing::HasSubstr;

kafka::RecordHeader Header(const std::string& name, const std::string& value) {
  return kafka::RecordHeader{.name = name, .value = value};
}

TEST(RecordCodecTest, KeyIsSubjectAndHeadersCarryCloudEventsAttributes) {
  const coop::v1::Event event = testing::MemorandumSignedEvent();
  absl::StatusOr<kafka::KafkaRecord> record = EncodeRecord(event);
  ASSERT_TRUE(record.ok()) << record.status();

  EXPECT_EQ(record->key, "agreement/ru-mos-kz-19-memorandum-2025");
  EXPECT_THAT(record->headers, Contains(Header("ce_specversion", "1.0")));
  EXPECT_THAT(record->headers, Contains(Header("ce_id", "mosreg-2025-09-10-memorandum")));
  EXPECT_THAT(record->headers, Contains(Header("ce_source", "publishers/mosreg-government")));
  EXPECT_THAT(record->headers, Contains(Header("ce_type", "coop.v1.MemorandumSigned")));
  EXPECT_THAT(record->headers,
              Contains(Header("ce_subject", "agreement/ru-mos-kz-19-memorandum-2025")));
  EXPECT_THAT(record->headers, Contains(Header("ce_time", "2025-09-10T09:00:00Z")));
  EXPECT_THAT(record->headers, Contains(Header("ce_recordedtime", "2025-09-10T10:00:00.123Z")));
  EXPECT_THAT(record->headers, Contains(Header("ce_schemaversion", "1")));
  EXPECT_THAT(record->headers, Contains(Header("ce_correlationid", "forum-2025-09-10")));
  EXPECT_THAT(record->headers,
              Contains(Header("content-type", "application/protobuf; proto=coop.v1.Event")));
  ASSERT_TRUE(record->timestamp.has_value());
  EXPECT_EQ(absl::ToUnixMillis(*record->timestamp), 1757498400123);
}

TEST(RecordCodecTest, DecodeReturnsTheEncodedEnvelope) {
  const coop::v1::Event event = testing::CulturalEventEvent();
  absl::StatusOr<kafka::KafkaRecord> record = EncodeRecord(event);
  ASSERT_TRUE(record.ok()) << record.status();

  absl::StatusOr<coop::v1::Event> decoded = DecodeRecord(*record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*decoded, event));
  EXPECT_EQ(decoded->cultural_event().title(), "Әлқисса");
}

TEST(RecordCodecTest, PayloadTypeNameIsTheFullMessageName) {
  EXPECT_EQ(PayloadTypeName(testing::MemorandumSignedEvent()), "coop.v1.MemorandumSigned");
  EXPECT_EQ(PayloadTypeName(coop::v1::Event()), "");
}

TEST(RecordCodecTest, EncodeWithoutSubjectIsInvalidArgument) {
  coop::v1::Event event = testing::MemorandumSignedEvent();
  event.clear_subject();
  const absl::Status status = EncodeRecord(event).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("subject"));
}

TEST(RecordCodecTest, EncodeWithTypeOfAnotherPayloadIsInvalidArgument) {
  coop::v1::Event event = testing::MemorandumSignedEvent();
  event.set_type("coop.v1.AgreementSigned");
  const absl::Status status = EncodeRecord(event).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("coop.v1.MemorandumSigned"));
}

TEST(RecordCodecTest, InvalidUtf8InStringFieldIsRejectedAtParse) {
  absl::StatusOr<kafka::KafkaRecord> record = EncodeRecord(testing::MemorandumSignedEvent());
  ASSERT_TRUE(record.ok()) << record.status();
  // Field 8 (correlation_id), length-delimited, holding 0xC3 0x28: a UTF-8 lead byte followed by
  // a byte that cannot continue it. Appending a field to the wire form replaces its value.
  record->value.append("\x42\x02\xC3\x28", 4);

  const absl::Status status = DecodeRecord(*record).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("invalid UTF-8"));
}

TEST(RecordCodecTest, ValidUtf8AppendedTheSameWayParses) {
  // The control for the test above: the same splice with valid UTF-8 ("Қ") is accepted, so the
  // rejection there is due to the encoding alone.
  absl::StatusOr<kafka::KafkaRecord> record = EncodeRecord(testing::MemorandumSignedEvent());
  ASSERT_TRUE(record.ok()) << record.status();
  record->value.append("\x42\x02\xD2\x9A", 4);

  absl::StatusOr<coop::v1::Event> decoded = DecodeRecord(*record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->correlation_id(), "Қ");
}

TEST(RecordCodecTest, HeaderDisagreeingWithEnvelopeIsInvalidArgument) {
  absl::StatusOr<kafka::KafkaRecord> record = EncodeRecord(testing::MemorandumSignedEvent());
  ASSERT_TRUE(record.ok()) << record.status();
  for (kafka::RecordHeader& header : record->headers) {
    if (header.name == "ce_type") header.value = "coop.v1.TradeUpdate";
  }
  const absl::Status status = DecodeRecord(*record).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("ce_type"));
}

TEST(RecordCodecTest, KeyDisagreeingWithSubjectIsInvalidArgument) {
  absl::StatusOr<kafka::KafkaRecord> record = EncodeRecord(testing::MemorandumSignedEvent());
  ASSERT_TRUE(record.ok()) << record.status();
  record->key = "hub/selyatino";
  const absl::Status status = DecodeRecord(*record).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("key"));
}

TEST(RecordCodecTest, ForeignContentTypeIsInvalidArgument) {
  kafka::KafkaRecord record{.key = "k", .value = "{}"};
  record.headers.push_back(Header("content-type", "application/json"));
  const absl::Status status = DecodeRecord(record).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("application/json"));
}

}  // namespace
}  // namespace coop::events

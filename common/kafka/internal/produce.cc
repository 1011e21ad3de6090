#include "common/kafka/internal/produce.h"

#include "common/kafka/internal/handles.h"

namespace coop::kafka::internal {

rd_kafka_resp_err_t ProduceRecord(rd_kafka_t* producer, const std::string& topic,
                                  const KafkaRecord& record, void* opaque) {
  HeadersHandle headers(rd_kafka_headers_new(record.headers.size()));
  for (const RecordHeader& header : record.headers) {
    rd_kafka_header_add(headers.get(), header.name.data(), static_cast<ssize_t>(header.name.size()),
                        header.value.data(), static_cast<ssize_t>(header.value.size()));
  }
  const int64_t timestamp_ms = record.timestamp ? absl::ToUnixMillis(*record.timestamp) : 0;
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      producer, RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
      RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  // On success librdkafka owns the headers; on failure they stay ours.
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) headers.release();
  return err;
}

}  // namespace coop::kafka::internal

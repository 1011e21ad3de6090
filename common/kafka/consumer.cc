#include "common/kafka/consumer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/kafka/internal/client_conf.h"
#include "common/kafka/internal/handles.h"
#include "common/kafka/kafka_status.h"
#include "common/status_macros.h"

namespace coop::kafka {

struct Consumer::Impl {
  internal::KafkaHandle client;
  RebalanceListener* listener = nullptr;
  // SplitPartitions: partition -> its own queue (released before the client closes).
  std::map<int32_t, internal::QueueHandle> partition_queues;
};

namespace {

std::vector<int32_t> PartitionsOf(const rd_kafka_topic_partition_list_t* list) {
  std::vector<int32_t> partitions;
  for (int i = 0; i < list->cnt; ++i) partitions.push_back(list->elems[i].partition);
  return partitions;
}

// librdkafka's rebalance callback (eager protocol): hands the partitions to the listener, then
// assigns or unassigns as librdkafka requires.
void OnRebalance(rd_kafka_t* client, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* listener = static_cast<RebalanceListener*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    const std::map<int32_t, int64_t> offsets = listener->OnAssigned(PartitionsOf(partitions));
    for (int i = 0; i < partitions->cnt; ++i) {
      auto it = offsets.find(partitions->elems[i].partition);
      partitions->elems[i].offset = it == offsets.end() ? kOffsetBeginning : it->second;
    }
    rd_kafka_assign(client, partitions);
  } else {
    listener->OnRevoked(PartitionsOf(partitions));
    rd_kafka_assign(client, nullptr);
  }
}

}  // namespace

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const KafkaConfig& config,
                                                           const ConsumerOptions& options) {
  internal::PropertyList defaults = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", options.report_end_of_partition ? "true" : "false"},
      {"auto.offset.reset", options.fail_on_missing_offset ? "error" : "earliest"},
      {"isolation.level", options.read_committed ? "read_committed" : "read_uncommitted"},
  };
  // librdkafka's consumer API needs a group id even for plain assignment. Without one of ours,
  // a private id is used that never joins a group or commits, so the broker keeps nothing.
  defaults.emplace_back("group.id",
                        options.group_id.empty()
                            ? absl::StrCat("coop-reader-", absl::ToUnixNanos(absl::Now()), "-",
                                           reinterpret_cast<uintptr_t>(&options))
                            : options.group_id);
  COOP_ASSIGN_OR_RETURN(internal::ConfHandle conf, internal::MakeConf(config, defaults));
  if (options.rebalance_listener != nullptr) {
    rd_kafka_conf_set_rebalance_cb(conf.get(), &OnRebalance);
    rd_kafka_conf_set_opaque(conf.get(), options.rebalance_listener);
  }
  auto impl = std::make_unique<Impl>();
  impl->listener = options.rebalance_listener;
  COOP_ASSIGN_OR_RETURN(impl->client, internal::NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  // Serve everything (records, errors) from the consumer queue that Poll() reads.
  rd_kafka_poll_set_consumer(impl->client.get());
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

Consumer::~Consumer() {
  // A queue still referenced would keep rd_kafka_destroy waiting.
  impl_->partition_queues.clear();
  rd_kafka_consumer_close(impl_->client.get());
}

absl::Status Consumer::Assign(absl::string_view topic, int32_t partition, int64_t offset) {
  const std::string topic_name(topic);
  internal::PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_name.c_str(), partition)->offset = offset;
  return KafkaErrorToStatus(rd_kafka_assign(impl_->client.get(), list.get()),
                            absl::StrCat("assign ", topic, "[", partition, "]"));
}

absl::Status Consumer::AssignAll(absl::string_view topic,
                                 const std::map<int32_t, int64_t>& offsets) {
  const std::string topic_name(topic);
  internal::PartitionListHandle list(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [partition, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), topic_name.c_str(), partition)->offset = offset;
  }
  return KafkaErrorToStatus(rd_kafka_assign(impl_->client.get(), list.get()),
                            absl::StrCat("assign ", topic));
}

absl::Status Consumer::Subscribe(absl::string_view topic) {
  if (impl_->listener == nullptr) {
    return absl::FailedPreconditionError("Subscribe needs ConsumerOptions::rebalance_listener");
  }
  const std::string topic_name(topic);
  internal::PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_name.c_str(), RD_KAFKA_PARTITION_UA);
  return KafkaErrorToStatus(rd_kafka_subscribe(impl_->client.get(), list.get()),
                            absl::StrCat("subscribe to ", topic));
}

absl::Status Consumer::Seek(absl::string_view topic, int32_t partition, int64_t offset) {
  const std::string topic_name(topic);
  internal::PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_name.c_str(), partition)->offset = offset;
  rd_kafka_error_t* error = rd_kafka_seek_partitions(impl_->client.get(), list.get(), 10000);
  if (error != nullptr) {
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return KafkaErrorToStatus(code, absl::StrCat("seek ", topic, "[", partition, "]"));
  }
  if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(list->elems[0].err,
                              absl::StrCat("seek ", topic, "[", partition, "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int32_t> Consumer::PartitionCount(absl::string_view topic, absl::Duration timeout) {
  const std::string topic_name(topic);
  internal::TopicHandle handle(
      rd_kafka_topic_new(impl_->client.get(), topic_name.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(impl_->client.get(), 0, handle.get(), &raw,
                        static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  internal::MetadataHandle metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(err, absl::StrCat("metadata of ", topic));
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (topic_name != metadata->topics[i].topic) continue;
    if (metadata->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaErrorToStatus(metadata->topics[i].err, absl::StrCat("metadata of ", topic));
    }
    return metadata->topics[i].partition_cnt;
  }
  return absl::NotFoundError(absl::StrCat("topic '", topic, "' does not exist"));
}

namespace {

// One ListOffsets round trip per leader: for each partition the offset of the first record with
// a timestamp >= `timestamp_ms`, -1 for none; `timestamp_ms` -1 asks for the end offset.
absl::StatusOr<std::map<int32_t, int64_t>> ListOffsets(rd_kafka_t* client, absl::string_view topic,
                                                       int32_t partitions, int64_t timestamp_ms,
                                                       absl::Duration timeout) {
  const std::string topic_name(topic);
  internal::PartitionListHandle list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p) {
    // offsets_for_times reads the timestamp to look up from the offset field.
    rd_kafka_topic_partition_list_add(list.get(), topic_name.c_str(), p)->offset = timestamp_ms;
  }
  const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(
      client, list.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(err, absl::StrCat("list offsets of ", topic));
  }
  std::map<int32_t, int64_t> offsets;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& entry = list->elems[i];
    if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaErrorToStatus(entry.err,
                                absl::StrCat("list offsets of ", topic, "[", entry.partition, "]"));
    }
    offsets[entry.partition] = entry.offset;
  }
  return offsets;
}

}  // namespace

absl::StatusOr<std::map<int32_t, int64_t>> Consumer::OffsetsForTime(absl::string_view topic,
                                                                    int32_t partitions,
                                                                    absl::Time time,
                                                                    absl::Duration timeout) {
  absl::StatusOr<std::map<int32_t, int64_t>> offsets =
      ListOffsets(impl_->client.get(), topic, partitions, absl::ToUnixMillis(time), timeout);
  if (offsets.ok()) {
    // -1: no record that late; start at the end.
    for (auto& [partition, offset] : *offsets) {
      if (offset < 0) offset = kOffsetEnd;
    }
  }
  return offsets;
}

absl::StatusOr<std::map<int32_t, int64_t>> Consumer::EndOffsets(absl::string_view topic,
                                                                int32_t partitions,
                                                                absl::Duration timeout) {
  absl::StatusOr<std::map<int32_t, int64_t>> offsets =
      ListOffsets(impl_->client.get(), topic, partitions, RD_KAFKA_OFFSET_END, timeout);
  if (!offsets.ok()) return offsets;
  // The "latest" query, sent through offsets_for_times, has been seen to answer -1 (the logical
  // end), 0, or an offset short of the end for partitions that hold records: a reader then took
  // the log's end for already reached.
  const std::string topic_name(topic);
  for (auto& [partition, offset] : *offsets) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        impl_->client.get(), topic_name.c_str(), partition, &low, &high,
        static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0) {
      return KafkaErrorToStatus(
          err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : RD_KAFKA_RESP_ERR__BAD_MSG,
          absl::StrCat("end offset of ", topic, "[", partition, "]"));
    }
    // The query has also been seen to answer a stale offset short of the end (a crash-test
    // projection stopped after 1,113 of 6,000 records); the high watermark is asked every time
    // and the larger answer wins (with an open transaction that waits for its end).
    offset = std::max(offset, high);
  }
  return offsets;
}

absl::StatusOr<std::map<int32_t, int64_t>> Consumer::StartOffsets(absl::string_view topic,
                                                                  int32_t partitions,
                                                                  absl::Duration timeout) {
  const std::string topic_name(topic);
  std::map<int32_t, int64_t> offsets;
  for (int32_t partition = 0; partition < partitions; ++partition) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        impl_->client.get(), topic_name.c_str(), partition, &low, &high,
        static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || low < 0) {
      return KafkaErrorToStatus(
          err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : RD_KAFKA_RESP_ERR__BAD_MSG,
          absl::StrCat("start offset of ", topic, "[", partition, "]"));
    }
    offsets[partition] = low;
  }
  return offsets;
}

namespace {

absl::Status PauseOrResume(rd_kafka_t* client, absl::string_view topic, int32_t partition,
                           bool pause) {
  const std::string topic_name(topic);
  internal::PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_name.c_str(), partition);
  const char* what = pause ? "pause " : "resume ";
  const rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(client, list.get())
                                        : rd_kafka_resume_partitions(client, list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(err, absl::StrCat(what, topic, "[", partition, "]"));
  }
  return KafkaErrorToStatus(list->elems[0].err, absl::StrCat(what, topic, "[", partition, "]"));
}

}  // namespace

absl::Status Consumer::Pause(absl::string_view topic, int32_t partition) {
  return PauseOrResume(impl_->client.get(), topic, partition, /*pause=*/true);
}

absl::Status Consumer::Resume(absl::string_view topic, int32_t partition) {
  return PauseOrResume(impl_->client.get(), topic, partition, /*pause=*/false);
}

absl::StatusOr<std::optional<ConsumedRecord>> Consumer::Poll(absl::Duration timeout) {
  ConsumedRecord consumed;
  COOP_ASSIGN_OR_RETURN(const bool polled, PollInto(timeout, consumed));
  if (!polled) return std::nullopt;
  return consumed;
}

namespace {

// Turns a polled message (null: none) into `consumed`.
absl::StatusOr<bool> FillConsumed(internal::MessageHandle message, ConsumedRecord& consumed);

}  // namespace

absl::StatusOr<bool> Consumer::PollInto(absl::Duration timeout, ConsumedRecord& consumed) {
  return FillConsumed(
      internal::MessageHandle(rd_kafka_consumer_poll(
          impl_->client.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)))),
      consumed);
}

absl::Status Consumer::SplitPartitions(absl::string_view topic,
                                       const std::vector<int32_t>& partitions) {
  const std::string topic_name(topic);
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_assignment(impl_->client.get(), &raw); err != 0) {
    return KafkaErrorToStatus(err, "assignment");
  }
  const internal::PartitionListHandle assigned(raw);
  for (const int32_t partition : partitions) {
    if (rd_kafka_topic_partition_list_find(assigned.get(), topic_name.c_str(), partition) ==
        nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(topic, "[", partition, "] is not assigned to this consumer"));
    }
    internal::QueueHandle queue(
        rd_kafka_queue_get_partition(impl_->client.get(), topic_name.c_str(), partition));
    if (queue == nullptr) {
      return absl::InternalError(
          absl::StrCat("librdkafka has no queue for ", topic, "[", partition, "]"));
    }
    rd_kafka_queue_forward(queue.get(), nullptr);  // Off the consumer's queue.
    impl_->partition_queues[partition] = std::move(queue);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Consumer::PollPartitionInto(int32_t partition, absl::Duration timeout,
                                                 ConsumedRecord& consumed) {
  auto it = impl_->partition_queues.find(partition);
  if (it == impl_->partition_queues.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("partition ", partition, " has no queue of its own (SplitPartitions)"));
  }
  return FillConsumed(internal::MessageHandle(rd_kafka_consume_queue(
                          it->second.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)))),
                      consumed);
}

namespace {

absl::StatusOr<bool> FillConsumed(internal::MessageHandle message, ConsumedRecord& consumed) {
  if (message == nullptr) return false;
  if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    consumed.record.key.clear();
    consumed.record.value.clear();
    consumed.record.headers.clear();
    consumed.record.timestamp.reset();
    consumed.end_of_partition = true;
    consumed.position.topic = rd_kafka_topic_name(message->rkt);
    consumed.position.partition = message->partition;
    consumed.position.offset = message->offset;
    consumed.position.timestamp = absl::InfinitePast();
    return true;
  }
  if (message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
    // ConsumerOptions::fail_on_missing_offset: the records at this position are gone.
    return absl::DataLossError(absl::StrCat(
        "records of ", message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "?", "[",
        message->partition, "] at offset ", message->offset,
        " are not in the log (deleted by retention or DeleteRecords, or the topic was "
        "recreated): ",
        rd_kafka_message_errstr(message.get())));
  }
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(message->err,
                              absl::StrCat("consume: ", rd_kafka_message_errstr(message.get())));
  }
  consumed.end_of_partition = false;
  // assign() reuses the strings' storage.
  if (message->key != nullptr) {
    consumed.record.key.assign(static_cast<const char*>(message->key), message->key_len);
  } else {
    consumed.record.key.clear();
  }
  if (message->payload != nullptr) {
    consumed.record.value.assign(static_cast<const char*>(message->payload), message->len);
  } else {
    consumed.record.value.clear();
  }
  std::vector<RecordHeader>& out = consumed.record.headers;
  size_t count = 0;
  rd_kafka_headers_t* headers = nullptr;  // Owned by the message.
  if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (; rd_kafka_header_get_all(headers, count, &name, &value, &size) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
         ++count) {
      if (count == out.size()) out.emplace_back();
      out[count].name.assign(name);
      if (value != nullptr) {
        out[count].value.assign(static_cast<const char*>(value), size);
      } else {
        out[count].value.clear();
      }
    }
  }
  out.resize(count);
  rd_kafka_timestamp_type_t type;
  const int64_t ms = rd_kafka_message_timestamp(message.get(), &type);
  if (ms >= 0) {
    consumed.record.timestamp = absl::FromUnixMillis(ms);
  } else {
    consumed.record.timestamp.reset();
  }
  consumed.position.topic.assign(rd_kafka_topic_name(message->rkt));
  consumed.position.partition = message->partition;
  consumed.position.offset = message->offset;
  consumed.position.timestamp = ms >= 0 ? absl::FromUnixMillis(ms) : absl::InfinitePast();
  return true;
}

}  // namespace

}  // namespace coop::kafka

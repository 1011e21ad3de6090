#include "common/kafka/producer.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/kafka/internal/client_conf.h"
#include "common/kafka/internal/handles.h"
#include "common/kafka/internal/produce.h"
#include "common/kafka/kafka_status.h"
#include "common/status_macros.h"

namespace coop::kafka {
namespace {

constexpr absl::Duration kCloseTimeout = absl::Seconds(10);

// Runs on the poll thread for every record that Produce() queued.
void OnDeliveryReport(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*opaque*/) {
  std::unique_ptr<Producer::DeliveryCallback> callback(
      static_cast<Producer::DeliveryCallback*>(message->_private));
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::move (*callback)(KafkaErrorToStatus(
        message->err, absl::StrCat("deliver record to ", rd_kafka_topic_name(message->rkt))));
    return;
  }
  rd_kafka_timestamp_type_t type;
  const int64_t ms = rd_kafka_message_timestamp(message, &type);
  std::move (*callback)(RecordPosition{
      .topic = rd_kafka_topic_name(message->rkt),
      .partition = message->partition,
      .offset = message->offset,
      .timestamp = ms >= 0 ? absl::FromUnixMillis(ms) : absl::InfinitePast(),
  });
}

}  // namespace

struct Producer::Impl {
  internal::KafkaHandle client;
  std::atomic<bool> stopping{false};
  // Declared last so it is joined (in ~Producer) before the client is destroyed.
  std::thread poller;
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const KafkaConfig& config) {
  COOP_ASSIGN_OR_RETURN(internal::ConfHandle conf,
                        internal::MakeConf(config, {
                                                       {"acks", "all"},
                                                       {"enable.idempotence", "true"},
                                                       {"linger.ms", "5"},
                                                   }));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &OnDeliveryReport);
  auto impl = std::make_unique<Impl>();
  COOP_ASSIGN_OR_RETURN(impl->client, internal::NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  Impl* raw = impl.get();
  impl->poller = std::thread([raw] {
    while (!raw->stopping.load(std::memory_order_acquire)) rd_kafka_poll(raw->client.get(), 50);
  });
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Producer::~Producer() {
  rd_kafka_t* rk = impl_->client.get();
  // rd_kafka_flush serves delivery reports itself, so the poll thread can stop first.
  impl_->stopping.store(true, std::memory_order_release);
  impl_->poller.join();
  if (rd_kafka_flush(rk, static_cast<int>(absl::ToInt64Milliseconds(kCloseTimeout))) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Purged records get their (failed) delivery reports on the next polls.
    const absl::Time deadline = absl::Now() + kCloseTimeout;
    while (rd_kafka_outq_len(rk) > 0 && absl::Now() < deadline) rd_kafka_poll(rk, 50);
  }
}

absl::Status Producer::Produce(absl::string_view topic, const KafkaRecord& record,
                               DeliveryCallback on_delivery) {
  auto callback = std::make_unique<DeliveryCallback>(std::move(on_delivery));
  const rd_kafka_resp_err_t err =
      internal::ProduceRecord(impl_->client.get(), std::string(topic), record, callback.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Nothing was queued: the callback stays ours and is not run.
    return KafkaErrorToStatus(err, absl::StrCat("produce to ", topic));
  }
  callback.release();  // The delivery report takes it back.
  return absl::OkStatus();
}

absl::StatusOr<RecordPosition> Producer::ProduceAndWait(absl::string_view topic,
                                                        const KafkaRecord& record,
                                                        absl::Duration timeout) {
  // Shared with the callback, which may outlive this call when the wait times out.
  struct Result {
    absl::Mutex mu;
    std::optional<absl::StatusOr<RecordPosition>> value ABSL_GUARDED_BY(mu);
  };
  auto result = std::make_shared<Result>();
  COOP_RETURN_IF_ERROR(Produce(topic, record, [result](absl::StatusOr<RecordPosition> r) {
    absl::MutexLock lock(&result->mu);
    result->value = std::move(r);
  }));
  absl::MutexLock lock(&result->mu);
  auto done = [&result]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(result->mu) { return result->value.has_value(); };
  if (!result->mu.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("produce to ", topic, ": no delivery report within ",
                     absl::FormatDuration(timeout), "; the record may still be stored"));
  }
  return std::move(*result->value);
}

int64_t Producer::OutstandingRecords() const { return rd_kafka_outq_len(impl_->client.get()); }

}  // namespace coop::kafka
